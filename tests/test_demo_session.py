"""The demo's transcript on a fake recognizer and silent voices (fast; the real one is slow)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable

import numpy as np
import pytest
from test_player_support import real_library

from skill.asr import Hearing
from skill.demo import SCRIPT, DemoResult, Line, Session, _VirtualClock, describe_command
from skill.events import Command
from skill.plan import estimate_speech_seconds
from skill.player import Player

RATE = 16000
STAMP = re.compile(r"^\[(\d\d):(\d\d\.\d)\] ")
START = Line("start upper back routine", "start", "idle", 1.0)


def _silence(text: str) -> tuple[np.ndarray, int]:
    return np.zeros(int(estimate_speech_seconds(text) * RATE), dtype=np.int16), RATE


class FakeEngine:
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


def _run(engine: FakeEngine, script: tuple[Line, ...] = (START, *SCRIPT[1:])) -> list[str]:
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
    return lines


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
    assert heard[4].startswith("time left (confidence"), heard  # after ready, wait, continue
    assert not any("{" in h or "_" in h.split("(")[0] for h in heard), heard


def test_describe_command() -> None:
    assert describe_command(Command("start", {"routine": "upper_back"})) == "start upper back"
    assert describe_command(Command("start")) == "start"
    assert describe_command(Command("time_left")) == "time left"


def test_an_unheard_command_gets_a_line_each_time() -> None:
    lines = _run(FakeEngine(late={"wait"}))
    unheard = [line for line in lines if "not heard" in line and "'wait'" in line]
    assert len(unheard) == 1, "\n".join(lines)
    said = [i for i, line in enumerate(lines) if "person  : 'wait'" in line]
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
    import skill.demo
    from skill.cmd_demo import register

    monkeypatch.setattr(skill.demo, "run_demo", _fake_run_demo)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["demo", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_json_prints_only_the_json_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, err = _demo_cli(monkeypatch, capsys, "--fast", "--json")
    summary = json.loads(out)  # nothing else on stdout
    assert summary["engine"] == "fake" and summary["session_s"] == 80.0
    assert "heard   : start upper back" in err


def test_demo_without_json_prints_the_transcript_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _demo_cli(monkeypatch, capsys, "--fast")
    assert "heard   : start upper back" in out and "commands recognized" in out
