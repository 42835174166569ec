"""The microphone through the real PortAudio/ALSA path, on the `file`-plugin test device.

Each case runs in a subprocess: sounddevice reads the ALSA config when first imported, so
ALSA_CONFIG_PATH must be set before that, in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skill.hardware.microphone import BUSY_HINT, MicrophoneError, explain
from skill.tools.file_audio import make_device

REPO = Path(__file__).resolve().parent.parent

CAPTURE = """
import json, sys, time
import numpy as np
from skill.hardware.microphone import Microphone, MicrophoneError
chunks, lost = [], []
try:
    mic = Microphone(device=None if sys.argv[1] == "-" else sys.argv[1],
                     on_chunk=chunks.append, on_lost=lost.append)
    mic.start()
except MicrophoneError as err:
    print(json.dumps({"error": str(err)}))
    raise SystemExit(0)
deadline = time.monotonic() + 5
while sum(map(len, chunks)) < 16000 and time.monotonic() < deadline:
    time.sleep(0.01)
mic.stop()
pcm = np.concatenate(chunks)[:16000]
np.save(sys.argv[2], pcm)
print(json.dumps({"rate": mic.rate, "dtype": str(pcm.dtype), "lost": lost, "mic_lost": mic.lost,
                  "chunk_sizes": sorted({len(c) for c in chunks})}))
"""


def run_capture(tmp_path: Path, device: str = "-") -> dict[str, object]:
    env = {**os.environ, **DEVICE_ENV[tmp_path], "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", CAPTURE, device, str(tmp_path / "pcm.npy")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


DEVICE_ENV: dict[Path, dict[str, str]] = {}


@pytest.fixture
def mic_48k(tmp_path: Path) -> Path:
    """A 48 kHz microphone that hears 0.5 s of 440 Hz, then 0.5 s of 1000 Hz."""
    device = make_device(tmp_path / "dev", mic_rate=48000)
    t = np.arange(24000) / 48000
    tones = np.concatenate([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 1000 * t)])
    device.mic.write_bytes((8000 * tones).astype("<i2").tobytes())
    DEVICE_ENV[tmp_path] = device.env()
    return tmp_path


def peak_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(np.argmax(spectrum) * 16000 / len(pcm))


def test_48k_device_gives_16k_int16_chunks_with_the_same_sound(mic_48k: Path) -> None:
    info = run_capture(mic_48k)
    assert info["rate"] == 48000 and info["dtype"] == "int16"
    pcm = np.load(mic_48k / "pcm.npy").astype(np.float64)
    # 0.5 s at 16 kHz is 8000 samples: the first half is the 440 Hz tone, the second 1000 Hz.
    assert abs(peak_hz(pcm[1000:7000]) - 440) < 5
    assert abs(peak_hz(pcm[9000:15000]) - 1000) < 5
    assert 7000 < np.abs(pcm[1000:7000]).max() < 9000  # level kept through resampling
    assert info["lost"] == [] and info["mic_lost"] is None  # stop() is not a lost device


def test_unknown_device_is_a_clear_error(mic_48k: Path) -> None:
    info = run_capture(mic_48k, device="no-such-microphone")
    assert "error" in info
    assert "no-such-microphone" in str(info["error"]) or "arecord -l" in str(info["error"])


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Error opening InputStream: Device unavailable [PaErrorCode -9985]", "fuser -v /dev/snd"),
        ("Device or resource busy", "another program holds the microphone"),
        ("Error querying device -1: no default input device", "no microphone found"),
        # What sounddevice says on a machine with no sound card (no default device).
        ("Error querying device -1", "no microphone found (Error querying device -1)"),
        ("Invalid number of channels [PaErrorCode -9998]", "no input channels"),
    ],
)
def test_portaudio_errors_become_advice(message: str, expected: str) -> None:
    assert expected in explain(Exception(message), None)


def test_the_readme_symptom_of_no_microphone_is_what_the_log_says() -> None:
    """QA: the README's "no microphone found" was, on a box with no sound card, logged as
    "cannot open the default input: Error querying device -1"."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = next(ln for ln in readme.splitlines() if "LED blinks fast" in ln)
    symptom = row.split('"')[1]
    assert explain(Exception("Error querying device -1"), None).startswith(symptom)


def test_busy_hint_names_the_tool() -> None:
    assert "fuser -v /dev/snd/*" in BUSY_HINT
    assert issubclass(MicrophoneError, Exception)
