"""The measuring harness itself: what it counts as latency."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from skill.core.events import Command
from skill.speech_in.asr import Hearing
from skill.tools.asr_eval import Clip, run_clip
from tests.engine_fakes import NoHooks

RATE = 16000


class SlowDecoder(NoHooks):
    """Works for `busy_s` when the stream reaches `busy_at_s` (a Pi-slow early decode), then
    says "next" at `decide_at_s`. Only the harness is under test here: the real engines are
    measured in test_asr_sphinx and test_asr_vosk."""

    name = "slow"

    def __init__(self, busy_at_s: float, busy_s: float, decide_at_s: float) -> None:
        self.busy_at, self.busy_s = int(busy_at_s * RATE), busy_s
        self.decide_at = int(decide_at_s * RATE)
        self.fed = 0

    def reset(self) -> None:
        self.fed = 0

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
        before, self.fed = self.fed, self.fed + len(pcm)
        if before < self.busy_at <= self.fed:
            time.sleep(self.busy_s)
        if before < self.decide_at <= self.fed:
            return [Hearing("next", Command("next"), 0.9, self.name, True, "", self.fed / RATE)]
        return []

    def flush(self) -> list[Hearing]:
        return []


def test_a_slow_decode_delays_the_decision_after_it() -> None:
    """Words end at 1.0 s; a 0.4 s decode starts at 1.1 s, so the engine only gets to the
    deciding chunk (1.3 s) at 1.5 s: 500 ms, not the 300 ms the stream position says."""
    clip = Clip("next", np.zeros(2 * RATE, dtype=np.int16), "next", speech_end_s=1.0)
    outcome = run_clip(SlowDecoder(busy_at_s=1.1, busy_s=0.4, decide_at_s=1.3), clip)
    assert outcome.correct
    assert outcome.latency_ms is not None and outcome.latency_ms >= 490
