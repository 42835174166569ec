"""The plan: beats that add up to the total a routine announces, for every routine."""

from __future__ import annotations

import re

import pytest
from test_player_support import real_library, tiny_library

from skill.core.exercise import Library
from skill.core.plan import (
    SENTENCE_PAUSE_S,
    WORDS_PER_SECOND,
    build_plan,
    estimate_speech_seconds,
    planned_total,
)


def _all_routines() -> list[tuple[Library, str]]:
    cases = [(tiny_library(), rid) for rid in tiny_library().routines]
    real = real_library()
    if real is not None:
        cases += [(real, rid) for rid in real.routines]
    return cases


def test_speech_estimate_grows_with_words_and_sentences() -> None:
    assert estimate_speech_seconds("") == 0.0
    one = estimate_speech_seconds("Lift your arm slowly.")
    assert one == pytest.approx(4 / WORDS_PER_SECOND + SENTENCE_PAUSE_S)
    assert estimate_speech_seconds("Lift your arm slowly. Now hold.") > one
    assert estimate_speech_seconds("Lift. Your. Arm. Slowly.") > one  # pauses between sentences


@pytest.mark.parametrize(("library", "routine_id"), _all_routines())
def test_beats_add_up_to_the_announced_total(library: Library, routine_id: str) -> None:
    routine = library.routines[routine_id]
    plan = build_plan(library, routine)
    total = planned_total(library, routine)
    assert total == pytest.approx(sum(plan.beat_seconds(b, 1.0) for b in plan.beats))
    minutes = int(re.search(r"about (\d+) minute", plan.beats[0].text)[1])  # type: ignore[index]
    assert minutes == max(1, round(total / 60))
    # Segments tile the beats with no gap, and every text has its sides filled.
    assert [s.start for s in plan.segments[1:]] == [s.end for s in plan.segments[:-1]]
    assert plan.segments[-1].end == len(plan.beats)
    assert all("{" not in b.text for b in plan.beats)
    steps = {b.step for b in plan.beats if b.step >= 0}
    assert steps == set(range(len(routine.steps)))


@pytest.mark.parametrize(("library", "routine_id"), _all_routines())
def test_pace_scales_only_holds_rests_and_gaps(library: Library, routine_id: str) -> None:
    routine = library.routines[routine_id]
    plan = build_plan(library, routine)
    timed = sum(b.base_s for b in plan.beats if b.timed)
    slow, normal = planned_total(library, routine, 1.5), planned_total(library, routine, 1.0)
    assert slow - normal == pytest.approx(0.5 * timed)


def test_sided_exercise_plan_shape() -> None:
    library = tiny_library()
    plan = build_plan(library, library.routines["tiny"])
    reach = [b for b in plan.beats if b.step == 0]
    kinds = [b.kind for b in reach]
    # left: say, hold, release, gap, count, hold, switch, gap; then right the same, then rest
    assert kinds[:8] == ["say", "hold", "say", "gap", "say", "hold", "say", "gap"]
    assert [b.side for b in reach if b.kind == "hold"] == ["left", "left", "right", "right"]
    assert reach[6].text == "Release. Switch sides." and reach[6].cue == "switch_sides"
    assert reach[-2].text == "Release. Rest. Next: roll." and reach[-1].kind == "rest"
    moves = [b for b in plan.beats if b.kind == "move"]
    assert [b.text for b in moves] == ["One.", "Two.", "Three.", "Four."]
    assert all(b.base_s == 3 for b in moves)


def test_alternating_reps_switch_side_each_time() -> None:
    library = tiny_library()
    plan = build_plan(library, library.routines["other_one"])
    holds = [b for b in plan.beats if b.kind == "hold" and b.base_s == 5]
    assert [b.side for b in holds] == ["left", "right", "left", "right"]
    texts = [b.text for b in plan.beats if b.step == 1 and b.kind == "say"]
    assert "Reach left." in texts[0] and "Two of four. Right side." in texts[2]


def test_the_next_exercise_names_a_doorway_or_wall_to_walk_to() -> None:
    """QA: 'Next: corner stretch.' left ten seconds to walk to a wall corner never named."""
    library = real_library()
    if library is None:
        pytest.skip("the shipped library is not there")
    plan = build_plan(library, library.routines["desk_break"])
    said = " ".join(b.text for b in plan.beats if b.kind == "say")
    assert "Next: corner stretch, at a wall corner." in said
    assert "Next: chair rotation." in said  # from one chair exercise to the next: no place
