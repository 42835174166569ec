"""The History and Routines pages' data: charts drawn from the history, CSV, the catalogue."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

from skill.library.loader import load_library
from skill.web import pages
from skill.web.charts import calendar, weeks_chart

TODAY = date(2026, 12, 6)  # a Sunday


def record(day: date, minutes: float, finished: bool = True) -> dict[str, Any]:
    start = datetime(day.year, day.month, day.day, 8, 0).timestamp()
    return {"routine": "quick_stretch", "name": "quick stretch", "started_at": start,
            "ended_at": start + minutes * 60, "finished": finished}  # fmt: skip


def test_calendar_fills_exactly_the_days_stretched() -> None:
    done = {TODAY.isoformat(), (TODAY - timedelta(days=9)).isoformat()}
    svg = calendar(done, TODAY)
    filled = set(re.findall(r'data-day="([\d-]+)" data-done="1"', svg))
    assert filled == done
    assert len(re.findall(r"data-day=", svg)) == 12 * 7  # Monday 11 weeks ago to this Sunday


def test_week_bars_grow_with_minutes_and_show_them() -> None:
    history = pages.history([record(TODAY, 30), record(TODAY - timedelta(days=7), 10)], TODAY)
    heights = [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', history["weeks_svg"])]
    assert len(heights) == 12 and heights[-1] > heights[-2] > heights[0]
    assert ">30<" in history["weeks_svg"] and ">10<" in history["weeks_svg"]
    assert history["streak_days"] == 1 and history["today_done"]


def test_chart_text_cannot_inject_markup() -> None:
    svg = weeks_chart([{"week_of": "2026-11-30", "minutes": 5.0}])
    assert "<script" not in svg and svg.count("<svg") == 1


def test_csv_has_every_session_oldest_first() -> None:
    rows = list(csv.DictReader(io.StringIO(pages.history_csv(
        [record(TODAY, 5, finished=False), record(TODAY - timedelta(days=1), 7)]
    ))))  # fmt: skip
    assert [r["date"] for r in rows] == [(TODAY - timedelta(days=1)).isoformat(), TODAY.isoformat()]
    assert [r["finished"] for r in rows] == ["yes", "no"] and rows[0]["minutes"] == "7.0"


def test_a_session_the_clock_going_back_ended_before_it_began_is_exported_and_shown() -> None:
    """QA: the CSV export and the calendar left it out with no word."""
    back = record(TODAY, -80) | {"active_s": 600.0}
    rows = list(csv.DictReader(io.StringIO(pages.history_csv([back]))))
    assert [(r["date"], r["minutes"], r["note"]) for r in rows] == [
        (TODAY.isoformat(), "10.0", "it ended before it started")
    ]
    history = pages.history([back], TODAY)
    assert history["today_done"] and history["streak_days"] == 1
    assert f'data-day="{TODAY.isoformat()}" data-done="1"' in history["calendar_svg"]


def test_routines_list_each_with_minutes_props_and_exercise_details() -> None:
    library = load_library().library
    listed = {r["id"]: r for r in pages.routines(library)}
    assert set(listed) == set(library.routines)
    quick = listed["quick_stretch"]
    assert quick["minutes"] >= 1 and len(quick["exercises"]) == 3
    assert all(ex["steps"] for ex in quick["exercises"])
    assert any(ex["cautions"] for r in listed.values() for ex in r["exercises"])
    assert [r["id"] for r in listed.values() if r["default"]] == [library.default_routine]


def test_the_routine_cards_name_sides_in_words_not_placeholders() -> None:
    """QA: the Routines tab showed "Lower your {side} shoulder." as it is."""
    library = load_library().library
    listed = pages.routines(library)
    texts = [
        text
        for routine in listed
        for ex in routine["exercises"]
        for key in ("setup", "steps", "cautions")
        for text in ex[key]
    ]
    assert texts and not [t for t in texts if "{" in t or "}" in t]
    card = next(r for r in listed if r["id"] == "upper_back")
    upper = {ex["name"]: ex for ex in card["exercises"]}
    rhomboid = upper["rhomboid cross-body stretch"]
    assert rhomboid["sides"] == "left side first, then the right"
    assert any("left elbow" in step for step in rhomboid["steps"])
    assert upper["shoulder rolls"]["sides"] == ""


def test_the_page_marks_the_configured_default_routine() -> None:
    library = load_library().library
    listed = pages.routines(library, "lower_back")
    assert [r["id"] for r in listed if r["default"]] == ["lower_back"]
