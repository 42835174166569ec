"""A real ALSA device for tests on a machine with no sound card.

ALSA's `file` plugin (over the `null` plugin) writes everything played to a raw file and
reads the microphone from another file (or a FIFO, to feed it at real-time pace).
PortAudio, and so sounddevice, sees it as an ordinary ALSA device named "default".
The null plugin is not paced in real time: code under test must pace itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG = """\
pcm.null {{ type null }}
pcm.default {{
  type asym
  playback.pcm "speaker"
  capture.pcm "mic"
  hint.description "Stretch Coach test device"
}}
pcm.speaker {{
  type plug
  slave {{
    pcm {{ type file; slave.pcm "null"; file "{speaker}"; format "raw" }}
    rate {speaker_rate}
    format S16_LE
    channels {channels}
  }}
  hint.description "speaker written to a file"
}}
pcm.mic {{
  type plug
  slave {{
    pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{mic}"; format "raw" }}
    rate {mic_rate}
    format S16_LE
    channels 1
  }}
  hint.description "microphone read from a file"
}}
"""


@dataclass(frozen=True)
class FileAudioDevice:
    config: Path
    speaker: Path  # raw S16_LE, speaker_rate, `channels` channels
    mic: Path  # raw S16_LE mono at mic_rate (a file or a FIFO)
    speaker_rate: int
    mic_rate: int
    channels: int

    def env(self) -> dict[str, str]:
        return {"ALSA_CONFIG_PATH": str(self.config)}


def make_device(
    folder: Path,
    *,
    speaker_rate: int = 48000,
    mic_rate: int = 48000,
    channels: int = 1,
    mic: Path | None = None,
) -> FileAudioDevice:
    """Write an ALSA config in `folder` whose default device plays to and records from files."""
    folder.mkdir(parents=True, exist_ok=True)
    speaker = folder / "speaker.raw"
    mic = mic or folder / "mic.raw"
    if not mic.exists():
        mic.write_bytes(b"")
    config = folder / "asound.conf"
    config.write_text(
        CONFIG.format(
            speaker=speaker,
            mic=mic,
            speaker_rate=speaker_rate,
            mic_rate=mic_rate,
            channels=channels,
        )
    )
    return FileAudioDevice(config, speaker, mic, speaker_rate, mic_rate, channels)
