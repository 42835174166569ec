"""`stretch-coach history` and `stretch-coach status`: what the person did, and what can resume.

Both only read the state directory the service writes (skill.service.progress): `history` the
append-only history.jsonl, `status` the state.json snapshot of an interrupted session. Dates
are local time, as the person lives them; a week starts on Monday.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from skill.core.history import WEEKS, number, sessions, streak, weekly_minutes

SHOWN_SESSIONS = 20  # the text report lists the newest ones; --json gives them all
wall = time.time  # the clock; tests set it


def register(sub: Any) -> None:
    p = sub.add_parser("history", help="past sessions, minutes per week and the current streak")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run_history)
    p = sub.add_parser("status", help="whether an interrupted session can be resumed")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--config", type=Path, help="config file (for resume_window_hours)")
    p.set_defaults(func=run_status)


def _minutes(value: float) -> str:
    return f"{value:g} min"


def run_history(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.service.progress import ProgressStore

    store = ProgressStore(paths.state_dir())
    rows = sessions(store.history())
    today = datetime.fromtimestamp(wall()).date()
    weeks = weekly_minutes(rows, today)
    days = streak(rows, today)
    if args.json:
        print(json.dumps({"sessions": rows, "weeks": weeks, "streak_days": days}, indent=2))
        return 0
    if not rows:
        print(f"no sessions yet: each routine you finish or stop is added to {store.history_path}")
        return 0
    print(f"sessions ({len(rows)}, newest last):")
    if len(rows) > SHOWN_SESSIONS:
        print(f"  ... {len(rows) - SHOWN_SESSIONS} earlier (all with --json)")
    for row in rows[-SHOWN_SESSIONS:]:
        if row["finished"]:
            outcome = "finished"
        else:
            outcome = "stopped"
            if row["steps_done"] is not None and row["steps_total"]:
                outcome += f" after {row['steps_done']} of {row['steps_total']} exercises"
        print(
            f"  {row['date']} {row['time']}  {row['name']:<20} "
            f"{_minutes(row['minutes']):>9}  {outcome}"
        )
    print(f"minutes per week (last {WEEKS} weeks, Monday first):")
    for week in weeks:
        print(f"  week of {week['week_of']}: {_minutes(week['minutes'])}")
    if days:
        when = "today" if date.fromisoformat(rows[-1]["date"]) == today else "yesterday"
        print(f"streak: {days} day{'s' if days != 1 else ''} in a row (up to {when})")
    else:
        print("streak: none (no session today or yesterday)")
    return 0


# --- status --------------------------------------------------------------------------------


def _local(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).isoformat(timespec="seconds")


def describe_saved(saved: dict[str, Any], window_hours: float, now: float) -> dict[str, Any]:
    """What the saved snapshot is, and whether the coach would still resume it."""
    from skill.library.loader import load_library

    rid = str(saved.get("routine", "?"))
    saved_at = number(saved, "saved_at") or 0.0
    until = saved_at + window_hours * 3600
    info: dict[str, Any] = {
        "resumable": now <= until,
        "routine": rid,
        "routine_name": None,
        "exercise": None,
        "side": saved.get("side"),
        "rep": saved.get("rep"),
        "saved_at": _local(saved_at),
        "resumable_until": _local(until),
        "why_not": None
        if now <= until
        else (
            f"too old: it could be resumed until {_local(until).replace('T', ' ')[:16]} "
            f"(resume_window_hours: {window_hours:g})"
        ),
    }
    library = load_library().library
    routine = library.routines.get(rid)
    if routine is None:
        info["resumable"] = False
        info["why_not"] = f"routine '{rid}' is not in the library"
        return info
    info["routine_name"] = routine.name
    step = saved.get("step")
    if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(routine.steps):
        exercise = library.exercises.get(routine.steps[step].exercise_id)
        info["exercise"] = exercise.name if exercise else routine.steps[step].exercise_id
    return info


def run_status(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.config import load_settings
    from skill.service.progress import ProgressStore

    settings = load_settings(explicit=args.config)
    store = ProgressStore(paths.state_dir())
    saved = store.load_saved()
    info: dict[str, Any] = (
        {"resumable": False, "why_not": "no saved session"}
        if saved is None
        else describe_saved(saved, settings.resume_window_hours, wall())
    )
    info["problems"] = store.messages
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for problem in store.messages:
        print(f"note: {problem}")
    if saved is None:
        print("nothing to resume: no interrupted session is saved")
        return 0
    name = info["routine_name"] or info["routine"]
    where = f" at {info['exercise']}" if info["exercise"] else ""
    if info["side"]:
        where += f", {info['side']} side"
    saved_at = info["saved_at"].replace("T", " ")[:16]
    until = info["resumable_until"].replace("T", " ")[:16]
    if info["resumable"]:
        print(f"can resume: {name}{where}, saved {saved_at}")
        print(f"say 'continue' (or 'resume') before {until} to pick it up")
    else:
        print(f"nothing to resume: {name}{where}, saved {saved_at}, cannot be resumed")
        print(f"({info['why_not']})")
    return 0
