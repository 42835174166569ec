"""The one tick rule of the service, the demo and the simulator."""

from __future__ import annotations

from skill.core.ticker import Ticker


def test_a_tick_is_due_at_once_then_a_period_after_the_last_one() -> None:
    now = [5.0]
    ticker = Ticker(lambda: now[0], period_s=0.1)
    assert ticker.due()  # the first check: the player is ticked at start
    now[0] = 5.05
    assert not ticker.due()
    now[0] = 5.13  # late: the next one is counted from here, not from 5.1
    assert ticker.due()
    now[0] = 5.2
    assert not ticker.due()
    now[0] = 5.23
    assert ticker.due()


def test_the_default_rate_is_a_tenth_of_a_second() -> None:
    now = [0.0]
    ticker = Ticker(lambda: now[0])
    times = []
    for step in range(100):  # one second in 10 ms steps
        now[0] = step * 0.01
        if ticker.due():
            times.append(now[0])
    assert len(times) == 10
