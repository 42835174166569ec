"""The routine player on a virtual clock: timing, sides, reps, commands, LED, saving, resume."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest
from test_player_support import real_library, run_until, start, tiny_library

from skill.core import phrases
from skill.core.events import (
    COMMANDS,
    Command,
    DeviceProblem,
    LedState,
    Log,
    PlayCue,
    RecordSession,
    SaveProgress,
    SetLed,
    SetVolume,
    Speak,
    StopSpeech,
    Tick,
)
from skill.core.exercise import Library
from skill.core.plan import planned_total
from skill.core.player import MIN_VOLUME, Player, PlayerSettings
from skill.core.simulate import Simulation

TICK = 0.1


def _routines() -> list[tuple[str, str]]:
    cases = [("tiny", rid) for rid in tiny_library().routines]
    real = real_library()
    if real is not None:
        cases += [("real", rid) for rid in real.routines]
    return cases


def _library(which: str) -> Library:
    lib = tiny_library() if which == "tiny" else real_library()
    assert lib is not None
    return lib


def in_hold(sim: Simulation) -> bool:
    beat = sim.player.beat
    return beat is not None and beat.kind == "hold" and sim.player.phase == "timed"


@pytest.mark.parametrize(("which", "routine_id"), _routines())
def test_routine_runs_to_completion_in_its_planned_time(which: str, routine_id: str) -> None:
    library = _library(which)
    sim = Simulation(library)
    start(sim, routine_id)
    sim.run()
    records = [a for a in sim.actions if isinstance(a, RecordSession)]
    assert sim.player.mode == "idle"
    assert len(records) == 1 and records[0].record["finished"] is True
    assert records[0].record["steps_done"] == len(library.routines[routine_id].steps)
    assert sim.now == pytest.approx(planned_total(library, library.routines[routine_id]), abs=1e-6)
    assert sim.actions[-3:][0] == SaveProgress(None) or SaveProgress(None) in sim.actions[-4:]


def test_holds_start_when_the_instruction_has_been_spoken() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    sim.run()
    speech_end = {
        e.item.utterance_id: e.end for e in sim.timeline if isinstance(e.item, Speak) and e.end
    }
    waits = [e for e in sim.timeline if isinstance(e.item, Speak) and e.item.wait]
    holds = [e for e in sim.timeline if e.item == PlayCue("hold_start")]
    assert holds
    for hold in holds:
        last_say = [w for w in waits if w.t <= hold.t][-1]
        assert isinstance(last_say.item, Speak)
        assert hold.t == pytest.approx(speech_end[last_say.item.utterance_id], abs=1e-9)


def test_sides_reps_rests_and_cues_are_spoken_in_order() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    sim.run()
    text = " | ".join(sim.spoken())
    assert "Lift your left arm. Lean toward your right side." in text
    assert "Lift your right arm. Lean toward your left side." in text
    assert text.index("left arm") < text.index("Switch sides.") < text.index("right arm")
    assert "Two of two." in text  # held reps counted aloud
    assert all(f"| {w}." in text for w in ("One", "Two", "Three", "Four"))  # moving reps
    assert "Rest. Next: roll." in text and "Set two of two." in text
    assert "{" not in text
    # The 30 s hold gets a halfway cue; the 10 s ones only the countdown.
    assert text.count(phrases.HALFWAY) == 2
    assert text.count("Three.") == 4 + 2 + 1  # 4 sided 10 s holds, two 30 s, moving rep 3


def test_countdown_lands_on_the_last_seconds() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    sim.run()
    starts = [e.t for e in sim.timeline if e.item == PlayCue("hold_start")]
    counts = [
        (e.t, e.item.text)
        for e in sim.timeline
        if isinstance(e.item, Speak) and e.item.kind == "count"
    ]
    first = starts[0]  # a 10 s hold
    assert [c for c in counts if first < c[0] <= first + 10] == [
        (pytest.approx(first + 7), "Three."),
        (pytest.approx(first + 8), "Two."),
        (pytest.approx(first + 9), "One."),
    ]


def test_pause_keeps_the_remaining_hold_and_resume_restarts_it() -> None:
    sim = Simulation(tiny_library(), tick=TICK)
    start(sim)
    run_until(sim, in_hold)
    sim.advance_to(sim.now + 4.37)
    before = sim.player.remaining_hold
    assert before is not None
    sim.send(Command("pause"))
    assert sim.player.mode == "paused"
    sim.advance_to(sim.now + 120)
    assert sim.player.remaining_hold == pytest.approx(before, abs=TICK)
    sim.send(Command("resume"))
    run_until(sim, in_hold)  # after the short lead-in
    restarted = sim.player.remaining_hold
    assert restarted == pytest.approx(before, abs=TICK)
    hold_start = sim.now
    run_until(sim, lambda s: not in_hold(s))
    assert sim.now - hold_start == pytest.approx(before, abs=TICK)


def test_pause_during_speech_repeats_the_sentence_on_resume() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    sim.advance_to(1.0)
    first = sim.spoken()[0]
    sim.send(Command("pause"))
    sim.send(Command("resume"))
    assert sim.spoken()[-1] == first
    assert sim.player.mode == "running"


def test_stop_acts_at_once_and_records_the_session() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, in_hold)
    actions = sim.send(Command("stop"))
    assert actions[0] == StopSpeech()
    assert sim.player.mode == "idle"
    records = [a.record for a in actions if isinstance(a, RecordSession)]
    assert len(records) == 1 and records[0]["finished"] is False
    assert records[0]["outcome"] == "stopped" and records[0]["steps_done"] == 0
    assert SaveProgress(None) in actions
    assert SetLed(LedState.READY) in actions
    json.dumps(records[0])


def test_next_back_and_repeat_move_between_parts() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, in_hold)  # reach, left side
    sim.send(Command("next"))
    assert "Lift your right arm." in sim.spoken()[-1]
    sim.send(Command("next"))
    assert sim.spoken()[-1].startswith("Roll.")
    # back into the exercise before: from its start, named, not into its last side
    sim.send(Command("back"))
    assert sim.spoken()[-1].startswith("Reach.") and "Left side." in sim.spoken()[-1]
    # repeat during the second rep: the instruction again, counting that rep, full hold.
    run_until(sim, lambda s: in_hold(s) and s.player.beat is not None and s.player.beat.rep == 2)
    sim.send(Command("repeat"))
    assert sim.spoken()[-1].startswith("Reach.")
    assert "Left side. Two of two. Lift your left arm." in sim.spoken()[-1]
    run_until(sim, in_hold)
    assert sim.player.beat is not None and sim.player.beat.rep == 2
    assert sim.player.remaining_hold == pytest.approx(10.0, abs=TICK)


def test_back_in_the_first_exercise_restarts_it() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, in_hold)
    sim.send(Command("back"))
    assert sim.spoken()[-2] == phrases.ACKS["back_same"]
    assert sim.spoken()[-1].startswith("Reach.")


def test_next_past_the_last_part_finishes_after_the_closing_words() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    _next_to_the_end(sim)
    assert sim.spoken()[-3:-1] == [phrases.NOTHING_AFTER] * 2


def _next_to_the_end(sim: Simulation) -> list[dict[str, Any]]:
    for _ in range(20):
        sim.send(Command("next"))  # the closing words are let be: nothing comes after them
    assert sim.player.mode == "running"
    sim.run()
    assert sim.player.mode == "idle"
    return [a.record for a in sim.actions if isinstance(a, RecordSession)]


def test_next_at_the_end_finishes_the_routine_and_counts_only_what_was_done() -> None:
    """QA: six "next" recorded 'quick stretch, 0 min, finished' and made a streak day."""
    skipped = Simulation(tiny_library())
    start(skipped)
    assert _next_to_the_end(skipped) == []  # not one hold begun: no session
    done = Simulation(tiny_library())
    start(done)
    run_until(done, lambda s: in_hold(s) and s.player.beat is not None and s.player.beat.rep == 2)
    (record,) = _next_to_the_end(done)
    assert record["finished"] is True and record["steps_done"] == 0  # its reps cut short
    whole = Simulation(tiny_library())
    start(whole)
    whole.run()
    (record,) = [a.record for a in whole.actions if isinstance(a, RecordSession)]
    assert record["finished"] is True and record["steps_done"] == record["steps_total"]


def _in_mode(mode: str) -> Simulation:
    sim = Simulation(tiny_library())
    if mode != "idle":
        start(sim)
        run_until(sim, in_hold)
    if mode == "paused":
        sim.send(Command("pause"))
    assert sim.player.mode == mode
    return sim


EXPECTED_MODE = {
    ("idle", "start"): "running",
    ("paused", "next"): "running",
    ("paused", "back"): "running",
    ("paused", "repeat"): "running",
    ("paused", "resume"): "running",
    ("running", "pause"): "paused",
    ("running", "stop"): "idle",
    ("paused", "stop"): "idle",
}


@pytest.mark.parametrize("mode", ["idle", "running", "paused"])
@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_gets_a_short_spoken_answer_in_every_mode(mode: str, name: str) -> None:
    sim = _in_mode(mode)
    actions = sim.send(Command(name))
    speech = [a for a in actions if isinstance(a, Speak)]
    assert speech, f"{name} in {mode} was met with silence"
    assert sim.player.mode == EXPECTED_MODE.get((mode, name), mode)
    if name not in ("help", "list", "time_left", "start"):
        word = name.replace("_", " ")
        assert word not in speech[0].text.lower(), f"ack repeats {name!r}: {speech[0].text}"
        assert len(speech[0].text.split()) <= 12


def test_commands_that_do_not_apply_get_helpful_replies() -> None:
    sim = _in_mode("idle")
    for name in ("next", "back", "repeat", "pause", "time_left"):
        assert sim.send(Command(name))[0] == Speak(
            phrases.NOTHING_RUNNING, sim.player._uid, False, "ack"
        )
    assert phrases.NOTHING_TO_CONTINUE in [
        a.text for a in sim.send(Command("resume")) if isinstance(a, Speak)
    ]
    running = _in_mode("running")
    assert running.send(Command("start"))[0].text == phrases.ALREADY_RUNNING  # type: ignore[union-attr]
    assert running.send(Command("resume"))[0].text == phrases.ALREADY_GOING  # type: ignore[union-attr]


def test_slower_and_faster_scale_the_hold_within_limits() -> None:
    sim = _in_mode("running")
    before = sim.player.remaining_hold
    assert before is not None
    sim.send(Command("slower"))
    assert sim.player.pace == 1.25
    assert sim.player.remaining_hold == pytest.approx(before * 1.25)
    for _ in range(3):
        sim.send(Command("slower"))
    assert sim.player.pace == 1.5
    assert sim.spoken()[-1] == phrases.ACKS["slowest"]
    for _ in range(5):
        sim.send(Command("faster"))
    assert sim.player.pace == 0.75
    assert sim.spoken()[-1] == phrases.ACKS["fastest"]


def _halfway_times(sim: Simulation) -> list[float]:
    return [e.t for e in sim.timeline if e.kind == "say" and phrases.HALFWAY in e.text]


@pytest.mark.parametrize("at", [4.0, 20.0])
def test_halfway_comes_at_the_half_of_the_hold_as_it_runs_after_a_change_of_pace(
    at: float,
) -> None:
    """QA: "slower" 4 s into a 30 s hold, and "Halfway there." still came 15 s before the
    end of the old hold: well past the half of the longer one. Once said, it is not said again."""
    sim = Simulation(tiny_library())
    start(sim)
    run_until(sim, lambda s: in_hold(s) and s.player.beat.step == 2)  # long_hold: 30 s
    began = sim.now
    sim.advance_to(began + at)
    sim.send(Command("slower"))
    run_until(sim, lambda s: s.player.beat.kind != "hold")
    end, total = sim.now, 30.0 * 1.25
    halfway = [t for t in _halfway_times(sim) if t >= began]
    if at < 15.0:
        assert halfway == [pytest.approx(end - total / 2, abs=0.2)], (began, end, halfway)
    else:  # already said at the half of the hold it was then; not again
        assert halfway == [pytest.approx(began + 15.0, abs=0.2)], (began, end, halfway)


def test_a_slower_pace_makes_the_whole_routine_longer_by_its_timed_part() -> None:
    library = tiny_library()
    sim = Simulation(library)
    sim.send(Command("slower"))
    start(sim)
    sim.run()
    routine = library.routines["tiny"]
    assert sim.now == pytest.approx(planned_total(library, routine, 1.25), abs=1e-6)
    assert planned_total(library, routine, 1.25) > planned_total(library, routine)


def test_louder_and_quieter_change_the_volume() -> None:
    sim = _in_mode("running")
    assert SetVolume(0.2) in sim.send(Command("louder"))
    assert SetVolume(-0.2) in sim.send(Command("quieter"))
    assert sim.player.mode == "running"


def test_quieter_never_mutes_the_coach_and_the_limits_are_said() -> None:
    """QA: four "quieter" from 0.8 silenced the coach, each still answering "Volume down."."""
    sim = _in_mode("running")
    assert SetVolume(0.2) in sim.send(Command("louder"))
    assert not [a for a in sim.send(Command("louder")) if isinstance(a, SetVolume)]
    assert sim.spoken()[-1] == phrases.ACKS["loudest"]
    for _ in range(10):
        sim.send(Command("quieter"))
    changes = [a.delta for a in sim.actions if isinstance(a, SetVolume)]
    assert 0.8 + sum(changes) == pytest.approx(MIN_VOLUME)
    assert sim.spoken()[-1] == phrases.ACKS["quietest"]


def test_time_left_names_the_hold_and_the_routine() -> None:
    sim = _in_mode("running")
    sim.advance_to(sim.now + 3.0)
    reply = sim.send(Command("time_left"))[0]
    assert isinstance(reply, Speak)
    assert reply.text.startswith("7 seconds left in this hold.")
    remaining_total = planned_total(sim.library, sim.library.routines["tiny"]) - sim.now
    assert f"About {round(remaining_total / 60)} minutes left in the routine." in reply.text


def test_time_left_on_a_break_says_the_coach_is_paused() -> None:
    """QA: "2 seconds left in this hold." on a break sounded like a hold running out."""
    sim = _in_mode("running")
    sim.advance_to(sim.now + 3.0)
    sim.send(Command("pause"))
    sim.advance_to(sim.now + 20.0)
    reply = sim.send(Command("time_left"))[0]
    assert isinstance(reply, Speak)
    assert reply.text.startswith("Paused. 7 seconds left in this hold."), reply.text
    assert phrases.PAUSED in phrases.all_phrases(sim.library)
    sim.send(Command("resume"))
    sim.advance_to(sim.now + 2.0)
    assert not sim.send(Command("time_left"))[0].text.startswith("Paused.")


def test_help_and_list_say_what_exists() -> None:
    sim = _in_mode("idle")
    help_text = sim.send(Command("help"))[0]
    assert isinstance(help_text, Speak)
    from skill.core.intents import FIXED_PHRASES

    said = help_text.text.lower()
    for name in COMMANDS:  # each command is taught by a phrase that means it
        assert any(p in said for p, c in FIXED_PHRASES.items() if c == name), name
    listing = sim.send(Command("list"))[0]
    assert isinstance(listing, Speak)
    assert "tiny" in listing.text and "other one" in listing.text


def test_start_without_a_name_uses_the_last_routine_then_the_default() -> None:
    sim = _in_mode("idle")
    start(sim, "other one")
    sim.send(Command("stop"))
    sim.send(Command("start"))
    assert sim.player.routine_id == "other_one"
    fresh = Simulation(tiny_library())
    fresh.send(Command("start"))
    assert fresh.player.routine_id == "tiny"


def test_an_unknown_routine_is_answered_with_the_list() -> None:
    sim = _in_mode("idle")
    reply = sim.send(Command("start", {"routine": "juggling"}))[0]
    assert isinstance(reply, Speak)
    assert reply.text.startswith(phrases.UNKNOWN_ROUTINE) and "tiny" in reply.text
    assert sim.player.mode == "idle"


def test_led_follows_the_state_and_progress_is_throttled() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    sim.run()
    leds = [(e.t, e.item) for e in sim.timeline if isinstance(e.item, SetLed)]
    states = [led.state for _, led in leds]
    assert states[0] == LedState.SPEAKING and states[-1] == LedState.READY
    holding = [(t, led.progress) for t, led in leds if led.state == LedState.HOLDING]
    assert all(p is not None and 0.0 <= p <= 1.0 for _, p in holding)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(holding) if b[1] != 0.0]
    assert gaps and min(gaps) >= 0.5 - 1e-6
    sim2 = _in_mode("running")
    assert SetLed(LedState.PAUSED) in sim2.send(Command("pause"))


def test_microphone_loss_shows_an_error_and_keeps_the_position() -> None:
    library = tiny_library()
    sim = Simulation(library)
    start(sim)
    run_until(sim, in_hold)
    index = sim.player.index
    actions = sim.send(DeviceProblem("microphone", ok=False, detail="unplugged"))
    assert SetLed(LedState.ERROR) in actions
    assert any(isinstance(a, Speak) and a.text == phrases.MIC_DOWN for a in actions)
    assert sim.player.index == index and sim.player.mode == "running"
    count = len(sim.actions)
    sim.advance_to(sim.now + 30)
    assert not any(isinstance(a, SetLed) for a in sim.actions[count:])  # error stays visible
    back = sim.send(DeviceProblem("microphone", ok=True))
    assert any(isinstance(a, SetLed) and a.state != LedState.ERROR for a in back)
    assert any(isinstance(a, Speak) and a.text == phrases.MIC_UP for a in back)
    sim.run()
    record = next(a.record for a in sim.actions if isinstance(a, RecordSession))
    assert record["finished"] is True and record["steps_done"] == 3


def test_progress_is_saved_after_every_step_as_json() -> None:
    sim = Simulation(tiny_library())
    start(sim)
    sim.run()
    saves = [a.snapshot for a in sim.actions if isinstance(a, SaveProgress)]
    holds = [e for e in sim.timeline if e.item == PlayCue("hold_start")]
    snapshots = [s for s in saves if s is not None]
    assert len(snapshots) >= len(holds)
    for snap in snapshots:
        data = json.loads(json.dumps(snap))
        expected = {"routine", "step", "side", "rep", "remaining", "pace", "saved_at", "beat"}
        assert expected <= set(data)
    assert saves[-1] is None


def _snapshot_mid_hold(library: Library) -> tuple[dict[str, object], float]:
    sim = Simulation(library)
    start(sim)
    run_until(sim, lambda s: in_hold(s) and s.player.beat is not None and s.player.beat.rep == 2)
    sim.advance_to(sim.now + 3.0)
    sim.send(Command("pause"))
    snaps = [a.snapshot for a in sim.actions if isinstance(a, SaveProgress)]
    snap = snaps[-1]
    assert snap is not None and snap["remaining"] == pytest.approx(7.0, abs=TICK)
    return dict(snap), sim.wall_start + sim.now


def test_resume_after_a_restart_continues_where_the_person_was() -> None:
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)
    sim = Simulation(library, saved=snap, wall_start=saved_wall + 3600)
    sim.send(Command("resume"))
    assert sim.player.mode == "running"
    said = sim.spoken()
    assert said[0].startswith("Welcome back.") and "Lift your left arm." in said[1]
    sim.advance_to(2.0)  # a break during the instructions does not lose the place
    sim.send(Command("pause"))
    sim.send(Command("resume"))
    run_until(sim, in_hold)
    assert sim.player.beat is not None and sim.player.beat.rep == 2
    assert sim.player.remaining_hold == pytest.approx(7.0, abs=TICK)
    sim.run()
    record = next(a.record for a in sim.actions if isinstance(a, RecordSession))
    assert record["resumed"] is True and record["finished"] is True


def test_resume_keeps_the_saved_rep_and_side_and_the_original_start_time() -> None:
    """Stopped again while the instructions are repeated: the place saved is still rep 2."""
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)
    place = (snap["beat"], snap["step"], snap["side"], snap["rep"])
    assert place[2:] == ("left", 2)
    sim = Simulation(library, saved=snap, wall_start=saved_wall + 600)
    sim.send(Command("resume"))
    sim.advance_to(1.0)  # still saying the exercise's instructions
    saves = [a.snapshot for a in sim.actions if isinstance(a, SaveProgress)]
    now = sim.player.snapshot()
    assert saves and now is not None
    for saved in [*saves, now]:
        assert saved is not None
        assert (saved["beat"], saved["step"], saved["side"], saved["rep"]) == place
        assert saved["remaining"] == pytest.approx(7.0, abs=TICK)
        assert saved["started_at"] == snap["started_at"]
    again = Simulation(library, saved=now, wall_start=saved_wall + 1200)
    again.send(Command("resume"))
    run_until(again, in_hold)
    assert again.player.beat is not None and again.player.beat.rep == 2
    assert again.player.beat.side == "left"
    assert again.player.remaining_hold == pytest.approx(7.0, abs=TICK)
    again.run()
    record = next(a.record for a in again.actions if isinstance(a, RecordSession))
    assert record["started_at"] == snap["started_at"] and record["resumed"] is True


def test_resume_after_the_window_is_refused_and_clears_the_state() -> None:
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)
    sim = Simulation(library, saved=snap, wall_start=saved_wall + 13 * 3600)
    actions = sim.send(Command("resume"))
    assert SaveProgress(None) in actions
    assert phrases.TOO_OLD in sim.spoken()
    assert sim.player.mode == "idle"
    short = PlayerSettings(resume_window_hours=1.0)
    sim2 = Simulation(library, settings=short, saved=snap, wall_start=saved_wall + 2 * 3600)
    sim2.send(Command("resume"))
    assert sim2.player.mode == "idle"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"routine": "gone"}, "routine 'gone' is not in the library"),
        ({"beat": 999}, "beat 999"),
        ({"beat": -1}, "beat -1"),
        ({"rep": "x"}, "rep"),
        ({"pace": "fast"}, "pace"),
        ({"started_at": "noon"}, "started_at"),
        ({"remaining": [1]}, "remaining"),
        ({"saved_at": None}, "saved_at"),
        ({"saved_at": "yesterday"}, "saved_at"),
    ],
)
def test_a_snapshot_that_no_longer_fits_is_set_aside_saying_why(
    change: dict[str, object], why: str
) -> None:
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)
    sim = Simulation(library, saved={**snap, **change}, wall_start=saved_wall)
    actions = sim.send(Command("resume"))
    assert sim.player.mode == "idle"
    saves = [a for a in actions if isinstance(a, SaveProgress)]
    assert len(saves) == 1 and saves[0].snapshot is None, actions
    assert why in saves[0].set_aside, saves[0]
    assert any(isinstance(a, Log) and a.level == "warning" and why in a.message for a in actions)
    assert sim.spoken()[-1] == phrases.UNUSABLE_SESSION
    said = set(phrases.split_sentences(phrases.UNUSABLE_SESSION))
    assert said <= phrases.fixed_phrases(library)  # pre-rendered


def test_an_empty_snapshot_is_nothing_to_continue() -> None:
    sim = Simulation(tiny_library(), saved={}, wall_start=1e9)
    sim.send(Command("resume"))
    assert sim.player.mode == "idle"
    assert sim.spoken()[-1] in (phrases.NOTHING_TO_CONTINUE, phrases.TOO_OLD)


def test_the_player_is_pure_and_reads_time_only_from_its_clock() -> None:
    now = [100.0]
    player = Player(tiny_library(), clock=lambda: now[0], wall=lambda: 0.0)
    player.handle(Command("start"))
    assert player.mode == "running" and player.next_deadline() is None  # speaking
    uid = player._awaiting
    assert uid is not None
    from skill.core.events import SpeechDone

    player.handle(SpeechDone(uid))
    player.handle(SpeechDone(player._awaiting or 0))
    deadline = player.next_deadline()
    assert deadline is not None and math.isclose(deadline, 100.0 + 10.0 - 3.0)
    assert player.handle(Tick()) == []  # nothing due yet


def test_a_lost_speech_done_does_not_hang_the_routine() -> None:
    now = [0.0]
    player = Player(tiny_library(), clock=lambda: now[0], wall=lambda: 0.0)
    player.handle(Command("start"))
    first = player._awaiting
    now[0] = 5.0
    assert player.handle(Tick()) == []  # still speaking, as far as anyone knows
    now[0] = 120.0
    actions = player.handle(Tick())
    assert any(isinstance(a, Log) and a.level == "warning" for a in actions)
    assert player.mode == "running" and player._awaiting not in (None, first)


def _time_left_in(sim: Simulation, kind: str, rep: int, into: float) -> str:
    """The time-left answer `into` seconds after the timed beat of `kind` and `rep` begins."""
    run_until(
        sim,
        lambda s: (
            s.player.beat is not None
            and s.player.beat.kind == kind
            and s.player.beat.rep == rep
            and s.player.phase == "timed"
        ),
    )
    sim.advance_to(sim.now + into)
    reply = sim.send(Command("time_left"))[0]
    assert isinstance(reply, Speak)
    return reply.text


def _seconds_to_step_end(sim: Simulation) -> float:
    """Planned seconds from now to the end of the current exercise (its reps, holds, rests)."""
    player, plan = sim.player, sim.player.plan
    assert plan is not None and player.beat is not None and player.remaining_hold is not None
    step, after = player.beat.step, player.index + 1
    end = after
    while end < len(plan.beats) and plan.beats[end].step == step:
        end += 1
    rest = sum(plan.beat_seconds(b, player.pace) for b in plan.beats[after:end])
    return player.remaining_hold + rest


def _spoken_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{round(seconds)} seconds"
    minutes = round(seconds / 60)
    return f"About {minutes} minute" + ("" if minutes == 1 else "s")


def test_time_left_in_a_moving_rep_names_the_rep_and_the_whole_exercise() -> None:
    sim = Simulation(tiny_library(), tick=None)
    start(sim)
    text = _time_left_in(sim, "move", 1, 1.0)  # roll: 4 moving reps of 3 s
    exercise = _seconds_to_step_end(sim)
    assert exercise > 10  # three more reps and the closing words
    assert text.startswith("2 seconds left in this rep.")
    assert f"{_spoken_seconds(exercise)} left in this exercise." in text
    assert "left in the routine." in text


def test_time_left_in_a_hold_with_more_reps_names_the_exercise_too() -> None:
    sim = Simulation(tiny_library(), tick=None)
    start(sim)
    text = _time_left_in(sim, "hold", 1, 3.0)  # reach, left side, rep 1 of 2; then the right
    exercise = _seconds_to_step_end(sim)
    assert text.startswith("7 seconds left in this hold.")
    assert f"{_spoken_seconds(exercise)} left in this exercise." in text


def test_time_left_in_a_last_single_hold_does_not_repeat_itself() -> None:
    sim = Simulation(tiny_library(), tick=None)
    start(sim)  # long_hold, the last exercise: 2 sets of one 30 s hold, a rest between
    run_until(sim, lambda s: s.player.beat is not None and s.player.beat.set == 2 and in_hold(s))
    sim.advance_to(sim.now + 5.0)
    reply = sim.send(Command("time_left"))[0]
    assert isinstance(reply, Speak)
    assert reply.text.startswith("25 seconds left in this hold.")
    assert "exercise" not in reply.text


def test_time_left_in_the_quick_stretch_counts_every_rep_of_cat_cow() -> None:
    library = real_library()
    if library is None or "quick_stretch" not in library.routines:
        pytest.skip("no shipped library")
    sim = Simulation(library, tick=None)
    start(sim, "quick_stretch")
    text = _time_left_in(sim, "move", 1, 2.0)  # cat-cow, pose 1 of 10, 5 s each, then a rest
    assert text.startswith("3 seconds left in this rep.")
    assert f"{_spoken_seconds(_seconds_to_step_end(sim))} left in this exercise." in text


def test_a_lost_microphone_offers_the_button_only_when_there_is_one() -> None:
    for has_button, notice in ((True, phrases.MIC_DOWN), (False, phrases.MIC_DOWN_NO_BUTTON)):
        sim = Simulation(tiny_library(), settings=PlayerSettings(has_button=has_button))
        said = [a for a in sim.send(DeviceProblem("microphone", ok=False)) if isinstance(a, Speak)]
        assert [s.text for s in said] == [notice]
        assert ("button" in notice) == has_button


def test_the_button_in_idle_resumes_a_resumable_session_else_starts_afresh() -> None:
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)
    fresh = Simulation(library, saved=snap, wall_start=saved_wall + 600)
    assert fresh.player.resumable_routine() is not None
    fresh.send(Command("start", source="button"))
    assert fresh.spoken()[0].startswith("Welcome back.")
    run_until(fresh, in_hold)
    assert fresh.player.beat is not None and fresh.player.beat.rep == 2
    old = Simulation(library, saved=snap, wall_start=saved_wall + 13 * 3600)
    assert old.player.resumable_routine() is None
    old.send(Command("start", source="button"))
    assert old.player.mode == "running" and not old.spoken()[0].startswith("Welcome back.")
    assert old.player.index == 0  # from the top, as before


def test_a_sessions_minutes_leave_out_breaks_and_the_gap_before_a_resume() -> None:
    """Resumed the next morning, the session is the minutes stretched, not a night long."""
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)  # paused at once after the save's hold
    before = snap["active_s"]
    assert isinstance(before, float) and before > 0
    sim = Simulation(library, saved=snap, wall_start=saved_wall + 10 * 3600)
    sim.send(Command("resume"))
    sim.advance_to(sim.now + 5.0)
    sim.send(Command("pause"))
    sim.advance_to(sim.now + 600.0)  # a 10-minute break
    sim.send(Command("resume"))
    began = sim.now
    sim.run()
    record = next(a.record for a in sim.actions if isinstance(a, RecordSession))
    elapsed = record["ended_at"] - record["started_at"]
    assert elapsed > 10 * 3600
    assert record["active_s"] == pytest.approx(before + 5.0 + (sim.now - began), abs=2 * TICK)


def test_an_interrupted_session_that_is_never_resumed_goes_into_the_history() -> None:
    """QA: a session cut off by a restart vanished when another began, or when 'resume'
    found it too old: 4 of 9 sessions were missing from the history and the streak."""
    library = tiny_library()
    snap, saved_wall = _snapshot_mid_hold(library)
    replaced = Simulation(library, saved=snap, wall_start=saved_wall + 600)
    replaced.send(Command("start"))
    expired = Simulation(library, saved=snap, wall_start=saved_wall + 13 * 3600)
    expired.send(Command("resume"))
    assert phrases.TOO_OLD in expired.spoken()
    for sim in (replaced, expired):
        (record,) = [a.record for a in sim.actions if isinstance(a, RecordSession)]
        assert record["outcome"] == "interrupted" and record["finished"] is False
        assert record["started_at"] == snap["started_at"]
        assert record["ended_at"] == snap["saved_at"] == saved_wall
        assert record["active_s"] == snap["active_s"]
        assert record["routine"] == "tiny" and record["steps_total"] == 3
    assert replaced.player.mode == "running"


def test_a_new_routine_starts_at_the_configured_pace() -> None:
    """QA: "slower" carried over into the next routine (until a restart reset it)."""
    sim = Simulation(tiny_library())
    start(sim)
    sim.send(Command("slower"))
    assert sim.player.pace > 1.0
    sim.send(Command("stop"))
    sim.send(Command("start"))
    assert sim.player.pace == 1.0


def test_a_session_saved_before_its_first_hold_is_not_counted_when_replaced() -> None:
    """QA: a start and a restart during the props wait counted as a day stretched."""
    library = tiny_library()
    early = Simulation(library)
    start(early)
    snap = early.player.snapshot()
    assert snap is not None and snap["exercised"] is False
    later = Simulation(library, saved=snap, wall_start=early.wall_start + 600)
    later.send(Command("start"))
    assert not [a for a in later.actions if isinstance(a, RecordSession)]
