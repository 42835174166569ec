"""When the player is next due a Tick, on whatever clock drives it.

The service (the monotonic clock), the demo (seconds of microphone audio fed) and the
simulator (virtual time) all tick the player at one rate, counted from the last Tick sent,
so a session behaves the same in each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The player's holds, rests and countdowns advance on Ticks: a tenth of a second is finer
# than anything the person hears or sees, and costs nothing.
TICK_S = 0.1


@dataclass
class Ticker:
    """Says when a Tick is due on `clock`: at the first check, then `period_s` after the
    last one it allowed."""

    clock: Callable[[], float]
    period_s: float = TICK_S
    _next: float = float("-inf")

    def due(self) -> bool:
        now = self.clock()
        if now < self._next:
            return False
        self._next = now + self.period_s
        return True
