"""How loud the coach's own voice should be at the microphone, from what the speaker plays.

The fallback recognizer finds commands in segments of speech, and while the coach talks its
echo is speech too: a "stop" said over it ended up inside one long segment with the coach's
words and was never heard (0 of 31 measured). The speaker knows what it plays, so this is
Geigel-style double-talk detection: a microphone frame is the person only when it is louder
than the loudest played frame nearby (echo delay and room reverb) plus the room's coupling
(how much quieter the echo arrives, learned while the coach talks) plus a margin.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from skill.speech_in.noise_floor import FRAME_S, frame_count, frame_db

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Levels = list[float]  # dB per frame of what the speaker plays


def frame_levels(pcm: npt.NDArray[np.int16], rate: int, frame_s: float) -> Levels:
    """The level of each `frame_s` frame of played audio (any rate: levels ignore it)."""
    n = max(1, round(rate * frame_s))
    return [frame_db(pcm[i : i + n]) for i in range(0, len(pcm) - n + 1, n)]


@dataclass
class EchoReference:
    """Decides per microphone frame whether the person is talking over the coach.

    Frames (of `frame_s`) are counted on the recognizer's own clock. `lookback_s` covers
    the echo's delay and reverb tail, `lookahead_s` a playback clock that runs early.
    """

    frame_s: float = FRAME_S
    lookback_s: float = 0.36  # output latency plus a room's reverb
    max_delay_s: float = 0.21  # the longest output latency allowed (wired speakers)
    lookahead_s: float = 0.12  # the speaker may be told of a sentence after it began
    margin_db: float = 6.0
    # Echo heard before the coupling is trusted: a few syllables, so that its loudest are
    # among them (0.24 s missed them: 27 of 352 coach sentences were heard).
    min_history_s: float = 0.9
    # The coupling is learned over this much of the latest echo: a few sentences.
    history_s: float = 9.0
    # The echo's loudest frames against the played level nearby: a high percentile, as the
    # echo often falls well below the loudest frame of the last 0.3 s.
    percentile: float = 90.0
    # The same spans in frames, as the clock counts them.
    lookback: int = field(init=False)
    max_delay: int = field(init=False)
    lookahead: int = field(init=False)
    min_history: int = field(init=False)
    _levels: Levels = field(default_factory=list)
    _start: int = 0
    _loud_db: float = 0.0  # played frames this loud show the coupling (not pauses)
    _onset: int = 0  # the first loud played frame
    _history: deque[float] = field(init=False)

    def __post_init__(self) -> None:
        self.lookback = frame_count(self.lookback_s, self.frame_s)
        self.max_delay = frame_count(self.max_delay_s, self.frame_s)
        self.lookahead = frame_count(self.lookahead_s, self.frame_s)
        self.min_history = frame_count(self.min_history_s, self.frame_s)
        self._history = deque(maxlen=frame_count(self.history_s, self.frame_s))

    def play(self, levels: Levels, frame: int) -> None:
        """The speaker started playing `levels` at `frame`."""
        self._levels = list(levels)
        self._start = frame
        self._loud_db = max(self._levels, default=0.0) - 20.0
        loud = [i for i, level in enumerate(self._levels) if level >= self._loud_db]
        self._onset = loud[0] if loud else 0  # sentences begin with a little silence

    def stop(self, frame: int) -> None:
        """Playback ended or was cut at `frame`; its echo still rings for `lookback`."""
        self._levels = self._levels[: max(0, frame - self._start)]

    def echo_db(self, frame: int) -> float | None:
        """The loudest played level that can reach the microphone at `frame`; None when
        nothing played near it, so the caller judges the frame as usual."""
        i = frame - self._start
        lo, hi = max(0, i - self.lookback), min(len(self._levels), i + self.lookahead + 1)
        return max(self._levels[lo:hi]) if lo < hi else None

    def _echo_arrived(self, frame: int) -> bool:
        """Past the longest delay allowed: before it, the look-ahead sees the sentence that
        the microphone may not hear yet, which says nothing about the coupling."""
        return self._onset + self.max_delay <= frame - self._start < len(self._levels)

    def person(self, mic_db: float, frame: int) -> bool | None:
        """True when the frame stands out of the expected echo; None when nothing plays."""
        import numpy as np

        played = self.echo_db(frame)
        if played is None:
            return None
        excess = mic_db - played
        enough = len(self._history) >= self.min_history
        peak = float(np.percentile(self._history, self.percentile)) if enough else None
        person = peak is not None and excess > peak + self.margin_db
        if self._echo_arrived(frame) and played >= self._loud_db and not person:
            self._history.append(excess)  # the echo alone: the person's words would raise it
        return person
