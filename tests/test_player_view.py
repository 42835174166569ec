"""The page's view of the player: what it shows while idle, holding, paused and at the end."""

from __future__ import annotations

import pytest
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


def _cut_in_the_second_exercise() -> tuple[dict[str, object], float]:
    """The place a power cut leaves during roll's moving reps, and when it was saved."""
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, lambda s: s.player.beat is not None and s.player.beat.step == 1)
    sim.advance_to(sim.now + 2.0)
    saved = sim.player.snapshot()
    assert saved is not None
    return dict(saved), sim.wall_start + sim.now


def test_idle_view_offers_the_interrupted_session_a_resume_would_pick_up() -> None:
    """QA: after a power cut the coach offered to resume, but the page's idle view said
    nothing of it, so a phone-only user could only start afresh and lose the place."""
    saved, saved_wall = _cut_in_the_second_exercise()
    sim = Simulation(tiny_library(), saved=saved, wall_start=saved_wall + 600)
    view = view_of(sim.player)
    assert view["mode"] == "idle" and view["routine"] is None
    assert view["resumable"] == {
        "routine": "tiny",
        "name": "tiny",
        "exercise": "roll",
        "saved_at": saved_wall,
    }
    sim.send(Command("resume", source="web"))
    resumed = view_of(sim.player)
    assert resumed["routine"]["id"] == "tiny" and "resumable" not in resumed


def test_idle_view_offers_nothing_a_resume_would_not_pick_up() -> None:
    """Only what resumable_routine() allows: nothing saved, too old, or no longer fitting."""
    saved, saved_wall = _cut_in_the_second_exercise()
    assert view_of(Simulation(tiny_library()).player)["resumable"] is None
    unknown = {**saved, "routine": "gone"}
    sim = Simulation(tiny_library(), saved=unknown, wall_start=saved_wall + 600)
    assert view_of(sim.player)["resumable"] is None
    sim = Simulation(tiny_library(), saved=saved, wall_start=saved_wall + 600)
    assert view_of(sim.player)["resumable"] is not None
    sim.wall_start += 13 * 3600  # the same player, past the resume window: the offer goes
    assert view_of(sim.player)["resumable"] is None


def test_a_started_routine_replaces_the_offer() -> None:
    saved, saved_wall = _cut_in_the_second_exercise()
    sim = Simulation(tiny_library(), saved=saved, wall_start=saved_wall + 600)
    start(sim, "other_one")
    sim.send(Command("stop"))
    assert sim.player.mode == "idle"
    assert view_of(sim.player)["resumable"] is None


def test_the_offer_is_located_once_not_at_every_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service asks for a view ten times a second; locating builds the routine's plan."""
    saved, saved_wall = _cut_in_the_second_exercise()
    sim = Simulation(tiny_library(), saved=saved, wall_start=saved_wall + 600)
    located: list[object] = []
    locate = sim.player._locate
    monkeypatch.setattr(sim.player, "_locate", lambda s: located.append(s) or locate(s))
    for _ in range(10):
        assert view_of(sim.player)["resumable"] is not None
    assert len(located) == 1
