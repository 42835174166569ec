"""Cuts the microphone stream into the fixed frames the endpointer judges.

Sound that follows digital silence starts a new frame: a file's words then fall into the same
frames however much silence it was padded with, so padding cannot move a frame's level across
the noise floor's margin and change the verdict. A microphone never delivers digital silence,
so on live audio this is plain fixed framing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# The frame, how many stream samples it stands for, and whether it is digital silence.
Frame = tuple["npt.NDArray[np.int16]", int, bool]


def live_start(pcm: npt.NDArray[np.int16]) -> int:
    """Index of the first sample that is not digital silence (0 or +-1); len(pcm) if none."""
    import numpy as np

    live = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 1)
    return int(live[0]) if len(live) else len(pcm)


class Framer:
    """Frames of `size` samples from chunks of any length."""

    def __init__(self, size: int):
        self.size = size
        self.reset()

    def reset(self) -> None:
        import numpy as np

        self._pending: npt.NDArray[np.int16] = np.zeros(0, np.int16)
        self._after_silence = True  # the last frame was digital silence, or none came yet
        self._skipped = 0  # digital silence not in any frame yet

    def frames(self, pcm: npt.NDArray[np.int16]) -> list[Frame]:
        """The whole frames `pcm` completes. Digital silence before sound that starts inside
        a frame is in no frame: the sound's first frame stands for it too (so the silence
        counts a little short, never long enough to end a phrase early)."""
        import numpy as np

        data = np.concatenate([self._pending, np.asarray(pcm, dtype=np.int16).reshape(-1)])
        out: list[Frame] = []
        start = 0
        while len(data) - start >= self.size:
            frame = data[start : start + self.size]
            sound = live_start(frame)
            if self._after_silence and 0 < sound < self.size:
                start += sound
                self._skipped += sound
                continue
            self._after_silence = sound == self.size
            out.append((frame, self.size + self._skipped, self._after_silence))
            self._skipped = 0
            start += self.size
        self._pending = data[start:]
        return out
