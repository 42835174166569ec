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


def sessions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per history record with a start and an end time, oldest first; a record
    whose times cannot be a session (no time, ended before it started, longer than
    MAX_SESSION_S) is skipped like a damaged line."""
    rows = []
    for record in records:
        start, end = number(record, "started_at"), number(record, "ended_at")
        if start is None or end is None or not 0.0 <= end - start <= MAX_SESSION_S:
            continue
        started = local_time(start)
        if started is None:
            continue
        rows.append(
            {
                "date": started.date().isoformat(),
                "time": started.strftime("%H:%M"),
                "routine": str(record.get("routine", "?")),
                "name": str(record.get("name") or record.get("routine", "?")),
                "minutes": round(_stretched_s(record, end - start) / 60, 1),
                "finished": record.get("finished") is True,
                "steps_done": count(record, "steps_done"),
                "steps_total": count(record, "steps_total"),
            }
        )
    rows.sort(key=lambda r: (r["date"], r["time"]))
    return rows


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
    """Consecutive days with a session, ending today (or yesterday: today is not over yet)."""
    days = {date.fromisoformat(row["date"]) for row in rows}
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count
