"""Where the words are in a stretch of audio, found from the audio itself, so that the same words
give the same samples to judge whatever silence surrounds them (skill.speech_in.asr_sphinx)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skill.speech_in.asr import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CUT_WINDOW_S = 0.01  # the power window that finds where speech begins and ends


def speech_cut(
    pcm: npt.NDArray[np.int16], below_peak_db: float, pad_s: float, floor_db: float = 0.0
) -> tuple[int, int]:
    """[start, end) in samples: `pad_s` around the 10 ms windows whose mean power (in dB, as
    frame_db) is within `below_peak_db` of the loudest one's and above `floor_db`. Every
    window start is tried, so the cut moves with the words sample by sample; it may reach
    outside `pcm` (the caller fills silence)."""
    import numpy as np

    window = round(CUT_WINDOW_S * SAMPLE_RATE)
    pad = round(pad_s * SAMPLE_RATE)
    if len(pcm) < window:
        return -pad, len(pcm) + pad
    squares = np.concatenate([[0.0], np.cumsum(pcm.astype(np.float64) ** 2)])
    power = (squares[window:] - squares[:-window]) / window
    threshold = max(power.max() * 10 ** (-below_peak_db / 10), 10 ** (floor_db / 10) - 1)
    loud = np.flatnonzero(power >= threshold)
    if len(loud) == 0:  # nothing above the room: the whole of it
        return -pad, len(pcm) + pad
    return int(loud[0]) - pad, int(loud[-1]) + window + pad


def cut_out(pcm: npt.NDArray[np.int16], start: int, end: int) -> npt.NDArray[np.int16]:
    """pcm[start:end], with digital silence where the span reaches outside it."""
    import numpy as np

    before = np.zeros(max(0, -start), np.int16)
    after = np.zeros(max(0, end - len(pcm)), np.int16)
    return np.concatenate([before, pcm[max(0, start) : max(0, end)], after])
