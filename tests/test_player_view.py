"""The page's view of the player: what it shows while idle, holding, paused and at the end."""

from __future__ import annotations

from test_player_support import run_until, start, tiny_library

from skill.core.events import Command
from skill.core.player_view import view_of
from skill.core.simulate import Simulation


def holding(sim: Simulation) -> bool:
    beat = sim.player.beat
    return beat is not None and beat.kind == "hold" and sim.player.phase == "timed"


def test_idle_view_names_no_routine_but_the_one_a_start_would_begin() -> None:
    sim = Simulation(tiny_library())
    view = view_of(sim.player)
    assert view["mode"] == "idle" and view["routine"] is None
    assert view["default_routine"] == "tiny"


def test_hold_counts_down_in_whole_seconds_with_exercise_side_rep_and_next() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, holding)
    first = view_of(sim.player)
    assert first["doing"] == "hold" and first["timed"] is True
    assert first["hold_s"] == 10 and first["remaining_s"] == 10
    ex = first["exercise"]
    assert (ex["name"], ex["side"], ex["rep"], ex["reps"]) == ("reach", "left", 1, 2)
    assert (ex["number"], ex["of"]) == (1, 3)
    assert first["next"] == "reach, right side"
    sim.advance_to(sim.now + 3.5)
    later = view_of(sim.player)
    assert later["remaining_s"] == 7  # 6.5 s left shows as 7: the count reaches 0 at the end
    assert later["progress"] > first["progress"] > 0


def test_paused_view_freezes_the_countdown() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, holding)
    sim.advance_to(sim.now + 2.0)
    sim.send(Command("pause"))
    paused = view_of(sim.player)
    sim.advance_to(sim.now + 5.0)
    assert view_of(sim.player) == paused
    assert paused["mode"] == "paused" and paused["remaining_s"] == 8


def test_progress_only_grows_through_a_whole_routine_and_ends_idle() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    seen: list[float] = []
    while sim.player.mode != "idle" and sim.now < 3600:
        seen.append(view_of(sim.player)["progress"])
        sim.advance_to(sim.now + 0.5)
    assert seen == sorted(seen) and seen[0] < 0.05 and seen[-1] > 0.95
    assert view_of(sim.player)["routine"] is None


def test_progress_follows_a_change_of_pace() -> None:
    """The sums behind the progress are kept between views; a new pace must not reuse them."""
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, holding)
    player = sim.player
    assert player.plan is not None

    def expected() -> float:
        plan, speech = player.plan, player.settings.speech_seconds
        assert plan is not None
        left = (player.remaining_hold or 0.0) + plan.seconds_from(player.index + 1, player.pace)
        return round(1.0 - left / plan.seconds_from(0, player.pace, speech), 3)

    assert view_of(player)["progress"] == expected()
    sim.send(Command("slower"))
    assert player.pace > 1.0
    assert view_of(player)["progress"] == expected()


def test_a_repeat_shows_the_rep_the_coach_counts_its_way_back_into() -> None:
    """While the instructions are said again on the way back to rep 2, the page showed rep 1
    although the coach said "Two of two"."""
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, lambda s: holding(s) and s.player.beat is not None and s.player.beat.rep == 2)
    sim.send(Command("repeat"))
    assert sim.player.phase == "say"  # the instructions, on the way back to the hold
    ex = view_of(sim.player)["exercise"]
    assert (ex["rep"], ex["reps"], ex["side"]) == (2, 2, "left")
