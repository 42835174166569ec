"""A person's stretching history from the service's history records: one row per
session, minutes per week and the day streak. Pure: the caller reads the file and gives
today's date (local time, as the person lives it; a week starts on Monday)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

WEEKS = 12


def number(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def sessions(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per history record with a start and an end time, oldest first."""
    rows = []
    for record in records:
        start, end = number(record, "started_at"), number(record, "ended_at")
        if start is None or end is None:
            continue
        started = datetime.fromtimestamp(start)
        rows.append(
            {
                "date": started.date().isoformat(),
                "time": started.strftime("%H:%M"),
                "routine": str(record.get("routine", "?")),
                "name": str(record.get("name") or record.get("routine", "?")),
                "minutes": round(max(0.0, end - start) / 60, 1),
                "finished": record.get("finished") is True,
                "steps_done": record.get("steps_done"),
                "steps_total": record.get("steps_total"),
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
