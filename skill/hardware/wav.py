"""WAV files in and out (stdlib `wave`): mono 16-bit PCM, with messages a person can act on."""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from skill.errors import UserError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """16-bit PCM WAV -> (mono int16 samples, rate); stereo is averaged."""
    import numpy as np

    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as err:
        raise UserError(
            f"{path}: not a readable WAV file ({err}); convert it, e.g. "
            f"`sox {path.name} -b 16 out.wav`"
        ) from err
    if width != 2:
        raise UserError(
            f"{path}: {8 * width}-bit samples; 16-bit PCM is needed: "
            f"`sox {path.name} -b 16 out.wav`"
        )
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
    mono = samples.mean(axis=1) if channels > 1 else samples[:, 0]
    return mono.astype(np.int16), rate


def write_wav(path: Path, pcm: npt.NDArray[np.int16], rate: int) -> None:
    """Write mono 16-bit PCM atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # Open the file first: wave.open(name) that cannot create it leaves a half-built
        # Wave_write whose destructor prints a traceback of its own.
        with tmp.open("wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm.astype("<i2").tobytes())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {err.strerror}") from err
