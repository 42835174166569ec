"""Random commands, ticks and device events never break the player; stop always ends a session."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_player_support import tiny_library

from skill.core.events import COMMANDS, Command, DeviceProblem, RecordSession
from skill.core.simulate import Simulation

LIBRARY = tiny_library()
ROUTINE_ARGS = ["", "tiny", "other one", "no such routine"]

command = st.builds(
    lambda name, routine: Command(
        name, {"routine": routine} if name == "start" and routine else {}
    ),
    st.sampled_from(COMMANDS),
    st.sampled_from(ROUTINE_ARGS),
)
device = st.builds(DeviceProblem, st.sampled_from(["microphone", "speaker"]), st.booleans())
# Each step: let some virtual time pass (with ticks and speech), then deliver one event.
step = st.tuples(st.floats(min_value=0.0, max_value=40.0), st.one_of(command, command, device))


@settings(
    max_examples=1000,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(step, max_size=40), st.sampled_from([0.1, 0.5, None]))
def test_random_sessions_never_break_the_player(
    steps: list[tuple[float, Command | DeviceProblem]], tick: float | None
) -> None:
    sim = Simulation(LIBRARY, tick=tick)
    player = sim.player
    for wait, event in steps:
        sim.advance_to(sim.now + wait)
        sim.send(event)
        assert player.mode in ("idle", "running", "paused")
        remaining = player.remaining_hold
        assert remaining is None or remaining >= 0.0
        if player.mode == "idle":
            assert player.routine_id is None and remaining is None
        else:
            assert player.routine_id in LIBRARY.routines
        if isinstance(event, Command) and event.name == "stop":
            assert player.mode == "idle"
    sim.send(Command("stop"))
    assert player.mode == "idle"
    records = [a.record for a in sim.actions if isinstance(a, RecordSession)]
    # one record at most a session, none for a session stopped before its first hold; its
    # active time (kept to 0.1 s) within its span
    assert len(records) <= _sessions_begun(sim)
    assert all(0.0 <= r["active_s"] <= r["ended_at"] - r["started_at"] + 0.05 for r in records)


def _sessions_begun(sim: Simulation) -> int:
    """Sessions begin with a 'starting/resuming routine' log line; each ends with one record."""
    from skill.core.events import Log

    return sum(
        1
        for a in sim.actions
        if isinstance(a, Log) and a.message.startswith(("starting routine", "resuming routine"))
    )
