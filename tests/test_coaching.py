"""Coaching a person on the floor: cautions before the first hold, props first, time to move
between positions, movements cued when due, and the easier/harder/what-do-I-need commands."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from test_player_support import real_library, run_until, start, tiny_library

from skill.core import phrases
from skill.core.events import Command, Speak
from skill.core.exercise import Library, Routine, RoutineStep
from skill.core.gestures import Gesture, gesture_to_command
from skill.core.intents import parse_command
from skill.core.plan import (
    AGAIN,
    CHANGE_S,
    HOLD,
    SAFETY,
    Beat,
    Plan,
    build_plan,
    estimate_speech_seconds,
    fill_side,
    on_floor,
    planned_total,
    routine_props,
    spoken_cautions,
)
from skill.core.player import READY_REMINDER_S, PlayerSettings
from skill.core.simulate import Simulation

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def library() -> Library:
    lib = real_library()
    assert lib is not None
    return lib


def alone(library: Library, ex_id: str) -> Plan:
    """A routine of one exercise, with its own dosage."""
    ex = library.exercises[ex_id]
    return build_plan(library, Routine(ex_id, ex.name, "", (RoutineStep(ex_id, ex.dosage),)))


def spoken(plan: Plan) -> list[str]:
    return [fill_side(b.text, b.side) for b in plan.beats if b.text and b.kind != "ready"]


def first_timed(plan: Plan, step: int) -> int:
    return next(
        i for i, b in enumerate(plan.beats) if b.step == step and b.kind in ("hold", "move")
    )


# --- cautions ----------------------------------------------------------------------------


def test_every_exercise_says_its_cautions_before_its_first_hold(library: Library) -> None:
    for ex in library.exercises.values():
        plan = alone(library, ex.id)
        before = " ".join(b.text for b in plan.beats[: first_timed(plan, 0)])
        for caution in ex.cautions:
            said = SAFETY if caution == "Stop if anything hurts." else caution
            assert said in before, f"{ex.id}: {caution!r} is not said before the first hold"
        after = " ".join(b.text for b in plan.beats[first_timed(plan, 0) :])
        assert not any(c in after for c in spoken_cautions(ex)), f"{ex.id}: said again"


def test_cautions_come_once_per_session_even_when_an_exercise_comes_back(
    library: Library,
) -> None:
    ex = library.exercises["cobra_extension"]
    steps = tuple(RoutineStep(ex.id, ex.dosage) for _ in range(2))
    plan = build_plan(library, Routine("twice", "twice", "", steps))
    text = " ".join(b.text for b in plan.beats)
    assert text.count("Keep the stretch mild to moderate.") == 1


def test_repeat_says_the_cautions_again(library: Library) -> None:
    sim = Simulation(library)
    start(sim, "quick_stretch")
    sim.run(until=0.0)
    while not (sim.player.beat and sim.player.beat.side == "right"):
        sim.run(until=sim.now + 1.0)  # to side-lying rotation's second side
    before = len(sim.actions)
    sim.send(Command("repeat"))
    said = " ".join(a.text for a in sim.actions[before:] if isinstance(a, Speak))
    assert "Keep the stretch mild to moderate." in said


# --- props first -------------------------------------------------------------------------


def test_routines_with_props_name_them_and_wait(library: Library) -> None:
    plan = build_plan(library, library.routines["thoracic_mobility"])
    need = "You need an old towel tied in a tight roll, a book, two tennis balls and a foam roll."
    assert need in plan.beats[0].text
    assert plan.beats[1].kind == "ready"
    sim = Simulation(library, ready_after_s=None)
    start(sim, "thoracic_mobility")
    sim.advance_to(2.5 * READY_REMINDER_S + 20)
    assert sim.player.mode == "running" and sim.player.phase == "ready"
    reminders = [t for t in sim.spoken() if t.startswith("I am waiting for you.")]
    assert len(reminders) == 2, sim.spoken()
    sim.send(Command("ready"))
    assert sim.player.beat is not None and sim.player.beat.step == 0
    assert sim.spoken()[-1].startswith("Long-sitting rounding stretch.")


# An instruction that makes a prop: "Roll an old towel into a tight tube.", "Tie it so it
# cannot unroll.", "..., and fold the blanket" (not "Roll onto one shoulder blade", "Roll your
# shoulders", "Fold forward from the hips" or "Make your back flat", which are movements).
MAKING = re.compile(
    r"(?:^|[,;:] |\band |\bthen )(?:roll|tie|fold|unroll|make)\b"
    r"(?!\s+(?:onto|over|forward|back|your)\b)",
    re.IGNORECASE,
)


def makes_a_prop(text: str) -> bool:
    return any(MAKING.search(s) for s in phrases.split_sentences(text))


def test_the_making_check_would_catch_the_old_towel_roll_setup() -> None:
    assert makes_a_prop("Roll an old, firm towel into a tight tube.")
    assert makes_a_prop("Tie it so it cannot unroll.")
    assert makes_a_prop("Lie down, and roll a blanket into a firm tube.")
    moves = "Roll onto one shoulder blade, then onto the other. Fold forward from the hips."
    assert not makes_a_prop(f"{moves} Roll your shoulders. Make your back flat.")


def test_no_hold_starts_on_instructions_to_make_a_prop(library: Library) -> None:
    """QA: the towel roll's setup said "Roll an old, firm towel into a tight tube. Tie it..."
    and the 20 s hold began as it ended. A roll is a prop, made while the coach waits for
    "ready"; the instructions before a hold only use it."""
    for ex in library.exercises.values():
        leading = [*ex.setup, *ex.steps, *ex.rep_cues]
        leading += [t for t in (ex.hold_cue, ex.release, ex.reposition) if t]
        made = [t for t in leading if makes_a_prop(t)]
        assert not made, (ex.id, made)
        for option in (ex.easier, ex.harder):
            if option and "roll" in option.lower() and ("thinner" in option or "thicker" in option):
                assert "Say pause" in option, (ex.id, option)  # remade with the clock stopped
        said = " ".join([*ex.setup, *ex.steps]).lower()
        if ("towel roll" in said or "the roll" in said) and "foam roll" not in ex.props:
            assert "towel roll" in ex.props, ex.id  # named at the start, so made before
    for routine_id in ("thoracic_mobility", "middle_back"):
        plan = build_plan(library, library.routines[routine_id])
        assert "an old towel tied in a tight roll" in plan.beats[0].text
        assert plan.beats[1].kind == "ready"  # made while the coach waits, untimed


@pytest.mark.parametrize("command", ["start", "resume"])
def test_start_or_continue_also_means_ready(library: Library, command: str) -> None:
    sim = Simulation(library, ready_after_s=None)
    start(sim, "upper_back")
    sim.advance_to(25.0)
    assert sim.player.phase == "ready"
    sim.send(Command(command))
    assert sim.player.beat is not None and sim.player.beat.step == 0


def test_a_short_press_means_ready_but_saying_wait_pauses(library: Library) -> None:
    sim = Simulation(library, ready_after_s=None)
    start(sim, "upper_back")
    sim.advance_to(25.0)
    assert sim.player.phase == "ready"
    sim.send(Command("pause"))  # spoken "wait": a break, not ready
    assert sim.player.mode == "paused"
    sim.send(Command("resume"))
    assert sim.player.phase == "ready"
    sim.send(gesture_to_command(Gesture.SHORT, sim.player.mode))
    assert sim.player.mode == "running" and sim.player.beat is not None
    assert sim.player.beat.step == 0


def test_a_routine_without_props_starts_at_once() -> None:
    library = tiny_library()
    assert not routine_props(library, library.routines["tiny"])
    sim = Simulation(library, ready_after_s=None)
    start(sim, "tiny")
    sim.run(until=30.0)
    assert not any(b.kind == "ready" for b in build_plan(library, library.routines["tiny"]).beats)
    assert sim.player.beat is not None and sim.player.beat.step >= 0


# --- time to move ------------------------------------------------------------------------


def _gaps(plan: Plan, library: Library) -> list[tuple[Beat, Beat, float]]:
    """Each gap with the beat before it and the time the data's change of position asks."""
    out = []
    for i, beat in enumerate(plan.beats):
        if beat.kind != "gap":
            continue
        ex = library.exercises[plan.routine.steps[beat.step].exercise_id]
        before = plan.beats[i - 1]
        if before.kind == "rest":
            nxt = library.exercises[plan.routine.steps[beat.step + 1].exercise_id]
            assert on_floor(nxt.position) != on_floor(ex.position)
            want = CHANGE_S["get_up"]
        elif before.cue == "switch_sides" or ex.dosage.sides == "alternating":
            want = CHANGE_S[ex.side_change]
        else:
            want = CHANGE_S[ex.rep_change]
        out.append((before, beat, want))
    return out


def test_gaps_follow_the_change_of_position(library: Library) -> None:
    for routine in library.routines.values():
        for before, gap, want in _gaps(build_plan(library, routine), library):
            assert gap.base_s == want, (routine.id, before.text, gap)


def test_getting_up_from_the_floor_gets_its_time_and_says_where(library: Library) -> None:
    plan = build_plan(library, library.routines["upper_back"])  # rhomboid -> snow angels
    i = next(i for i, b in enumerate(plan.beats) if "Next: snow angels" in b.text)
    assert "on the floor" in plan.beats[i].text
    assert [b.kind for b in plan.beats[i + 1 : i + 3]] == ["rest", "gap"]
    assert plan.beats[i + 2].base_s == CHANGE_S["get_up"]


def test_side_lying_rotation_does_one_side_then_rolls_over_once(library: Library) -> None:
    plan = alone(library, "side_lying_rotation")
    sides = [b.side for b in plan.beats if b.kind == "hold"]
    assert sides == ["left"] * 3 + ["right"] * 3
    gaps = [b.base_s for b in plan.beats if b.kind == "gap"]
    assert gaps.count(CHANGE_S["roll_over"]) == 1
    said = spoken(plan)
    first = next(t for t in said if t.startswith("Side-lying rotation."))
    assert "Left side. One of three. Lie on your left side. Bend your hips and knees." in first
    right = next(t for t in said if t.startswith("Right side."))
    assert "Lie on your right side. Bend your hips and knees. Turn your head to the left." in right


def test_rolling_over_between_sides_says_so(library: Library) -> None:
    """QA: side-lying rotation said "Switch sides." to someone who rolls onto the other side."""
    said = spoken(alone(library, "side_lying_rotation"))
    assert "Come back to the middle. Roll onto your other side." in said
    assert not any("Switch sides." in t for t in said)
    assert "Release. Switch sides." in spoken(alone(library, "knee_to_chest"))  # switch


# How an exercise's instructions must begin: where the body goes (lie, sit, stand, come onto
# hands and knees), after at most putting a prop down for it.
POSITION = re.compile(r"^(?:Lie|Sit|Stand|Come onto|Start on|Kneel)\b")
PUTTING_DOWN = re.compile(r"^(?:Lay|Put|Place)\b")


def first_move(texts: list[str]) -> str:
    """The first instruction that is not a prop being put down."""
    sentences = [s for t in texts for s in phrases.split_sentences(t)]
    return next(s for s in sentences if not PUTTING_DOWN.match(s))


def test_instructions_put_the_body_in_position_first(library: Library) -> None:
    """QA: side-lying rotation said "Bend your hips and knees..." before "Lie on your left
    side."."""
    assert not POSITION.match(first_move(["Bend your hips and knees.", "Lie on your left side."]))
    for ex in library.exercises.values():
        said = first_move([fill_side(t, "left") for t in (*ex.setup, *ex.steps)])
        assert POSITION.match(said), (ex.id, said)


def test_the_cue_back_into_a_hold_fits_the_exercise_kind(library: Library) -> None:
    """QA: the T raise, a strengthening lift, was cued "Back into the stretch." between reps."""
    assert library.exercises["prone_t_raise"].kind == "strength"
    assert library.exercises["long_sitting_rounding"].kind == "stretch"
    for ex in library.exercises.values():
        if ex.dosage.hold_s <= 0 or ex.reposition:
            continue
        again = [b.text for b in alone(library, ex.id).beats if b.kind == "say" and b.rep > 1]
        again = [t for t in again if t and "Release" not in t and ex.release not in (t, None)]
        for text in again:
            assert text.endswith(AGAIN[ex.kind]), (ex.id, text)
            assert AGAIN["stretch" if ex.kind == "strength" else "strength"] not in text
    said = spoken(alone(library, "prone_t_raise"))
    assert "Two of ten. Lift and hold." in said and not any("stretch" in t for t in said)


def test_resume_in_a_lift_says_to_lift_again(library: Library) -> None:
    for ex_id, routine, words in (
        ("prone_t_raise", "upper_back", "Carrying on. Lift and hold."),
        ("childs_pose", "upper_back", "Carrying on. Back into the stretch."),
    ):
        sim = _in_hold_of(library, routine, ex_id)
        assert sim.player.beat is not None and sim.player.beat.kind == "hold"
        sim.send(Command("pause"))
        assert _answer(sim, Command("resume")) == [words]
        assert set(phrases.split_sentences(words)) <= phrases.all_phrases(library)


def test_resume_in_a_bird_dog_names_the_arm_and_leg(library: Library) -> None:
    """QA: after a break in the bird dog, "Carrying on. Lift and hold." did not say which arm
    and leg, as "Two of ten. Right arm, left leg. Lift and hold." does."""
    sim = _in_hold_of(library, "lower_back", "bird_dog")
    run_until(
        sim,
        lambda s: (
            s.player.beat.rep == 2 and s.player.phase == "timed" and s.player.beat.kind == "hold"
        ),
    )
    sim.send(Command("pause"))
    words = "Carrying on. Right arm, left leg. Lift and hold."
    assert _answer(sim, Command("resume")) == [words]
    assert set(phrases.split_sentences(words)) <= phrases.all_phrases(library)


def test_alternating_reps_name_the_arm_and_leg(library: Library) -> None:
    """QA: "Two of ten. Right side. Back into the stretch." did not say which arm or leg."""
    plan = alone(library, "bird_dog")
    said = spoken(plan)
    assert "Left arm, right leg. Reach your left arm straight forward." in said[1]
    assert "Two of ten. Right arm, left leg. Lift and hold." in said
    assert "Three of ten. Left arm, right leg. Lift and hold." in said
    assert not any("side." in t.lower() for t in said if "Switch" not in t)
    for ex in library.exercises.values():
        limbs = " ".join(ex.steps)
        if ex.dosage.sides == "alternating" and "{other} leg" in limbs:
            assert ex.side_cue and "{side}" in ex.side_cue and "{other}" in ex.side_cue, ex.id


# --- the first hold as long as the others --------------------------------------------------


def test_the_first_hold_starts_as_the_words_that_get_into_it_end(library: Library) -> None:
    """QA: rep 1 of the T raise was lifted at "Lift both arms..." and held through "Draw your
    shoulder blades together. Keep the lift small and under control. Lower your arms after
    each count. Hold. One of ten." before its 2 s began: about 10 s, the later reps 2."""
    for ex in library.exercises.values():
        if ex.dosage.hold_s <= 0:
            continue
        assert not any("count" in s or "change sides" in s for s in ex.steps), ex.id  # release
        plan = alone(library, ex.id)
        openings = [plan.beats[s.start] for s in plan.exercise_segments()]
        for beat in openings:
            last = fill_side(ex.steps[-1], beat.side)
            said = fill_side(beat.text, beat.side)
            assert said.endswith(f"{last} {ex.hold_cue or HOLD}"), (ex.id, said)


def _sentence_ends(sim: Simulation, sentence: str) -> list[float]:
    """When `sentence` ends each time it is said (speech as the simulation times it)."""
    ends = []
    for e in sim.timeline:
        if e.kind == "say" and isinstance(e.item, Speak) and sentence in e.item.text:
            before = e.item.text[: e.item.text.index(sentence) + len(sentence)]
            ends.append(e.t + estimate_speech_seconds(before))
    return ends


def test_the_t_raises_first_lift_is_held_about_as_long_as_the_others(library: Library) -> None:
    sim = Simulation(library)
    start(sim, "upper_back")
    sim.run(until=12 * 60)
    lift = _sentence_ends(sim, "Lift both arms a little toward the ceiling.")[0]
    again = _sentence_ends(sim, "Two of ten. Lift and hold.")[0]
    ends = [e.t for e in sim.timeline if e.text == "hold_end"]
    first = next(t for t in ends if t > lift) - lift
    second = next(t for t in ends if t > again) - again
    assert second == pytest.approx(2.0, abs=0.01)  # "Lift and hold." ends: 2 s on the clock
    assert first <= second + 3.0, (first, second)  # "Draw your shoulder blades..." "Hold."


# --- movements as movements ----------------------------------------------------------------


def test_moving_exercises_never_say_hold_and_cue_each_rep_when_due(library: Library) -> None:
    for ex_id, cues in (
        ("shoulder_rolls", ["forward", "backward"]),
        ("seated_side_bend", ["right", "front right", "straight forward", "front left", "left"]),
    ):
        plan = alone(library, ex_id)
        assert not any(HOLD in t for t in spoken(plan)), ex_id
        moves = [b for b in plan.beats if b.kind == "move"]
        assert len(moves) == len(cues)
        for beat, cue in zip(moves, cues, strict=True):
            assert cue in beat.text, (ex_id, beat.text)


def test_cat_cow_calls_each_pose_as_it_is_due(library: Library) -> None:
    """QA: each 10 s rep held both poses but only "One.", "Two." were said, so nothing told
    the person when to go from cat to cow. Each count is now one pose, held the five seconds
    page 003 gives each, and names it."""
    ex = library.exercises["cat_cow"]
    moves = [b for b in alone(library, "cat_cow").beats if b.kind == "move"]
    poses = ["cat" if "Cat." in b.text else "cow" if "Cow." in b.text else "?" for b in moves]
    assert poses == ["cat", "cow"] * 5
    assert all(b.base_s == 5 for b in moves)
    assert "Round your back up." in moves[0].text and "belly sink" in moves[1].text
    assert "I will call each one" in " ".join(ex.steps)


def test_the_player_speaks_a_moves_cue_as_that_rep_starts(library: Library) -> None:
    ex = library.exercises["shoulder_rolls"]
    routine = Routine("rolls", "rolls", "", (RoutineStep(ex.id, ex.dosage),))
    lib = Library({ex.id: ex}, {"rolls": routine}, "rolls")
    sim = Simulation(lib)
    start(sim, "rolls")
    plan = build_plan(lib, routine)
    second = next(b for b in plan.beats if b.kind == "move" and b.rep == 2)
    due = planned_total(lib, routine) - plan.seconds_from(plan.beats.index(second), 1.0)
    sim.run()
    said = [e for e in sim.timeline if e.kind == "say" and "backward" in e.text]
    assert len(said) == 1 and said[0].t == pytest.approx(due, abs=1e-6)


def test_towel_and_tennis_ball_levels_say_how_to_move_down(library: Library) -> None:
    for ex_id, words in (
        ("towel_roll_extension", "shoulder blade"),
        ("tennis_ball_extension", "elbows"),
    ):
        plan = alone(library, ex_id)
        releases = [b for b in plan.beats if b.cue == "hold_end" and b.rep < b.reps]
        assert len(releases) == library.exercises[ex_id].dosage.reps - 1
        for i, beat in enumerate(plan.beats):
            if beat in releases:
                assert words in beat.text
                assert plan.beats[i + 1].kind == "gap"
                assert plan.beats[i + 1].base_s == CHANGE_S["shift"]


# --- easier, harder, what do I need --------------------------------------------------------


def _voice(library: Library, text: str) -> Command:
    cmd = parse_command(text, library)
    assert cmd is not None, text
    return cmd


def _in_hold_of(library: Library, routine: str, ex_id: str) -> Simulation:
    sim = Simulation(library)
    start(sim, routine)
    step = [s.exercise_id for s in library.routines[routine].steps].index(ex_id)
    while not (sim.player.beat and sim.player.beat.step == step and sim.player.phase == "timed"):
        sim.run(until=sim.now + 1.0)
    return sim


def _answer(sim: Simulation, cmd: Command) -> list[str]:
    return [a.text for a in sim.send(cmd) if isinstance(a, Speak)]


def test_easier_and_harder_by_voice_speak_the_exercises_options(library: Library) -> None:
    sim = _in_hold_of(library, "lower_back", "knee_to_chest")
    easier = _answer(sim, _voice(library, "easier"))
    assert easier == [library.exercises["knee_to_chest"].easier]
    assert _answer(sim, _voice(library, "Harder")) == [phrases.NO_HARDER]
    sim = _in_hold_of(library, "middle_back", "passive_backbend")
    assert _answer(sim, _voice(library, "harder")) == [library.exercises["passive_backbend"].harder]


OPTION_RUN = 6  # words in a row an option shares with its exercise's instructions


def _runs(text: str) -> set[tuple[str, ...]]:
    w = re.sub(r"[^a-z ]+", " ", text.lower()).split()
    return {tuple(w[i : i + OPTION_RUN]) for i in range(len(w) - OPTION_RUN + 1)}


def test_an_option_says_something_the_instructions_do_not(library: Library) -> None:
    """QA: thread the needle named the pillow in a caution, the setup and a step, so its
    "easier" ("Rest your head on a pillow instead of the floor.") added nothing new."""
    said_before = "Rest your head on a pillow if the floor is not comfortable."
    assert _runs("Rest your head on a pillow instead of the floor.") & _runs(said_before)
    for ex in library.exercises.values():
        instructions = set().union(*(_runs(t) for t in (*ex.setup, *ex.steps, *ex.cautions)))
        for option in filter(None, (ex.easier, ex.harder)):
            assert not _runs(option) & instructions, (ex.id, option)
    needle = library.exercises["thread_the_needle"]
    told = [t for t in (*needle.setup, *needle.steps, *needle.cautions) if "pillow" in t]
    assert len(told) == 2 and needle.easier is None  # placed in the setup, used in a step


def test_easier_without_an_option_shortens_the_holds(library: Library) -> None:
    towel = library.exercises["towel_roll_extension"]
    assert towel.easier is None and towel.dosage.hold_min_s == 10  # the page: 10 s to 2 min
    sim = _in_hold_of(library, "thoracic_mobility", "towel_roll_extension")
    left = sim.player.remaining_hold
    said = _answer(sim, _voice(library, "easier"))
    assert said == [phrases.NO_EASIER, phrases.ACKS["faster"]] and sim.player.pace == 0.75
    assert left is not None and sim.player.remaining_hold == pytest.approx(left * 0.75)


def _hold_lengths(sim: Simulation, step: int) -> list[float]:
    """How long each hold of routine step `step` ran, by its start and end cues."""
    starts = [e.t for e in sim.timeline if e.text == "hold_start"]
    ends = [e.t for e in sim.timeline if e.text == "hold_end"]
    plan = sim.player.plan
    assert plan is not None
    holds = [b for b in plan.beats if b.kind == "hold"]
    begun = [i for i, b in enumerate(holds) if b.step == step]
    return [round(next(e for e in ends if e > starts[i]) - starts[i], 3) for i in begun]


@pytest.mark.parametrize("word", ["easier", "faster"])
def test_a_quicker_pace_never_holds_less_than_the_page_gives(library: Library, word: str) -> None:
    """QA: "easier" or "faster" in the T raise held its lifts 1.5 s; its page says 2 to 3."""
    t_raise = library.exercises["prone_t_raise"]
    assert t_raise.dosage.hold_s == 2 and t_raise.easier is None
    sim = _in_hold_of(library, "upper_back", "prone_t_raise")
    said = _answer(sim, _voice(library, word))
    sim.send(Command("faster"))  # and at the quickest pace
    sim.run(until=sim.now + 120)
    step = [s.exercise_id for s in library.routines["upper_back"].steps].index("prone_t_raise")
    assert _hold_lengths(sim, step) == [2.0] * 10
    if word == "easier":  # shorter rests would not make it gentler
        assert said == [phrases.NO_EASIER, phrases.NO_SHORTER]
    else:
        assert said == [phrases.ACKS["faster_rests"]]
    fixed = phrases.all_phrases(library)
    assert all(s in fixed for t in said for s in phrases.split_sentences(t))


def test_a_quicker_pace_keeps_the_poses_the_coach_calls(library: Library) -> None:
    """QA: "faster" in cat-cow called a pose every 3.75 s; its page holds each for 5."""
    assert library.exercises["cat_cow"].dosage.rep_s == 5
    sim = _in_hold_of(library, "middle_back", "cat_cow")
    said = _answer(sim, _voice(library, "faster"))
    sim.send(Command("faster"))
    sim.run(until=sim.now + 120)
    cues = set(library.exercises["cat_cow"].rep_cues)
    called = [e.t for e in sim.timeline if e.kind == "say" and any(c in e.text for c in cues)]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(called)]
    assert len(gaps) >= 8
    assert min(gaps) >= 5.0, gaps
    assert said == [phrases.ACKS["faster_rests"]]


def test_what_do_i_need_names_the_props(library: Library) -> None:
    sim = Simulation(library)
    said = _answer(sim, _voice(library, "what do I need"))  # idle: the default routine's
    assert said == ["For upper back: You need a pillow and a small towel."]
    start(sim, "thoracic_mobility")
    said = _answer(sim, _voice(library, "what do i need"))
    assert said == [
        "For thoracic mobility: You need an old towel tied in a tight roll, a book, two tennis "
        "balls and a foam roll."
    ]


def test_every_new_reply_is_pre_rendered(library: Library) -> None:
    fixed = phrases.all_phrases(library)
    texts = [phrases.NO_EASIER, phrases.NO_HARDER, phrases.READY_BUTTON, phrases.UNDER_WAY]
    texts += phrases.option_texts(library)
    for routine in library.routines.values():
        texts.append(phrases.needs_text(routine, routine_props(library, routine)))
        texts += [b.text for b in build_plan(library, routine).beats if b.kind == "ready"]
    missing = [s for t in texts for s in phrases.split_sentences(t) if s not in fixed]
    assert not missing, missing


def test_a_reminder_mentions_the_button_only_when_there_is_one(library: Library) -> None:
    for has_button in (True, False):
        sim = Simulation(library, PlayerSettings(has_button=has_button), ready_after_s=None)
        start(sim, "upper_back")
        sim.advance_to(READY_REMINDER_S + 20)
        reminder = next(t for t in sim.spoken() if t.startswith("I am waiting"))
        assert (phrases.READY_BUTTON in reminder) == has_button


# --- durations -----------------------------------------------------------------------------


def test_readme_routine_table_matches_the_computed_durations(library: Library) -> None:
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([a-z ]+?)(?: \(.*?\))? \| (\d+:\d\d) \| (\d+) \|$", text, re.M)
    assert len(rows) == len(library.routines)
    for name, time, count in rows:
        routine = library.routines[name.replace(" (the default)", "").replace(" ", "_")]
        total = round(planned_total(library, routine))
        assert time == f"{total // 60}:{total % 60:02d}", (name, time)
        assert int(count) == len(routine.steps)


# --- resume across the change ----------------------------------------------------------------


def _saved_mid_hold(library: Library) -> dict[str, object]:
    sim = Simulation(library)
    start(sim, "quick_stretch")
    while not (sim.player.beat and sim.player.beat.side == "right" and sim.player.beat.rep == 2):
        sim.run(until=sim.now + 1.0)
    while sim.player.phase != "timed" or sim.player.beat.kind != "hold":
        sim.run(until=sim.now + 0.5)
    snap = sim.player.snapshot()
    assert snap is not None and snap["exercise"] == "side_lying_rotation"
    return snap


def test_a_session_saved_before_the_beats_moved_resumes_on_the_same_rep(library: Library) -> None:
    snap = _saved_mid_hold(library)
    moved = {**snap, "beat": int(snap["beat"]) - 3}  # type: ignore[call-overload]
    sim = Simulation(library, saved=moved, wall_start=1_700_000_000.0 + 600)
    sim.send(Command("resume"))
    sim.run(until=sim.now + 60.0)
    holds = [a for a in sim.timeline if a.kind == "log" and "hold" in a.text]
    assert holds and "side-lying rotation, right side, rep 2 of 3" in holds[0].text, holds


def test_an_old_save_without_the_exercise_is_set_aside_when_its_beat_moved(
    library: Library,
) -> None:
    snap = _saved_mid_hold(library)
    old = {k: v for k, v in snap.items() if k != "exercise"}
    old["beat"] = int(snap["beat"]) - 3  # type: ignore[call-overload]
    sim = Simulation(library, saved=old, wall_start=1_700_000_000.0 + 600)
    sim.send(Command("resume"))
    assert sim.player.mode == "idle" and sim.spoken()[-1] == phrases.UNUSABLE_SESSION


def test_an_exercise_with_another_version_says_how_to_ask_for_it(library: Library) -> None:
    for ex in library.exercises.values():
        plan = alone(library, ex.id)
        before = " ".join(b.text for b in plan.beats[: first_timed(plan, 0)])
        said = re.findall(r"\b(easier|harder)\b", before.lower())
        assert set(said) == {w for w, o in (("easier", ex.easier), ("harder", ex.harder)) if o}


def test_naming_another_routine_while_waiting_for_props_starts_that_one(library: Library) -> None:
    sim = Simulation(library, ready_after_s=None)
    start(sim, "upper_back")
    sim.advance_to(25.0)
    assert sim.player.phase == "ready"
    sim.send(Command("start", {"routine": "upper_back"}))  # the same one: ready
    assert sim.player.beat is not None and sim.player.beat.step == 0
    sim = Simulation(library, ready_after_s=None)
    start(sim, "upper_back")
    sim.advance_to(25.0)
    sim.send(Command("start", {"routine": "quick_stretch"}))
    assert sim.player.routine_id == "quick_stretch"
    assert sim.spoken()[-1].startswith("Quick stretch, about")
