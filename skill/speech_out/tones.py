"""Short cue tones made in code: no files to ship, and they never need the voice.

Each note has a raised-cosine attack and release, so tones start and stop without clicks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# name -> notes as (frequency Hz, duration s); 0 Hz is a rest.
CUES: dict[str, tuple[tuple[float, float], ...]] = {
    "hold_start": ((660.0, 0.12), (0.0, 0.03), (880.0, 0.18)),
    "hold_end": ((880.0, 0.12), (0.0, 0.03), (660.0, 0.22)),
    "switch_sides": ((784.0, 0.1), (0.0, 0.05), (784.0, 0.1), (0.0, 0.05), (988.0, 0.16)),
    "tick": ((1000.0, 0.05),),
}
AMPLITUDE = 0.3  # well under speech level: a cue, not an alarm
FADE_S = 0.01


def note(freq: float, seconds: float, rate: int) -> npt.NDArray[np.float32]:
    import numpy as np

    n = round(seconds * rate)
    if freq <= 0:
        return np.zeros(n, dtype=np.float32)
    t = np.arange(n) / rate
    wave = np.sin(2 * np.pi * freq * t)
    fade = min(round(FADE_S * rate), n // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
    envelope = np.ones(n)
    envelope[:fade] = ramp
    envelope[n - fade :] = ramp[::-1]
    return (wave * envelope).astype(np.float32)


def render(name: str, rate: int) -> npt.NDArray[np.int16]:
    """The cue as mono int16 at `rate`; KeyError names the known cues."""
    import numpy as np

    if name not in CUES:
        raise KeyError(f"unknown cue {name!r}; known: {', '.join(CUES)}")
    signal = np.concatenate([note(f, s, rate) for f, s in CUES[name]])
    return (signal * AMPLITUDE * 32767).astype(np.int16)
