"""Scripted sessions on the virtual clock, and `stretch-coach show`."""

from __future__ import annotations

import re

import pytest
from test_player_support import real_library, tiny_library

from skill.cli.main import main
from skill.core.events import Command, RecordSession
from skill.core.plan import planned_total
from skill.core.simulate import ScriptError, bench_simulate, parse_script, simulate


def test_parse_script_reads_times_commands_and_routine_names() -> None:
    script = parse_script(
        "t=60 next; t=30 pause;\n t=45 resume; t=1:30 time left; t=0 start upper back"
    )
    assert [(t, c.name) for t, c in script] == [
        (0.0, "start"),
        (30.0, "pause"),
        (45.0, "resume"),
        (60.0, "next"),
        (90.0, "time_left"),
    ]
    assert script[0][1].args == {"routine": "upper back"}
    assert parse_script(" ; ") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t=30 resme", "Did you mean 'resume'?"),
        ("30 pause", "expected 't=SECONDS COMMAND'"),
        ("t=3x pause", "expected 't=SECONDS COMMAND'"),
        ("t=1:2:3 pause", "not seconds (30) or m:ss"),
        ("t=5 pause now", "only start takes a routine name"),
    ],
)
def test_parse_script_explains_bad_items(text: str, message: str) -> None:
    with pytest.raises(ScriptError, match=re.escape(message)):
        parse_script(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "t=30 pause t=45 resume",
            "'t=30 pause t=45 resume': cannot read 't=45 resume' as part of 't=30 pause';"
            " separate entries with ';', e.g. 't=30 pause; t=45 resume'",
        ),
        # Read as a routine called "upper back t=45 pause" (bug: no message at all).
        ("t=0 start upper back T = 45 pause", "cannot read 'T = 45 pause' as part of"),
    ],
)
def test_a_missing_semicolon_names_the_entry_it_could_not_read(text: str, message: str) -> None:
    """QA: a missing ';' said "only start takes a routine name, not 't=45 resume'"."""
    with pytest.raises(ScriptError, match=re.escape(message)):
        parse_script(text)


def test_a_scripted_session_follows_the_script() -> None:
    library = tiny_library()
    script = parse_script("t=30 pause; t=45 resume; t=60 next; t=100 stop")
    timeline = simulate(library, "tiny", script)
    commands = [(e.t, e.text) for e in timeline if e.kind == "command"]
    assert commands == [
        (0.0, "start tiny"),
        (30.0, "pause"),
        (45.0, "resume"),
        (60.0, "next"),
        (100.0, "stop"),
    ]
    record = next(e.item for e in timeline if isinstance(e.item, RecordSession))
    assert record.record["outcome"] == "stopped"
    assert timeline[-1].t == pytest.approx(100.0, abs=5.0)


def test_a_pause_lengthens_the_session_by_the_break() -> None:
    library = tiny_library()
    plain = simulate(library, "tiny", [], tick=None)[-1].t
    paused = simulate(library, "tiny", [(20.0, Command("pause")), (80.0, Command("resume"))])
    assert paused[-1].t > plain + 55.0


def test_show_prints_the_timed_plan(capsys: pytest.CaptureFixture[str]) -> None:
    library = real_library()
    if library is None:
        pytest.skip("the shipped library is not there yet")
    assert main(["show", "Upper", "Back", "Routine"]) == 0
    out = capsys.readouterr().out
    total = planned_total(library, library.routines["upper_back"])
    assert f"{int(total) // 60}:{int(total) % 60:02d}" in out.splitlines()[-1]
    assert "hold" in out and "Switch sides." in out
    assert "props: You need a pillow and a small towel." in out
    childs_pose = library.exercises["childs_pose"]
    assert f"on 'easier': {childs_pose.easier}" in out
    assert "variant" not in out  # upper back has no merged exercise
    assert main(["show", "lower back"]) == 0
    out = capsys.readouterr().out
    assert "variant, flexion/extension cat stretch: " in out
    assert "Keep the stretch mild to moderate." in out  # the cautions, where they are said


def test_show_simulate_prints_a_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    if real_library() is None:
        pytest.skip("the shipped library is not there yet")
    script = "t=30 pause; t=45 resume; t=150 stop"  # stopped in cat-cow's rest: a session
    assert main(["show", "quick stretch", "--simulate", script]) == 0
    out = capsys.readouterr().out
    assert "command  pause" in out and "command  stop" in out and "record" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "juggling"], "unknown routine 'juggling'. Known routines:"),
        (["show", "uper_back"], "unknown routine 'uper_back'. Did you mean 'upper_back'?"),
        (["show", "quick stretch", "--simulate", "t=5 jump"], "unknown command 'jump'"),
        (["show", "quick stretch", "--pace", "3"], "--pace 3: use one of"),
    ],
)
def test_show_explains_bad_input(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if real_library() is None:
        pytest.skip("the shipped library is not there yet")
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_bench_simulate_reports_numbers() -> None:
    library = real_library() or tiny_library()
    longest = max(library.routines, key=lambda r: planned_total(library, library.routines[r]))
    result = bench_simulate(library, longest, repeats=1)
    assert result["virtual_s"] == pytest.approx(
        planned_total(library, library.routines[longest]), abs=1e-6
    )
    assert result["wall_s"] > 0 and result["speedup"] > 1


def test_a_script_may_say_a_command_as_it_is_spoken() -> None:
    from skill.core.simulate import parse_script

    script = parse_script("t=5 what do I need; t=9 props; t=12 hold on")
    assert [c.name for _, c in script] == ["props", "props", "pause"]


def test_show_help_says_what_pace_scales_and_that_simulate_says_ready_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """QA: --pace said "hold and rest scale" but it scales the changes of position too, and
    --simulate did not say its person answers the props question with 'ready' at once."""
    from skill.core.plan import build_plan

    library = real_library()
    assert library is not None
    routine = library.routines["upper_back"]
    gaps = [
        [plan.beat_seconds(b, pace) for b in plan.beats if b.kind == "gap"]
        for pace, plan in ((p, build_plan(library, routine, p)) for p in (1.0, 1.5))
    ]
    assert gaps[0] and gaps[1] == [s * 1.5 for s in gaps[0]]  # what the help must say
    with pytest.raises(SystemExit):
        main(["show", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "holds, rests, moves and changes of position" in text
    assert "says 'ready' at once" in text
