"""skill.core.history on damaged records: one whose times cannot be a session (a clock set
wrong) is kept with a note, one no calendar can date is skipped like a torn line, and what is
left is valid JSON (the phone page and `history --json`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from skill.core.history import local_time, sessions

START = datetime(2026, 12, 4, 9, 0).timestamp()
NAN, INF = float("nan"), float("inf")


def record(start: Any, end: Any, **extra: Any) -> dict[str, Any]:
    return {"routine": "upper_back", "started_at": start, "ended_at": end, **extra}


GOOD = record(START, START + 600, finished=True, steps_done=5, steps_total=5)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (INF, INF),
        (NAN, NAN),
        (1e20, 1e20 + 60),  # past year 9999
        (-1e12, -1e12 + 60),  # before year 1
        (None, None),
    ],
)
def test_a_record_no_calendar_can_date_is_skipped(start: float, end: float) -> None:
    assert sessions([GOOD, record(start, end)]) == sessions([GOOD])
    assert len(sessions([GOOD])) == 1


@pytest.mark.parametrize(
    ("start", "end", "date", "note"),
    [
        (START, START - 90 * 60, "2026-12-04", "it ended before it started"),
        (START, START + 30 * 86400, "2026-12-04", "it lasted more than 8 days"),
        (START, NAN, "2026-12-04", "it has no end time"),
        (START, INF, "2026-12-04", "it has no end time"),
        (START, 1e20, "2026-12-04", "it has no end time"),  # an end no calendar holds
        (-INF, START, "2026-12-04", "it has no start time"),
        (NAN, START, "2026-12-04", "it has no start time"),
        (60.0, 960.0, "1970-01-01", "it is dated before 2000"),  # a clock never set
    ],
)
def test_a_record_with_impossible_times_is_kept_with_a_note(
    start: float, end: float, date: str, note: str
) -> None:
    """QA: a Pi without a clock battery restarted with an earlier time; the session resumed
    and finished then 'ended' before it started, and every view left it out in silence."""
    rows = sessions([GOOD, record(start, end, active_s=720.0, finished=True)])
    assert len(rows) == 2
    (odd,) = [row for row in rows if row["note"]]
    assert (odd["date"], odd["note"]) == (date, note)
    assert odd["minutes"] == 12.0  # the time spent stretching, on the coach's running clock
    assert odd["finished"] is True
    assert [row["note"] for row in sessions([GOOD])] == [None]


def test_impossible_times_without_active_seconds_count_no_minutes() -> None:
    (row,) = sessions([record(START, START - 60)])
    assert row["minutes"] == 0.0 and row["note"] == "it ended before it started"


def test_a_session_resumed_the_next_morning_is_kept() -> None:
    """A session interrupted at night and resumed within the resume window spans hours."""
    rows = sessions([record(START, START + 14 * 3600)])
    assert len(rows) == 1
    assert rows[0]["minutes"] == 840


def test_the_rows_are_valid_json_whatever_the_step_counts_hold() -> None:
    rows = sessions([record(START, START + 60, steps_done=NAN, steps_total=INF)])
    text = json.dumps(rows, allow_nan=False)  # raises on NaN or Infinity
    assert json.loads(text)[0]["steps_done"] is None
    assert rows[0]["steps_total"] is None
    rows = sessions([record(START, START + 60, steps_done=True, steps_total="5")])
    assert (rows[0]["steps_done"], rows[0]["steps_total"]) == (None, None)
    assert sessions([GOOD])[0]["steps_done"] == 5


@pytest.mark.parametrize("seconds", [NAN, INF, -INF, 1e20, -1e12, None])
def test_local_time_of_no_time_is_none(seconds: float | None) -> None:
    assert local_time(seconds) is None


def test_local_time_of_a_time() -> None:
    assert local_time(START) == datetime(2026, 12, 4, 9, 0)
    assert local_time(START + 60) == datetime(2026, 12, 4, 9, 0) + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("active", "minutes"),
    [
        (840.0, 14.0),  # resumed the next morning: the minutes stretched, not the night
        (None, 16 * 60.0),  # a record from before active_s was kept: start to end
        (NAN, 16 * 60.0),
        (-5.0, 0.0),
        (1e9, 16 * 60.0),  # never more than the time between start and end
    ],
)
def test_minutes_are_the_time_spent_stretching(active: Any, minutes: float) -> None:
    extra = {} if active is None else {"active_s": active}
    (row,) = sessions([record(START, START + 16 * 3600, **extra)])
    assert row["minutes"] == minutes


def test_a_session_resumed_after_the_clock_went_back_is_kept_and_counted() -> None:
    """QA: started at 07:30, the service killed, restarted with the clock at 06:00 (no clock
    battery, offline), resumed and finished: the record ends before it starts."""
    from test_player_support import start, tiny_library

    from skill.core.events import Command, RecordSession, SaveProgress
    from skill.core.simulate import Simulation

    morning = datetime(2026, 12, 4, 7, 30).timestamp()
    first = Simulation(tiny_library(), wall_start=morning)
    start(first)
    first.advance_to(40.0)
    saves = [a.snapshot for a in first.actions if isinstance(a, SaveProgress) and a.snapshot]
    again = Simulation(tiny_library(), saved=dict(saves[-1]), wall_start=morning - 90 * 60)
    again.send(Command("resume"))
    again.run()
    (record,) = [a.record for a in again.actions if isinstance(a, RecordSession)]
    assert record["finished"] is True and record["ended_at"] < record["started_at"]
    (row,) = sessions([record])
    assert (row["date"], row["time"], row["finished"]) == ("2026-12-04", "07:30", True)
    assert row["note"] == "it ended before it started"
    assert row["minutes"] == round(record["active_s"] / 60, 1) > 1
