"""The history's pictures as SVG drawn here: minutes per week, and a calendar of days.

Drawn by the server so the page needs no charting script and nothing from elsewhere;
sized in a viewBox so they scale to any phone's width.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

BAR_W, BAR_GAP, CHART_H, LABEL_H = 24, 8, 120, 22
CELL, CELL_GAP = 18, 4
DONE = "#2e9d6a"
EMPTY = "#dfe5e2"
INK = "#24302b"


def _svg(width: int, height: int, body: Iterable[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def weeks_chart(weeks: list[dict[str, Any]]) -> str:
    """Bars of minutes per week (oldest left), each labelled with its minutes and date."""
    top = max([float(w["minutes"]) for w in weeks] + [10.0])
    width = len(weeks) * (BAR_W + BAR_GAP) + BAR_GAP
    parts: list[str] = []
    for i, week in enumerate(weeks):
        minutes = float(week["minutes"])
        h = round(minutes / top * (CHART_H - 20))
        x = BAR_GAP + i * (BAR_W + BAR_GAP)
        y = CHART_H - h
        day = date.fromisoformat(week["week_of"])
        parts.append(
            f'<rect x="{x}" y="{y}" width="{BAR_W}" height="{max(h, 1)}" rx="3" '
            f'fill="{DONE if minutes else EMPTY}"><title>week of {day.isoformat()}: '
            f"{minutes:g} min</title></rect>"
        )
        if minutes:
            parts.append(
                f'<text x="{x + BAR_W / 2}" y="{y - 4}" font-size="13" text-anchor="middle" '
                f'fill="{INK}">{minutes:.0f}</text>'
            )
        parts.append(
            f'<text x="{x + BAR_W / 2}" y="{CHART_H + 16}" font-size="10" text-anchor="middle" '
            f'fill="{INK}">{day.day}/{day.month}</text>'
        )
    return _svg(width, CHART_H + LABEL_H, parts, "minutes stretched per week, last 12 weeks")


def calendar(days_done: set[str], today: date, weeks: int = 12) -> str:
    """One square per day of the last `weeks` weeks (Monday at the top); filled if stretched."""
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    width = weeks * (CELL + CELL_GAP) + 24
    height = 7 * (CELL + CELL_GAP) + 4
    parts: list[str] = []
    for n, letter in enumerate("MTWTFSS"):
        y = n * (CELL + CELL_GAP) + CELL - 4
        parts.append(f'<text x="0" y="{y}" font-size="11" fill="{INK}">{letter}</text>')
    day = first
    while day <= today:
        col, row = (day - first).days // 7, day.weekday()
        x, y = 20 + col * (CELL + CELL_GAP), row * (CELL + CELL_GAP)
        done = day.isoformat() in days_done
        ring = f' stroke="{INK}" stroke-width="2"' if day == today else ""
        mark = ' data-done="1"' if done else ""
        parts.append(
            f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="3" '
            f'fill="{DONE if done else EMPTY}"{ring} data-day="{day.isoformat()}"'
            f"{mark}><title>{day.isoformat()}"
            f"{': stretched' if done else ''}</title></rect>"
        )
        day += timedelta(days=1)
    return _svg(width, height, parts, f"days stretched, last {weeks} weeks")
