"""A person's stretching history from the service's history records: one row per
session, minutes per week and the day streak. Pure: the caller reads the file and gives
today's date (local time, as the person lives it; a week starts on Monday)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

WEEKS = 12
# A resumed session keeps its first start, so it can span the longest resume window (168 h,
# skill.config) and the routine; a longer one is a damaged record, not a session.
MAX_SESSION_S = 8 * 24 * 3600.0
# A date before this is a clock that was never set (a Pi without a battery starts at 1970).
EARLIEST_YEAR = 2000


def number(record: Mapping[str, Any], key: str) -> float | None:
    """A finite number; None for anything else (JSON allows NaN and Infinity, json.loads too)."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    return float(value)


def count(record: Mapping[str, Any], key: str) -> int | None:
    """A whole number, else None: the rows go out as JSON, which has no NaN."""
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def local_time(seconds: float | None) -> datetime | None:
    """The local time of a Unix time; None when no calendar holds it (NaN, infinite, or
    outside years 1-9999), so a damaged file is reported, not a traceback."""
    if seconds is None or not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds)
    except (ValueError, OverflowError, OSError):
        return None


def _stretched_s(record: Mapping[str, Any], elapsed: float) -> float:
    """The session's time spent stretching (active_s: no breaks, no gap before a resume);
    records written before it was kept count from start to end."""
    active = number(record, "active_s")
    return elapsed if active is None else min(max(0.0, active), elapsed)


def _active_only_s(record: Mapping[str, Any]) -> float:
    """The time spent stretching when start and end cannot measure it: active_s, counted
    on the coach's own running clock, whatever the wall clock did (none kept: 0)."""
    active = number(record, "active_s")
    return 0.0 if active is None else min(max(0.0, active), MAX_SESSION_S)


def _placed(record: Mapping[str, Any]) -> tuple[datetime, float, str | None] | None:
    """When the session is on the calendar, its seconds of stretching, and what is wrong
    with its times (None: nothing). A clock without a battery can go back between a start
    and a resume, so times that cannot be a session keep the record, dated by its start
    (else its end), its minutes from active_s; None when neither time is a date."""
    start, end = number(record, "started_at"), number(record, "ended_at")
    started, ended = local_time(start), local_time(end)
    if started is None or ended is None or start is None or end is None:
        when = started or ended
        if when is None:
            return None
        missing = "start" if started is None else "end"
        return when, _active_only_s(record), f"it has no {missing} time"
    if end < start:
        return started, _active_only_s(record), "it ended before it started"
    if end - start > MAX_SESSION_S:
        return started, _active_only_s(record), "it lasted more than 8 days"
    if started.year < EARLIEST_YEAR:
        return started, _stretched_s(record, end - start), f"it is dated before {EARLIEST_YEAR}"
    return started, _stretched_s(record, end - start), None


def sessions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per history record that a date can be given to, oldest first. A record
    whose times cannot be a session is kept, with a note of what is wrong with them; one
    with no date at all is left out (count it: len(records) - len(rows))."""
    rows = []
    for record in records:
        placed = _placed(record)
        if placed is None:
            continue
        started, seconds, note = placed
        rows.append(
            {
                "date": started.date().isoformat(),
                "time": started.strftime("%H:%M"),
                "routine": str(record.get("routine", "?")),
                "name": str(record.get("name") or record.get("routine", "?")),
                "minutes": round(seconds / 60, 1),
                "finished": record.get("finished") is True,
                "steps_done": count(record, "steps_done"),
                "steps_total": count(record, "steps_total"),
                "note": note,
            }
        )
    rows.sort(key=lambda r: (r["date"], r["time"]))
    return rows


def clock_notes(rows: list[dict[str, Any]], today: date) -> list[str]:
    """One line for each session whose times look wrong, or dated after today."""
    notes = []
    for row in rows:
        when = f"{row['date']} {row['time']} {row['name']}"
        if row["note"]:
            notes.append(
                f"the clock looked wrong for {when} ({row['note']}): it is kept, with its "
                f"{row['minutes']:g} min of stretching"
            )
        elif row["date"] > today.isoformat():
            notes.append(f"{when} is dated after today: the clock was ahead then, or is behind now")
    return notes


def weekly_minutes(rows: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Minutes per week (Monday first) for the last WEEKS weeks, this week last."""
    this_week = today - timedelta(days=today.weekday())
    starts = [this_week - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    totals = dict.fromkeys(starts, 0.0)
    for row in rows:
        day = date.fromisoformat(row["date"])
        week = day - timedelta(days=day.weekday())
        if week in totals:
            totals[week] += row["minutes"]
    return [{"week_of": w.isoformat(), "minutes": round(m, 1)} for w, m in totals.items()]


def streak(rows: list[dict[str, Any]], today: date) -> int:
    """Consecutive days with a session, ending today (or yesterday: today is not over yet);
    a session dated after today (a clock that ran ahead) neither counts nor breaks it."""
    days = {date.fromisoformat(row["date"]) for row in rows}
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count
