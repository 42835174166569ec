"""A real ALSA device on a machine with no sound card, for tests and the benchmark.

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


class FifoMicrophone:
    """Feeds a FIFO used as the file device's microphone at real-time pace.

    Silence flows until `play` queues audio; the reader may close and reopen the device
    (PortAudio does, when a stream stops), so a broken pipe just waits for the next reader.
    """

    BLOCK_S = 0.1  # ALSA's file plugin does not retry a short read: write whole periods

    def __init__(self, path: Path, rate: int) -> None:
        import os
        import threading

        if not path.exists():
            os.mkfifo(path)
        self.path, self.rate = path, rate
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.fed_s = 0.0  # seconds written while a reader was attached
        self._thread = threading.Thread(target=self._run, name="fifo-mic", daemon=True)
        self._thread.start()

    def play(self, pcm: bytes) -> float:
        """Queue raw S16_LE mono audio at `rate`; returns seconds until it has all been fed."""
        with self._lock:
            self._pending.append(pcm)
            return sum(len(p) for p in self._pending) / 2 / self.rate

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def _next_block(self, size: int) -> bytes:
        with self._lock:
            out = b""
            while self._pending and len(out) < size:
                head = self._pending[0]
                take = head[: size - len(out)]
                out += take
                if len(take) == len(head):
                    self._pending.pop(0)
                else:
                    self._pending[0] = head[len(take) :]
        return out + b"\x00" * (size - len(out))

    def _run(self) -> None:
        import os
        import time

        size = int(self.rate * self.BLOCK_S) * 2
        while not self._stop.is_set():
            fd = os.open(self.path, os.O_WRONLY)  # blocks until a reader opens the device
            start = time.monotonic()
            written = 0
            try:
                while not self._stop.is_set():
                    os.write(fd, self._next_block(size))
                    written += 1
                    self.fed_s += self.BLOCK_S
                    time.sleep(max(0.0, start + written * self.BLOCK_S - time.monotonic()))
            except BrokenPipeError:
                pass
            finally:
                os.close(fd)

    def stop(self) -> None:
        """Stop feeding; a reader still attached then sees the microphone go away."""
        self._stop.set()
