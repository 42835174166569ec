"""Going back into a place (resume after a restart, repeat), and moving at the edges of a
routine (the props wait, the intro, the closing words): what the person hears must match
what the coach does next."""

from __future__ import annotations

from typing import Any

import pytest
from test_player_support import real_library, run_until, start, tiny_library

from skill.core import phrases
from skill.core.events import Command, RecordSession, SaveProgress, Speak, StopSpeech
from skill.core.exercise import Library
from skill.core.plan import build_plan
from skill.core.player import SAVE_EVERY_S
from skill.core.simulate import Simulation

TICK = 0.1
HANDS_AND_KNEES = "Come onto your hands and knees."  # cat-cow's setup


@pytest.fixture(scope="module")
def library() -> Library:
    lib = real_library()
    assert lib is not None
    return lib


def at(sim: Simulation, kind: str, step: int, rep: int, side: str | None = None) -> bool:
    """The player is timing beat `kind` of that step, rep (and side)."""
    beat = sim.player.beat
    return (
        sim.player.phase == "timed"
        and beat is not None
        and (beat.kind, beat.step, beat.rep) == (kind, step, rep)
        and (side is None or beat.side == side)
    )


def said_since(sim: Simulation, count: int) -> list[str]:
    return [a.text for a in sim.actions[count:] if isinstance(a, Speak)]


def resumed(library: Library, snap: dict[str, object]) -> Simulation:
    """A new player, ten minutes later, told to resume `snap`."""
    sim = Simulation(library, saved=snap, wall_start=1_700_000_000.0 + 600)
    sim.send(Command("resume"))
    return sim


def snapshot_at(library: Library, kind: str, step: int, rep: int, left: float) -> dict[str, Any]:
    """quick_stretch saved with `left` seconds of that beat to go (left side)."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, kind, step, rep, "left" if step == 1 else None))
    assert sim.player.remaining_hold is not None
    sim.advance_to(sim.now + sim.player.remaining_hold - left)
    snap = sim.player.snapshot()
    assert snap is not None and snap["remaining"] == pytest.approx(left, abs=TICK)
    return snap


# --- bug 1: resume and repeat count the rep they go back to ---------------------------------


def test_resume_in_rep_three_counts_rep_three_then_holds_what_was_left(library: Library) -> None:
    """QA: 'Hold. One of three.', a silent 5.8 s, then 'Switch sides': reps 2-3 unheard."""
    sim = resumed(library, snapshot_at(library, "hold", step=1, rep=3, left=5.8))
    opening = sim.spoken()[1]
    assert opening.startswith("Side-lying rotation.") and "Lie on your left side." in opening
    assert "Left side. Three of three. Lie" in opening and opening.endswith("Hold."), opening
    assert "One of three." not in opening
    run_until(sim, lambda s: at(s, "hold", step=1, rep=3))
    assert sim.player.remaining_hold == pytest.approx(5.8, abs=TICK)
    assert len(sim.spoken()) == 2  # straight from the count into the hold
    run_until(sim, lambda s: s.player.beat is not None and s.player.beat.side == "right")
    words = [a.text for a in sim.actions if isinstance(a, Speak) and a.kind != "count"]
    assert words[2] == "Come back to the middle. Roll onto your other side."


def test_a_break_during_the_resumed_instructions_keeps_the_rep_count(library: Library) -> None:
    sim = resumed(library, snapshot_at(library, "hold", step=1, rep=3, left=5.8))
    sim.advance_to(2.0)
    sim.send(Command("pause"))
    sim.send(Command("resume"))
    assert "Three of three. Lie" in sim.spoken()[-1], sim.spoken()[-1]
    run_until(sim, lambda s: at(s, "hold", step=1, rep=3))
    assert sim.player.remaining_hold == pytest.approx(5.8, abs=TICK)


def test_resume_in_the_rest_after_an_exercise_says_what_comes_next(library: Library) -> None:
    """QA: cat-cow's whole setup again, a 6.8 s rest, then the next exercise (cat-cow skipped)."""
    sim = resumed(library, snapshot_at(library, "rest", step=0, rep=0, left=6.8))
    assert sim.spoken()[1:] == ["Relax. Rest. Next: side-lying rotation."]
    run_until(sim, lambda s: at(s, "rest", step=0, rep=0))
    assert sim.player.remaining_hold == pytest.approx(6.8, abs=TICK)
    run_until(sim, lambda s: s.player.beat is not None and s.player.beat.step == 1)
    assert sim.spoken()[-1].startswith("Side-lying rotation.")
    assert not any(HANDS_AND_KNEES in t for t in sim.spoken())


def test_resume_in_the_gap_before_a_rep_counts_that_rep_with_a_full_hold(
    library: Library,
) -> None:
    snap = snapshot_at(library, "gap", step=1, rep=3, left=1.0)
    sim = resumed(library, snap)
    assert "Three of three. Lie" in sim.spoken()[1]
    run_until(sim, lambda s: at(s, "hold", step=1, rep=3))
    assert sim.player.remaining_hold == pytest.approx(10.0, abs=TICK)
    assert len(sim.spoken()) == 2


def test_repeat_in_rep_three_counts_rep_three_once(library: Library) -> None:
    """QA: '...Hold. One of three.' then at once 'Three of three. Back into the stretch.'"""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "hold", step=1, rep=3, side="left"))
    before = len(sim.actions)
    sim.send(Command("repeat"))
    run_until(sim, lambda s: at(s, "hold", step=1, rep=3))
    said = said_since(sim, before)
    assert said[0] == phrases.ACKS["repeat"]
    assert "Three of three. Lie" in said[1] and "One of three." not in said[1]
    assert len(said) == 2, said
    assert sim.player.remaining_hold == pytest.approx(10.0, abs=TICK)


def test_repeat_in_an_alternating_rep_names_that_reps_side() -> None:
    sim = Simulation(tiny_library())
    start(sim, "other_one")
    run_until(sim, lambda s: at(s, "hold", step=1, rep=2))  # bird: rep 2 is the right side
    sim.send(Command("repeat"))
    opening = sim.spoken()[-1]
    assert opening.endswith("Two of four. Right side. Reach right. Hold."), opening
    assert "left" not in opening.lower()
    run_until(sim, lambda s: at(s, "hold", step=1, rep=2, side="right"))


def test_every_rep_a_repeat_goes_back_to_is_pre_rendered() -> None:
    for library in filter(None, (tiny_library(), real_library())):
        known = phrases.all_phrases(library)
        for routine in library.routines.values():
            plan = build_plan(library, routine)
            for index, beat in enumerate(plan.beats):
                if beat.kind not in ("hold", "move") or beat.rep < 2:
                    continue
                text = plan.opening(plan.segment_of(index).index, beat.rep)
                missing = set(phrases.split_sentences(text)) - known
                assert not missing, (routine.id, missing)


# --- bug 2: back in the props wait or the intro stays there -----------------------------------


def waiting_for_props(library: Library) -> Simulation:
    sim = Simulation(library, ready_after_s=None)
    start(sim, "quick_stretch")
    sim.advance_to(20.0)
    assert sim.player.phase == "ready"
    return sim


def still_waiting(sim: Simulation) -> bool:
    beat = sim.player.beat
    return sim.player.phase == "ready" and beat is not None and beat.step < 0


def test_back_while_waiting_for_the_props_keeps_waiting(library: Library) -> None:
    """QA: 'From the top of this one.' then cat-cow, with no props and no 'ready'."""
    sim = waiting_for_props(library)
    for _ in range(2):  # the page's Back button twice: still nothing before
        sim.send(Command("back"))
        assert still_waiting(sim) and sim.player.mode == "running"
        said = sim.spoken()[-1]
        assert said.startswith(phrases.NOTHING_BEFORE)
        assert "You need a blanket. Say ready when you have it." in said
        assert set(phrases.split_sentences(said)) <= phrases.all_phrases(library)
    assert phrases.ACKS["back_same"] not in sim.spoken()
    sim.advance_to(sim.now + 25.0)  # no reminder yet: the request was just said
    assert not any(t.startswith("I am waiting") for t in sim.spoken())
    sim.send(Command("ready"))
    assert sim.player.beat is not None and sim.player.beat.step == 0


def test_back_while_paused_in_the_props_wait_keeps_waiting(library: Library) -> None:
    sim = waiting_for_props(library)
    sim.send(Command("pause"))
    sim.send(Command("back"))
    assert still_waiting(sim) and sim.player.mode == "running"
    assert "Say ready when you have it." in sim.spoken()[-1]


def test_back_during_the_intro_lets_it_go_on(library: Library) -> None:
    sim = Simulation(library, ready_after_s=None)
    start(sim, "quick_stretch")
    sim.advance_to(2.0)
    actions = sim.send(Command("back"))
    assert not any(isinstance(a, StopSpeech) for a in actions)
    assert [a.text for a in actions if isinstance(a, Speak)] == [phrases.NOTHING_BEFORE]
    sim.advance_to(20.0)
    assert still_waiting(sim)
    tiny = Simulation(tiny_library())  # no props: the intro, then the first exercise
    start(tiny)
    tiny.advance_to(1.0)
    tiny.send(Command("back"))
    run_until(tiny, lambda s: s.player.beat is not None and s.player.beat.step == 0)
    assert tiny.spoken()[-1].startswith("Reach.")
    assert phrases.ACKS["back_same"] not in tiny.spoken()


# --- bug 3: the props wait after a break, and "ready" said over the props sentence -------------


def test_continue_after_a_break_in_the_props_wait_asks_for_them_again(library: Library) -> None:
    """QA: 'Carrying on.' and then 30 s of silence."""
    sim = waiting_for_props(library)
    sim.send(Command("pause"))
    sim.send(Command("resume"))
    assert still_waiting(sim)
    said = sim.spoken()[-1]
    assert said.startswith("You need a blanket. Say ready when you have it."), said
    assert phrases.ACKS["resume"] not in said
    assert set(phrases.split_sentences(said)) <= phrases.all_phrases(library)


@pytest.mark.parametrize("word", ["ready", "start", "resume", "button"])
def test_ready_said_over_the_props_sentence_counts_as_ready(library: Library, word: str) -> None:
    """QA: 'We are under way. Carry on.', then the coach waited for 'ready' all the same
    (and for "start" or "continue", the wait's other words: 'A routine is already going')."""
    sim = Simulation(library, ready_after_s=None)
    start(sim, "quick_stretch")
    sim.advance_to(4.0)  # the intro with the props is still being said
    # the button's short press arrives as "pause" (skill.core.gestures)
    press = Command("pause", source="button") if word == "button" else Command(word)
    actions = sim.send(press)
    assert not any(isinstance(a, StopSpeech) for a in actions)  # the safety line is heard
    assert not {phrases.UNDER_WAY, phrases.ALREADY_RUNNING, phrases.ALREADY_GOING} & set(
        sim.spoken()
    )
    intro_end = next(e.end for e in sim.timeline if e.kind == "say" and "You need" in e.text)
    assert intro_end is not None
    sim.advance_to(intro_end + 0.5)
    assert sim.player.beat is not None and sim.player.beat.step == 0
    assert sim.spoken()[-1].startswith("Cat-cow.")


@pytest.mark.parametrize("paused", [False, True])
def test_next_during_the_intro_still_asks_for_the_props(library: Library, paused: bool) -> None:
    """QA: "next" over the opening words went straight to the first exercise: the list of
    what to have ready (the towel roll to make) was never heard."""
    sim = Simulation(library, ready_after_s=None)
    start(sim, "thoracic_mobility")
    sim.advance_to(3.0)  # the name and the safety line: the props are still to come
    if paused:
        sim.send(Command("pause"))
    said = [a.text for a in sim.send(Command("next")) if isinstance(a, Speak)]
    assert len(said) == 1 and said[0].startswith(phrases.ACKS["next"]), said
    assert "You need an old towel tied in a tight roll" in said[0]
    sim.advance_to(60.0)
    assert sim.player.phase == "ready" and sim.player.beat is not None
    assert sim.player.beat.step < 0  # no exercise begins before "ready"
    sim.send(Command("ready"))
    assert sim.player.beat is not None and sim.player.beat.step == 0
    sim.send(Command("next"))  # in the first exercise: the next one, as before
    assert sim.player.beat is not None and sim.player.beat.step == 1


FIRST_POSITION = "bottom of your neck"  # the towel roll's first place, in its steps


@pytest.mark.parametrize("where", ["release", "gap"])
def test_repeat_between_towel_roll_positions_says_how_to_move_again(
    library: Library, where: str
) -> None:
    """QA: "repeat" while moving along the towel roll said the first position's setup (the roll
    under the neck) with "Three of four", instead of how to get to the position ahead."""
    sim = Simulation(library)
    start(sim, "thoracic_mobility")
    if where == "release":  # the words "Release. Now shift so the roll sits an inch lower..."
        run_until(sim, lambda s: at(s, "hold", 1, 2))
        run_until(sim, lambda s: s.player.phase == "say")
    else:
        run_until(sim, lambda s: at(s, "gap", 1, 3))
    count = len(sim.actions)
    sim.send(Command("repeat"))
    said = " ".join(said_since(sim, count))
    reposition = library.exercises["towel_roll_extension"].reposition
    assert reposition is not None and reposition in said, said
    assert FIRST_POSITION not in said
    run_until(sim, lambda s: s.player.beat is not None and s.player.beat.kind == "hold")
    assert sim.player.beat is not None and (sim.player.beat.step, sim.player.beat.rep) == (1, 3)


def test_repeat_in_a_later_towel_roll_position_stays_there(library: Library) -> None:
    sim = Simulation(library)
    start(sim, "thoracic_mobility")
    run_until(sim, lambda s: at(s, "hold", 1, 3))
    count = len(sim.actions)
    sim.send(Command("repeat"))
    said = " ".join(said_since(sim, count))
    assert "Stay where you are." in said and "Three of four." in said, said
    assert FIRST_POSITION not in said
    assert "Stay where you are." in phrases.all_phrases(library)


# --- bug 4: next during the closing words --------------------------------------------------


def in_closing_words(sim: Simulation) -> bool:
    plan = sim.player.plan
    return (
        sim.player.beat is not None
        and plan is not None
        and plan.segment_of(sim.player.index).kind == "outro"
    )


def test_next_during_the_closing_words_lets_them_finish() -> None:
    """QA: 'That is the end of quick stretch. Well done.' cut off by 'Skipping ahead.'"""
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, in_closing_words)
    actions = sim.send(Command("next"))
    assert not any(isinstance(a, StopSpeech) for a in actions)
    assert [a.text for a in actions if isinstance(a, Speak)] == [phrases.NOTHING_AFTER]
    assert phrases.ACKS["next"] not in sim.spoken()
    sim.run()
    assert sim.player.mode == "idle"
    record = next(e.item for e in sim.timeline if e.kind == "record")
    assert record.record["finished"] is True  # type: ignore[union-attr]


def test_the_new_replies_are_pre_rendered() -> None:
    fixed = phrases.fixed_phrases(tiny_library())
    assert {phrases.NOTHING_BEFORE, phrases.NOTHING_AFTER} <= fixed


# --- QA round 4: a power cut, a later side, "repeat" in a rest, what the history counts --


def last_saved(sim: Simulation) -> dict[str, Any]:
    """What a power cut leaves: the last place written, not one saved at a stop."""
    saves = [a.snapshot for a in sim.actions if isinstance(a, SaveProgress) and a.snapshot]
    return dict(saves[-1])


def records(sim: Simulation) -> list[dict[str, Any]]:
    return [dict(a.record) for a in sim.actions if isinstance(a, RecordSession)]


def test_a_power_cut_in_a_long_hold_costs_at_most_the_save_interval(library: Library) -> None:
    """QA: two minutes into the three-minute backbend the file still said 180 s left."""
    sim = Simulation(library)
    start(sim, "middle_back")
    run_until(sim, lambda s: s.player.phase == "timed" and s.player.beat.base_s >= 60)
    sim.advance_to(sim.now + 125.0)
    left = sim.player.remaining_hold
    assert left is not None
    saved = last_saved(sim)["remaining"]
    assert left <= saved <= left + SAVE_EVERY_S + TICK


def test_a_power_cut_in_a_rest_resumes_the_rest(library: Library) -> None:
    """QA: cut off in the rest after the rhomboid's holds, "resume" held rep 3 again."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "rest", step=0, rep=0))
    sim.advance_to(sim.now + 3.0)
    back = resumed(library, last_saved(sim))
    assert back.spoken()[1:] == ["Relax. Rest. Next: side-lying rotation."]
    run_until(back, lambda s: s.player.phase == "timed")
    assert back.player.beat is not None and back.player.beat.kind == "rest"


def test_resume_on_the_second_side_names_the_exercise_and_its_setup(library: Library) -> None:
    """QA: "Welcome back. ... Right side. With your left hand..." never said which exercise
    nor how to get into it; after a night away the person needs both."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "hold", step=1, rep=2, side="right"))
    snap = sim.player.snapshot()
    assert snap is not None
    opening = resumed(library, snap).spoken()[1]
    assert opening.startswith("Side-lying rotation."), opening
    assert "Right side. Two of three. Lie on your right side." in opening, opening
    # "repeat" on that side, the person still in place, keeps the short form
    sim.send(Command("repeat"))
    assert sim.spoken()[-1].startswith("Right side."), sim.spoken()[-1]


def test_repeat_in_the_rest_between_sets_says_the_rest_again_not_the_set(
    library: Library,
) -> None:
    """QA: "repeat" between snow angels' two sets of ten did set one again: thirty slides."""
    sim = Simulation(library)
    start(sim, "upper_back")
    steps = library.routines["upper_back"].steps
    step = next(i for i, st in enumerate(steps) if st.dosage.sets == 2 and st.dosage.hold_s == 0)
    run_until(sim, lambda s: s.player.beat.kind == "rest" and s.player.beat.step == step)
    assert sim.player.beat.set == 1
    sim.send(Command("repeat"))
    reps: set[tuple[int, int]] = set()

    def into_next_step(s: Simulation) -> bool:
        beat = s.player.beat
        if s.player.phase == "timed" and beat.kind == "move":
            reps.add((beat.set, beat.rep))
        return beat.step != step

    run_until(sim, into_next_step)
    assert {set_ for set_, _ in reps} == {2}, sorted(reps)
    assert len(reps) == 10


def test_the_history_counts_what_was_done_before_a_resume_and_before_a_rest(
    library: Library,
) -> None:
    """QA: resumed in the second exercise and stopped, the history said 0 done before it;
    stopped in the rest after the last set, the finished exercise did not count."""
    back = resumed(library, snapshot_at(library, "hold", step=1, rep=3, left=5.8))
    back.send(Command("stop"))
    assert records(back)[-1]["steps_done"] == 1
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "rest", step=0, rep=0))
    sim.send(Command("stop"))
    assert records(sim)[-1]["steps_done"] == 1


def test_starting_over_a_session_that_could_be_resumed_says_where_it_went(
    library: Library,
) -> None:
    """QA: right after "You stopped in the middle of upper back. Say resume...", a "start"
    began afresh without a word about the session it set aside."""
    snap = snapshot_at(library, "hold", step=1, rep=3, left=5.8)
    sim = Simulation(library, saved=snap, wall_start=1_700_000_000.0 + 600)
    start(sim, "quick_stretch")
    assert sim.spoken()[0] == phrases.STARTING_OVER
    assert [r["outcome"] for r in records(sim)] == ["interrupted"]
    fresh = Simulation(library)
    start(fresh, "quick_stretch")
    assert phrases.STARTING_OVER not in fresh.spoken()


# --- QA round 5: what may be left out under an answer, what the history and the page say ---


def test_only_a_bare_count_may_be_left_out_under_an_answer(library: Library) -> None:
    """QA: "how long left" during cat-cow left out 'Three. Cat. Round your back up.' with
    the bare counts: for ten seconds nobody said to change pose. A bare number is a
    "count" (the speaker leaves it out while an answer plays); a count with a cue is not."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "move", step=0, rep=3))
    cues = [a for a in sim.actions if isinstance(a, Speak) and "Cat." in a.text]
    assert cues and all(a.kind == "cue" for a in cues)
    angels = Simulation(library)
    start(angels, "upper_back")
    run_until(angels, lambda s: s.player.beat is not None and s.player.beat.text == "Three.")
    bare = [a for a in angels.actions if isinstance(a, Speak) and a.text in ("Two.", "Three.")]
    assert bare and all(a.kind == "count" for a in bare)


def test_repeat_in_a_rest_does_not_say_once_more(library: Library) -> None:
    """QA: "Once more." before the rest's words sounded like the set would be done again."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "rest", step=0, rep=0))
    before = len(sim.actions)
    sim.send(Command("repeat"))
    assert said_since(sim, before) == ["Relax. Rest. Next: side-lying rotation."]


def test_a_session_cut_off_in_a_rest_and_never_resumed_counts_the_exercise_done(
    library: Library,
) -> None:
    """QA: killed in the rest after cat-cow, then replaced: 'stopped after 0 of 3'."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "rest", step=0, rep=0))
    snap = last_saved(sim)
    later = Simulation(library, saved=snap, wall_start=1_700_000_000.0 + 600)
    start(later, "upper_back")
    assert [(r["outcome"], r["steps_done"]) for r in records(later)] == [("interrupted", 1)]
    again = resumed(library, snap)  # resumed, then cut off again and replaced
    run_until(again, lambda s: s.player.phase == "timed")
    replaced = Simulation(library, saved=last_saved(again), wall_start=1_700_000_000.0 + 900)
    start(replaced, "upper_back")
    assert records(replaced)[0]["resumed"] is True


def test_no_word_of_the_history_for_a_session_that_never_reached_a_hold(
    library: Library,
) -> None:
    """QA: cut off while the props were fetched, then "start quick stretch": 'The
    unfinished session is kept in your history.', but nothing had been written."""
    sim = Simulation(library)
    start(sim, "lower_back")
    snap = sim.player.snapshot()
    assert snap is not None and snap["exercised"] is False
    later = Simulation(library, saved=snap, wall_start=1_700_000_000.0 + 600)
    start(later, "quick_stretch")
    assert records(later) == [] and phrases.STARTING_OVER not in later.spoken()


def test_time_left_is_rounded_up_as_the_page_shows_it() -> None:
    """QA: paused with 1.42 s left the coach said 1 second, the page 2."""
    assert phrases.time_left_text("hold", 1.42, 60.0).startswith("2 seconds left in this hold.")


# --- QA round 6: answers during a hold, going back, cutting a hold short ---------------------


def test_an_answer_during_a_moving_set_holds_its_clock(library: Library) -> None:
    """QA: a 24 s help list during cat-cow, then eight pose cues in 25 s; now the set waits
    for the answer and goes on with the time it had, no cue late or bunched."""
    sim = Simulation(library)
    start(sim, "quick_stretch")
    run_until(sim, lambda s: at(s, "move", step=0, rep=2))
    left = sim.player.remaining_hold
    assert left is not None
    sim.send(Command("help"))
    sim.advance_to(sim.now + 10.0)  # still talking: the clock waits
    assert sim.player.beat is not None and sim.player.beat.rep == 2
    run_until(sim, lambda s: s.player.phase == "timed")
    assert sim.player.remaining_hold == pytest.approx(left, abs=TICK)


def test_time_left_does_not_say_the_same_time_twice() -> None:
    text = phrases.time_left_text("hold", 170.0, 900.0, exercise=185.0)
    assert text == "About 3 minutes left in this hold. About 15 minutes left in the routine."


def test_stop_or_next_in_a_hold_tells_the_person_to_come_out_of_it(library: Library) -> None:
    """QA: "stop" mid-hold said only "Okay, ending here. Well done." and "next" "Skipping
    ahead.", with no cue to release the stretch."""
    for command in ("stop", "next"):
        sim = Simulation(library)
        start(sim, "quick_stretch")
        run_until(sim, lambda s: at(s, "hold", step=1, rep=1))
        before = len(sim.actions)
        sim.send(Command(command))
        assert said_since(sim, before)[0].startswith("Release. "), said_since(sim, before)
