"""`stretch-coach history` and `stretch-coach status`, read from a temporary state directory."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import skill.cli.main as cli
from skill.cli import cmd_progress
from skill.core.player import Player, PlayerSettings
from skill.library.loader import load_library

NOW = datetime(2026, 12, 4, 18, 0)  # a Friday, local time


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("STATE_DIRECTORY", "CONFIGURATION_DIRECTORY", "CACHE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(cmd_progress, "wall", NOW.timestamp)
    return tmp_path / "state" / "stretch-coach"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def session(start: datetime, minutes: float, finished: bool = True) -> dict[str, Any]:
    return {
        "routine": "upper_back",
        "name": "upper back",
        "started_at": start.timestamp(),
        "ended_at": (start + timedelta(minutes=minutes)).timestamp(),
        "steps_done": 5 if finished else 2,
        "steps_total": 5,
        "finished": finished,
        "outcome": "finished" if finished else "stopped",
        "resumed": False,
    }


def strict_json(text: str) -> Any:
    """Parse as any JSON reader would: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def write_history(folder: Path, records: list[dict[str, Any]], damaged: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in records]
    if damaged:
        lines.insert(1, '{"routine": "upper_b')
    (folder / "history.jsonl").write_text("\n".join(lines) + "\n")


# --- history -------------------------------------------------------------------------------


def test_history_says_when_there_is_none_yet(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(["history"], capsys)
    assert code == 0
    assert "no sessions yet" in out
    code, out = run(["history", "--json"], capsys)
    data = json.loads(out)
    assert data["sessions"] == []
    assert data["streak_days"] == 0
    assert len(data["weeks"]) == 12
    assert all(w["minutes"] == 0 for w in data["weeks"])


def test_history_lists_sessions_weeks_and_streak(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = NOW.replace(hour=9)
    records = [
        session(datetime(2026, 1, 5, 9), 30),  # older than 12 weeks: listed, not in the weeks
        session(datetime(2026, 11, 20, 9), 8),
        session(day - timedelta(days=4), 5, finished=False),  # Monday of this week
        session(day - timedelta(days=2), 10),
        session(day - timedelta(days=1), 10),
        session(day, 12),
    ]
    write_history(state, records, damaged=True)
    code, out = run(["history", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert [s["date"] for s in data["sessions"]] == [
        "2026-01-05",
        "2026-11-20",
        "2026-11-30",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
    ]
    last = data["sessions"][-1]
    assert last["routine"] == "upper_back"
    assert last["minutes"] == 12
    assert last["finished"] is True
    assert data["sessions"][2]["finished"] is False
    weeks = data["weeks"]
    assert len(weeks) == 12
    assert weeks[-1] == {"week_of": "2026-11-30", "minutes": 37}
    assert weeks[-3] == {"week_of": "2026-11-16", "minutes": 8}
    assert weeks[0]["week_of"] == "2026-09-14"
    assert sum(w["minutes"] for w in weeks) == 45
    assert data["streak_days"] == 3

    code, out = run(["history"], capsys)
    assert code == 0
    assert "2026-12-04" in out and "upper back" in out and "12 min" in out
    assert "stopped" in out and "finished" in out
    assert "week of 2026-11-30" in out and "37 min" in out
    assert "3 days" in out


def test_the_streak_survives_until_today_ends(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yesterday = NOW.replace(hour=9) - timedelta(days=1)
    write_history(state, [session(yesterday - timedelta(days=1), 5), session(yesterday, 5)])
    _code, out = run(["history", "--json"], capsys)
    assert json.loads(out)["streak_days"] == 2
    write_history(state, [session(yesterday - timedelta(days=1), 5)])
    _code, out = run(["history", "--json"], capsys)
    assert json.loads(out)["streak_days"] == 0


def test_history_keeps_records_with_impossible_times_and_skips_undated_ones(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = session(NOW.replace(hour=9), 12)
    bad = [
        '{"routine": "upper_back", "started_at": NaN, "ended_at": 5}',
        '{"routine": "upper_back", "started_at": 1e20, "ended_at": 1e20}',
        '{"routine": "upper_back", "started_at": -1e12, "ended_at": -1e12}',
        '{"routine": "upper_back", "started_at": 0, "ended_at": Infinity}',
        '{"routine": "upper_back", "started_at": -Infinity, "ended_at": 0}',
        f'{{"routine": "upper_back", "started_at": {good["started_at"]}, "ended_at": 5}}',
        f'{{"routine": "upper_back", "started_at": {good["started_at"]}, "ended_at": '
        f'{good["started_at"] + 60}, "steps_done": NaN, "steps_total": Infinity}}',
    ]
    state.mkdir(parents=True)
    (state / "history.jsonl").write_text("\n".join([json.dumps(good), *bad]) + "\n")
    code, out = run(["history", "--json"], capsys)
    assert code == 0
    data = strict_json(out)
    today = [s for s in data["sessions"] if s["date"] == "2026-12-04"]
    assert [s["minutes"] for s in today] == [12, 0, 1]  # the one with odd counts stays
    assert [s["note"] for s in today] == [None, "it ended before it started", None]
    assert today[2]["steps_done"] is None
    assert [s["date"] for s in data["sessions"][:3]] == ["1970-01-01"] * 3  # one time each
    assert data["streak_days"] == 1
    assert any("2 records have neither a start nor an end time" in n for n in data["notes"])
    code, out = run(["history"], capsys)
    assert code == 0
    assert "12 min" in out
    assert "inf" not in out and "nan" not in out
    assert "note: the clock looked wrong for 2026-12-04 09:00 upper_back (it ended " in out


def test_a_session_dated_after_today_does_not_hide_todays_streak(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: a session dated tomorrow (the clock ran ahead) made the streak line say 'up to
    yesterday' on a day with a session."""
    day = NOW.replace(hour=9)
    days = [day - timedelta(days=2), day - timedelta(days=1), day, day + timedelta(days=2)]
    write_history(state, [session(d, 5) for d in days])
    _code, out = run(["history"], capsys)
    assert "streak: 3 days in a row (up to today)" in out
    assert "note: 2026-12-06 09:00 upper back is dated after today: the clock was ahead" in out
    _code, out = run(["history", "--json"], capsys)
    data = json.loads(out)
    assert data["streak_days"] == 3 and len(data["sessions"]) == 4
    assert any("dated after today" in note for note in data["notes"])


def test_history_keeps_a_session_the_clock_going_back_made_end_before_it_began(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: resumed after a restart with the clock 90 minutes back, the finished session was
    left out of `history` with no word."""
    back = session(NOW.replace(hour=7, minute=30), -80)
    write_history(state, [back | {"active_s": 600.0}])
    _code, out = run(["history"], capsys)
    assert "2026-12-04 07:30  upper back" in out and "10 min  finished" in out
    assert "streak: 1 day in a row (up to today)" in out
    assert (
        "note: the clock looked wrong for 2026-12-04 07:30 upper back (it ended before it "
        "started): it is kept, with its 10 min of stretching"
    ) in out
    assert out.count("clock looked wrong") == 1
    _code, out = run(["history", "--json"], capsys)
    (row,) = json.loads(out)["sessions"]
    assert row["minutes"] == 10 and row["note"] == "it ended before it started"


# --- status --------------------------------------------------------------------------------


def save_state(folder: Path, saved: datetime, **extra: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    snap = {  # as the player saves it: beat 8 of upper_back is step 1's first hold, left side
        "version": 1,
        "routine": "upper_back",
        "step": 1,
        "exercise": "rhomboid_stretch",
        "segment": 2,
        "beat": 8,
        "set": 1,
        "side": "left",
        "rep": 1,
        "remaining": 6.0,
        "pace": 1.0,
        "started_at": (saved - timedelta(minutes=5)).timestamp(),
        "saved_at": saved.timestamp(),
        **extra,
    }
    (folder / "state.json").write_text(json.dumps(snap))


def test_status_with_nothing_saved(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["status"], capsys)
    assert code == 0
    assert "nothing to resume" in out
    code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["resumable"] is False


def test_status_names_the_session_and_until_when(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = load_library().library
    routine = library.routines["upper_back"]
    exercise = library.exercises[routine.steps[1].exercise_id].name
    save_state(state, NOW - timedelta(hours=2))
    code, out = run(["status", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["resumable"] is True
    assert data["routine"] == "upper_back"
    assert data["routine_name"] == routine.name
    assert data["exercise"] == exercise
    assert data["saved_at"] == "2026-12-04T16:00:00"
    assert data["resumable_until"] == "2026-12-05T04:00:00"  # resume_window_hours: 12
    code, out = run(["status"], capsys)
    assert routine.name in out and exercise in out
    assert "2026-12-04 16:00" in out and "2026-12-05 04:00" in out


def test_status_of_a_session_too_old_to_resume(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_state(state, NOW - timedelta(hours=13))
    code, out = run(["status"], capsys)
    assert code == 0
    assert "too old" in out and "nothing to resume" in out
    code, out = run(["status", "--json"], capsys)
    data = json.loads(out)
    assert data["resumable"] is False
    assert data["routine"] == "upper_back"


def test_status_follows_the_configured_window(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config" / "stretch-coach" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("resume_window_hours: 24\n")
    save_state(state, NOW - timedelta(hours=13))
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["resumable"] is True


def test_status_of_a_corrupt_state_file(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state.mkdir(parents=True)
    (state / "state.json").write_text("{not json")
    code, out = run(["status"], capsys)
    assert code == 0
    assert "nothing to resume" in out
    assert "not valid JSON" in out
    # a question changes nothing: the service sets the file aside when it starts
    assert (state / "state.json").read_text() == "{not json"


def test_status_of_a_session_the_running_service_is_coaching(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: during a session (saved every 10 s) status said 'can resume ... say continue'."""
    import os

    from skill.service.progress import ProgressStore

    save_state(state, NOW - timedelta(minutes=1))
    store = ProgressStore(state)
    store.mark_running(os.getpid(), (NOW - timedelta(minutes=10)).timestamp())
    code, out = run(["status"], capsys)
    assert code == 0 and "in progress: upper back" in out and "can resume" not in out
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["in_progress"] is True and json.loads(out)["resumable"] is False
    # saved before this service started: one it would offer to resume
    store.mark_running(os.getpid(), NOW.timestamp())
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["in_progress"] is False and json.loads(out)["resumable"] is True
    # a service gone without clearing its mark (kill -9): not running
    store.mark_running(2**22 + 12345, (NOW - timedelta(minutes=10)).timestamp())
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["in_progress"] is False


def test_status_of_a_session_saved_ahead_of_the_clock(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: saved at a time the clock has not reached (an offline Pi's clock is often
    behind): resumable, but status gave a deadline counted from that time, with no word."""
    save_state(state, NOW + timedelta(days=62, hours=-8))
    code, out = run(["status"], capsys)
    assert code == 0
    assert "can resume: upper back" in out and "saved 2027-02-04 10:00" in out
    assert "note: its save time is ahead of this clock (now 2026-12-04 18:00)" in out
    assert "the clock may be wrong" in out
    assert "before" not in out and "say 'continue' (or 'resume') to pick it up" in out
    _code, out = run(["status", "--json"], capsys)
    data = json.loads(out)
    assert data["resumable"] is True and data["saved_ahead_of_clock"] is True
    assert data["resumable_until"] is None
    save_state(state, NOW - timedelta(seconds=30))
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["saved_ahead_of_clock"] is False


def test_status_and_history_of_a_session_the_disk_refused_to_the_history(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The state file keeps a finished session the history could not take: nothing to
    resume, and `history` lists it."""
    kept = session(NOW.replace(hour=9), 12)
    state.mkdir(parents=True)
    (state / "state.json").write_text(json.dumps({"unrecorded": [kept]}))
    code, out = run(["status"], capsys)
    assert code == 0
    assert "nothing to resume: no interrupted session is saved" in out
    assert "note: 1 session is not in " in out and "history.jsonl yet" in out
    _code, out = run(["history"], capsys)
    assert "2026-12-04 09:00  upper back" in out and "12 min  finished" in out
    assert "streak: 1 day in a row (up to today)" in out


def write_mark(folder: Path, pid: int, started: datetime, **extra: Any) -> None:
    data = {"pid": pid, "started_at": started.timestamp(), **extra}
    (folder / "service.json").write_text(json.dumps(data))


def test_status_of_a_service_whose_process_number_another_process_took(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: after a crash, service.json's process number was reused (here by this test's own
    Python, no coach): status said the session was in progress, not that it could resume."""
    import os

    from skill.service.progress import ProgressStore

    save_state(state, NOW - timedelta(minutes=1))
    before = NOW - timedelta(minutes=10)
    write_mark(state, os.getpid(), before)  # a mark as older services wrote it
    _code, out = run(["status"], capsys)
    assert "can resume: upper back" in out and "in progress" not in out
    ProgressStore(state).mark_running(os.getpid(), before.timestamp())
    mark = json.loads((state / "service.json").read_text())
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["in_progress"] is True  # the very process that marked it
    mark["process_start"] -= 1  # the same number, a process started at another moment
    (state / "service.json").write_text(json.dumps(mark))
    _code, out = run(["status", "--json"], capsys)
    assert json.loads(out)["in_progress"] is False and json.loads(out)["resumable"] is True


def service_would_resume(saved: dict[str, Any], now: datetime) -> bool:
    """What the service goes by: the player it starts with the file offers to resume it."""
    player = Player(load_library().library, lambda: 0.0, PlayerSettings(), saved, now.timestamp)
    return player.resumable_routine() is not None


@pytest.mark.parametrize("saved_at", [1e20, -1e12, float("nan"), float("inf"), "yesterday", None])
def test_status_of_a_saved_time_that_is_no_time(
    state: Path, capsys: pytest.CaptureFixture[str], saved_at: Any
) -> None:
    save_state(state, NOW - timedelta(hours=1), saved_at=saved_at)
    code, out = run(["status"], capsys)
    assert code == 0
    assert "Traceback" not in out
    assert "nothing to resume" in out and "cannot be resumed" in out
    assert "damaged" in out and "saved_at" in out
    code, out = run(["status", "--json"], capsys)
    data = strict_json(out)
    assert data["resumable"] is False
    assert data["saved_at"] is None and data["resumable_until"] is None
    assert "damaged" in data["why_not"]


def test_status_of_a_saved_place_the_routine_does_not_have(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service refuses it (no offer; 'resume' sets the file aside): status must agree."""
    place = {"routine": "quick_stretch", "step": 1, "side": "left", "rep": 2, "beat": 9999}
    save_state(state, NOW, **place)
    code, out = run(["status"], capsys)
    assert code == 0
    assert "can resume" not in out
    assert "nothing to resume" in out and "cannot be resumed" in out
    assert "does not fit" in out
    code, out = run(["status", "--json"], capsys)
    data = json.loads(out)
    assert data["resumable"] is False
    assert "does not fit" in data["why_not"]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"routine": "quick_stretch", "step": 1, "side": "left", "rep": 2, "beat": 9999},
        {"routine": "quick_stretch", "step": 1, "side": "left", "rep": 2, "beat": 15},
        {"beat": "3"},
        {"pace": float("nan")},
        {"rep": float("nan"), "side": float("inf")},  # nor echoed into the JSON
        {"step": 0},  # beat 3 is not at step 0, and the save names no exercise to look for
        {"routine": "no_such_routine"},
        {"saved_at": (NOW - timedelta(hours=13)).timestamp()},
    ],
)
def test_status_says_what_the_service_would_do(
    state: Path, capsys: pytest.CaptureFixture[str], extra: dict[str, Any]
) -> None:
    save_state(state, NOW - timedelta(hours=1), **extra)
    saved = json.loads((state / "state.json").read_text())
    _code, out = run(["status", "--json"], capsys)
    data = strict_json(out)
    assert data["resumable"] is service_would_resume(saved, NOW)
    assert (data["why_not"] is None) is data["resumable"]
