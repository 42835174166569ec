"""The room's noise level, so an endpointer can tell a quiet pause from the words.

WebRTC's VAD calls a little steady noise (a microphone's own hiss at -64 dBFS) speech now
and then, often enough that the 0.3 s of silence ending a command never came: on such audio
the fallback recognizer heard no command at all. A frame counts as loud only when it stands
`margin_db` above the noise floor, a low percentile of recent frame energies.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


# The length of the frames whose levels the fallback's VAD, noise floor and echo reference
# judge: one of the three WebRTC's VAD takes (10, 20 or 30 ms), the longest, as the fewest
# calls per second.
FRAME_S = 0.03


def frame_count(seconds: float, frame_s: float = FRAME_S) -> int:
    """How many `frame_s` frames last `seconds` (to the nearest: 0.36 s is 12, not 11.99)."""
    return round(seconds / frame_s)


def frame_db(frame: npt.NDArray[np.int16]) -> float:
    """Mean power of a frame in dB (int16 units; digital silence is 0 dB)."""
    import numpy as np

    samples = frame.astype(np.float32)
    return float(10 * np.log10(np.mean(samples * samples) + 1.0))


class NoiseFloor:
    """Tracks the `percentile` of the frame energies of the last `window_s`.

    The window (6 s) is longer than any command, so a command's own speech cannot lift a
    low percentile of it, and short enough that the floor follows a fan switched on or off
    within seconds.
    """

    def __init__(
        self,
        margin_db: float = 9.0,
        window_s: float = 6.0,
        percentile: float = 10.0,
        frame_s: float = FRAME_S,
    ):
        self.margin_db = margin_db
        self.percentile = percentile
        self.window = frame_count(window_s, frame_s)  # frames
        self._recent: deque[float] = deque(maxlen=self.window)
        self.floor_db = 0.0

    def loud(self, level_db: float, digital_silence: bool = False) -> bool:
        """Add a frame's level; True when it stands out of the noise. A frame of digital
        silence (skill.speech_in.framer.live_start: no sample beyond +-1) is not added: no
        microphone's room is that quiet, so the silence a file or a test is padded with says
        nothing of the room and leaves the floor where the room's own sound put it."""
        import numpy as np

        if digital_silence:
            return False
        self._recent.append(level_db)
        self.floor_db = float(np.percentile(self._recent, self.percentile))
        return level_db > self.floor_db + self.margin_db

    def snr_db(self, levels: list[float]) -> float:
        """How far a segment's loud part (its 90th percentile level) stands above the floor."""
        import numpy as np

        return float(np.percentile(levels, 90)) - self.floor_db if levels else 0.0
