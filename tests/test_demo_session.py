"""The demo's transcript on a fake recognizer and silent voices (fast; the real one is slow)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from test_player_support import real_library

from skill.core.events import Command
from skill.core.plan import estimate_speech_seconds
from skill.core.player import Player
from skill.errors import UserError
from skill.speech_in.asr import Hearing
from skill.tools.demo import SCRIPT, DemoResult, Line, Session, _VirtualClock, describe_command
from tests.engine_fakes import NoHooks

RATE = 16000
STAMP = re.compile(r"^\[(\d\d):(\d\d\.\d)\] ")
START = Line("start upper back routine", "start", "idle", 1.0)


def _silence(text: str) -> tuple[np.ndarray, int]:
    return np.zeros(int(estimate_speech_seconds(text) * RATE), dtype=np.int16), RATE


class FakeEngine(NoHooks):
    """Hears each scripted line 0.3 s after the person finishes it, except those in `deaf`
    (never heard) or, for the first `misses` tries, in `late` (heard only when said again)."""

    name = "fake"

    def __init__(self, deaf: Iterable[str] = (), late: Iterable[str] = ()) -> None:
        self.session: Session | None = None
        self.deaf, self.late = set(deaf), set(late)
        self.done: set[tuple[int, int]] = set()

    def accept(self, pcm: object) -> list[Hearing]:
        s = self.session
        assert s is not None
        if s.cursor >= len(s.outcomes):
            return []
        outcome = s.outcomes[s.cursor]
        line, tries = outcome.line, len(outcome.said_at)
        key = (s.cursor, tries)
        if not tries or key in self.done or s.t < outcome.said_at[-1] + 0.3:
            return []
        self.done.add(key)
        if line.text in self.deaf or (line.text in self.late and tries < 2):
            return []
        args = {"routine": "upper_back"} if line.expect == "start" else {}
        command = Command(line.expect, args, confidence=0.9, text=line.text)
        return [Hearing(line.text, command, 0.9, "fake", True, audio_end_s=s.t)]

    def flush(self) -> list[Hearing]:
        return []

    def reset(self) -> None:
        return None


def _session(
    engine: FakeEngine, script: tuple[Line, ...] = (START, *SCRIPT[1:])
) -> tuple[Session, list[str]]:
    """A finished session and its transcript: the fake hears the script, the coach's voice
    is silence."""
    library = real_library()
    assert library is not None
    lines: list[str] = []
    clock = _VirtualClock()
    session = Session(
        Player(library, clock=clock), engine, _silence, lines.append, _silence, script
    )
    clock.session = engine.session = session
    session.run(limit_s=240.0)
    session.flush_report()
    return session, lines


def _run(engine: FakeEngine, script: tuple[Line, ...] = (START, *SCRIPT[1:])) -> list[str]:
    return _session(engine, script)[1]


def _seconds(line: str) -> float:
    match = STAMP.match(line)
    assert match, line
    return int(match[1]) * 60 + float(match[2])


def test_the_transcript_is_in_time_order() -> None:
    lines = _run(FakeEngine())
    stamps = [_seconds(line) for line in lines if STAMP.match(line)]
    assert len(stamps) > 20
    assert stamps == sorted(stamps), "\n".join(lines)


def test_heard_commands_read_as_words_not_python() -> None:
    lines = _run(FakeEngine())
    heard = [line.split("heard   : ")[1] for line in lines if "heard   : " in line]
    assert heard[0].startswith("start upper back (confidence"), heard
    assert heard[4].startswith("time left (confidence"), heard  # after ready, pause, continue
    assert not any("{" in h or "_" in h.split("(")[0] for h in heard), heard


def test_describe_command() -> None:
    assert describe_command(Command("start", {"routine": "upper_back"})) == "start upper back"
    assert describe_command(Command("start")) == "start"
    assert describe_command(Command("time_left")) == "time left"


def test_an_unheard_command_gets_a_line_each_time() -> None:
    lines = _run(FakeEngine(late={"Pause!"}))
    unheard = [line for line in lines if "not heard" in line and "'Pause!'" in line]
    assert len(unheard) == 1, "\n".join(lines)
    said = [i for i, line in enumerate(lines) if "person  : 'Pause!'" in line]
    assert len(said) == 2 and said[0] < lines.index(unheard[0]) < said[1]


def test_a_command_never_heard_is_reported_every_try_and_at_the_end() -> None:
    lines = _run(FakeEngine(deaf={"continue"}))
    unheard = [line for line in lines if "not heard" in line and "'continue'" in line]
    assert len(unheard) == 3, "\n".join(lines)


def _fake_run_demo(routine: object, **kwargs: object) -> DemoResult:
    report = kwargs.get("report", print)
    assert callable(report)
    report("[00:01.1] person  : 'start upper back routine'")
    report("[00:03.4] heard   : start upper back (confidence 0.90, fake)")
    return DemoResult([], 80.0, 10.0, None, "fake")


def _demo_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    import skill.tools.demo
    from skill.cli.cmd_demo import register

    monkeypatch.setattr(skill.tools.demo, "run_demo", _fake_run_demo)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["demo", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_json_prints_only_the_json_on_stdout(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, err = _demo_cli(monkeypatch, capsys, "--fast", "--json")
    summary = json.loads(out)  # nothing else on stdout
    assert summary["engine"] == "fake" and summary["session_s"] == 80.0
    assert "heard   : start upper back" in err


def test_demo_without_json_prints_the_transcript_on_stdout(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _demo_cli(monkeypatch, capsys, "--fast")
    assert "heard   : start upper back" in out and "commands recognized" in out


def _config(xdg_home: Path, text: str) -> Path:
    folder = xdg_home / "xdg_config_home" / "stretch-coach"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    return folder / "config.yaml"


def _demo_routine(monkeypatch: pytest.MonkeyPatch, *argv: str) -> object:
    """The routine `stretch-coach demo ARGV` asks run_demo for."""
    import skill.tools.demo
    from skill.cli.main import main

    asked: list[object] = []

    def fake(routine: object, **kwargs: object) -> DemoResult:
        asked.append(routine)
        return _fake_run_demo(routine, **kwargs)

    monkeypatch.setattr(skill.tools.demo, "run_demo", fake)
    main(["demo", "--fast", "--json", *argv])
    return asked[0] if asked else None


def test_demo_starts_the_configured_default_routine(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: the demo started the library's default, not the config's default_routine."""
    monkeypatch.chdir(xdg_home)
    _config(xdg_home, "default_routine: lower_back\n")
    assert _demo_routine(monkeypatch) == "lower_back"
    assert _demo_routine(monkeypatch, "desk_break") == "desk_break"  # named: it wins


def test_demo_takes_a_routine_name_of_several_words_as_show_does(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: `demo lower back` was "unrecognized arguments: back"; `show lower back` works."""
    monkeypatch.chdir(xdg_home)
    assert _demo_routine(monkeypatch, "lower", "back") == "lower back"


def test_demo_with_a_broken_config_says_which_file_and_runs_nothing(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(xdg_home)
    path = _config(xdg_home, "default_routine: [\n")
    assert _demo_routine(monkeypatch) is None
    assert f"stretch-coach: {path}:2: YAML syntax error" in capsys.readouterr().err


def test_demo_names_the_config_file_of_a_default_routine_that_is_no_routine(
    xdg_home: Path,
) -> None:
    """As the service does: it says why, and starts the library's default."""
    from skill.library.loader import load_library
    from skill.tools.demo import demo_routine

    said: list[str] = []
    chosen = demo_routine(load_library(), "lowr_back", "config.yaml", said.append)
    assert chosen.id == "upper_back"
    assert said[0].startswith("warning: config.yaml: key 'default_routine' is 'lowr_back'")
    assert said[0].endswith("using upper back until it is fixed")


def test_demo_of_a_routine_in_a_broken_file_names_the_file(xdg_home: Path) -> None:
    """QA: one tab in the person's routine file stopped the coach; the demo, named that
    routine, says where it is rather than that it does not exist."""
    from skill.library.loader import load_library
    from skill.tools.demo import demo_routine

    folder = xdg_home / "xdg_config_home" / "stretch-coach" / "routines"
    folder.mkdir(parents=True)
    mine = folder / "mine.yaml"
    mine.write_text("routines:\n  - id: my_morning\n    name: my morning\n\tsteps: [cat_cow]\n")
    said: list[str] = []
    assert demo_routine(load_library(), "my morning", "c.yaml", said.append).id == "upper_back"
    assert f"default_routine 'my morning' is in {mine}:2, which has a problem" in said[0]
    with pytest.raises(UserError, match=f"routine 'my morning' is in {mine}:2"):
        demo_routine(load_library(), "my morning", None, said.append)


def test_demo_takes_a_default_routine_named_as_spoken(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: 'default_routine: lower back' was "not a routine" though `show lower back` works."""
    from skill.library.loader import load_library
    from skill.tools.demo import demo_routine

    monkeypatch.chdir(xdg_home)
    _config(xdg_home, "default_routine: lower back\n")
    assert _demo_routine(monkeypatch) == "lower back"  # run_demo checks it, as below
    assert demo_routine(load_library(), "lower back", "config.yaml", print).id == "lower_back"


# --- every action reaches the demo, through the service's router ---------------------------


def test_cue_tones_reach_the_microphone_as_echo() -> None:
    """The coach's voice is silence here, so any sound in the room's echo is a cue tone."""
    session, lines = _session(FakeEngine())
    cues = [line for line in lines if "cue     : " in line]
    assert cues, "\n".join(lines)
    echo = session.mic_coach.render(session.t)
    assert np.abs(echo).max() > 1000
    first = _seconds(cues[0])
    at = int(first * RATE)
    assert np.abs(echo[at : at + int(0.1 * RATE)]).max() > 1000  # sounding when it says so


def test_louder_raises_the_volume_of_what_the_coach_plays_next() -> None:
    session, lines = _session(FakeEngine(), script=(START,))

    def tick_peak() -> int:
        session.cue("tick")
        return int(np.abs(session.mic_coach.clips[-1][1]).max())

    before, quiet_peak = session.volume, tick_peak()
    session.apply(session.player.handle(Command("louder", source="demo")))
    assert session.volume > before
    assert tick_peak() > quiet_peak * 1.1
    assert any("volume  : 80% -> " in line for line in lines), "\n".join(lines)


def test_progress_goes_to_a_scratch_folder_never_the_persons_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    session, _ = _session(FakeEngine())
    store = session.progress.store  # type: ignore[attr-defined]
    assert [h["routine"] for h in store.history()] == ["upper_back"]  # "I'm done" was recorded
    assert not (tmp_path / "state").exists()
