"""skill.core.history on damaged records: a record no calendar or clock can hold is skipped,
like a torn line, and what is left is valid JSON (the phone page and `history --json`)."""

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
        (NAN, 5),
        (START, NAN),
        (INF, INF),
        (START, INF),
        (-INF, START),
        (1e20, 1e20 + 60),  # past year 9999
        (-1e12, -1e12 + 60),  # before year 1
        (START, 1e20),  # an end no calendar holds
        (START, START - 60),  # ended before it started
        (START, START + 30 * 86400),  # a month-long session is a damaged record
    ],
)
def test_a_record_with_impossible_times_is_skipped(start: float, end: float) -> None:
    assert sessions([GOOD, record(start, end)]) == sessions([GOOD])
    assert len(sessions([GOOD])) == 1


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
