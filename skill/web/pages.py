"""The data behind the History and Routines pages, read from the files the service keeps.

History is computed by skill.core.history (the `history` command's own sessions, weekly
minutes and streak), so the page and the terminal always agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Any

from skill.core.exercise import Exercise, Library
from skill.core.history import sessions, streak, weekly_minutes
from skill.core.plan import fill_side, planned_total
from skill.web.charts import calendar, weeks_chart

CSV_FIELDS = (
    "date",
    "time",
    "routine",
    "name",
    "minutes",
    "finished",
    "steps_done",
    "steps_total",
    "note",  # what looked wrong with its times (a clock set wrong), else empty
)


def history(records: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Sessions newest first, the streak, and the two charts as SVG text."""
    rows = sessions(records)
    weeks = weekly_minutes(rows, today)
    return {
        "sessions": list(reversed(rows)),
        "streak_days": streak(rows, today),
        "today_done": any(r["date"] == today.isoformat() for r in rows),
        "weeks": weeks,
        "weeks_svg": weeks_chart(weeks),
        "calendar_svg": calendar({r["date"] for r in rows}, today),
    }


def history_csv(records: list[dict[str, Any]]) -> str:
    """Every session, oldest first, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in sessions(records):
        writer.writerow({**row, "finished": "yes" if row["finished"] else "no"})
    return out.getvalue()


# How a two-sided exercise's card says which side its words describe.
SIDES_SHOWN = {"each": "left side first, then the right", "alternating": "sides in turn"}


def _exercise_card(ex: Exercise) -> dict[str, Any]:
    """An exercise as the page shows it: words that name a side ("Lower your {side}
    shoulder") read as for the left, which the coach takes first."""

    def shown(texts: Iterable[str]) -> list[str]:
        return [fill_side(text, None) for text in texts]

    return {
        "name": ex.name,
        "position": ex.position.replace("_", " "),
        "sides": SIDES_SHOWN.get(ex.dosage.sides, ""),
        "setup": shown(ex.setup),
        "steps": shown(ex.steps),
        "cautions": shown(ex.cautions),
        "easier": ex.easier and fill_side(ex.easier, None),
        "harder": ex.harder and fill_side(ex.harder, None),
    }


def routines(library: Library, default: str = "") -> list[dict[str, Any]]:
    """Every routine with its length, props and exercises (steps, cautions, options);
    `default` is marked as the default ("": the library's)."""
    default = default or library.default_routine
    result = []
    for routine in library.routines.values():
        exercises = [library.exercises[s.exercise_id] for s in routine.steps]
        props = sorted({p for ex in exercises for p in ex.props})
        result.append(
            {
                "id": routine.id,
                "name": routine.name,
                "description": routine.description,
                "minutes": max(1, round(planned_total(library, routine) / 60)),
                "props": props,
                "default": routine.id == default,
                "exercises": [_exercise_card(ex) for ex in exercises],
            }
        )
    return result
