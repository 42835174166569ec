"""`stretch-coach history` and `stretch-coach status`: what the person did, and what can resume.

Both only read the state directory the service writes (skill.service.progress): `history` the
append-only history.jsonl, `status` the state.json snapshot of an interrupted session. Dates
are local time, as the person lives them; a week starts on Monday.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.core.history import (
    WEEKS,
    clock_notes,
    count,
    local_time,
    number,
    sessions,
    streak,
    weekly_minutes,
)

if TYPE_CHECKING:
    from skill.core.exercise import Library, Routine
    from skill.service.progress import ProgressStore

SHOWN_SESSIONS = 20  # the text report lists the newest ones; --json gives them all
wall = time.time  # the clock; tests set it
# A save this far ahead of the clock is a clock set wrong, not the moments between a save
# and the question.
AHEAD_SLACK_S = 60.0


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
    kept = store.kept_for_history()
    records = store.history() + kept
    rows = sessions(records)
    today = datetime.fromtimestamp(wall()).date()
    weeks = weekly_minutes(rows, today)
    days = streak(rows, today)
    notes = _waiting(len(kept), store) + _undated(len(records) - len(rows), store.history_path)
    notes += clock_notes(rows, today)
    if args.json:
        data = {"sessions": rows, "weeks": weeks, "streak_days": days, "notes": notes}
        print(json.dumps(data, indent=2))
        return 0
    if not rows:
        for note in notes:
            print(f"note: {note}")
        print(f"no sessions yet: each routine you finish or stop is added to {store.history_path}")
        return 0
    _print_sessions(rows)
    print(f"minutes per week (last {WEEKS} weeks, Monday first):")
    for week in weeks:
        print(f"  week of {week['week_of']}: {_minutes(week['minutes'])}")
    if days:
        today_done = any(row["date"] == today.isoformat() for row in rows)
        when = "today" if today_done else "yesterday"
        print(f"streak: {days} day{'s' if days != 1 else ''} in a row (up to {when})")
    else:
        print("streak: none (no session today or yesterday)")
    for note in notes:
        print(f"note: {note}")
    return 0


def _waiting(waiting: int, store: ProgressStore) -> list[str]:
    """The sessions the state file keeps because the disk refused them to the history."""
    if not waiting:
        return []
    what, it = ("1 session is", "it") if waiting == 1 else (f"{waiting} sessions are", "them")
    return [
        f"{what} not in {store.history_path} yet (the disk refused {it}): {store.state_path} "
        f"keeps {it}, and the service adds {it} when it next starts"
    ]


def _undated(left_out: int, path: Path) -> list[str]:
    if not left_out:
        return []
    lines = "1 record has" if left_out == 1 else f"{left_out} records have"
    return [f"{lines} neither a start nor an end time a calendar holds: left out ({path} keeps it)"]


def _print_sessions(rows: list[dict[str, Any]]) -> None:
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


# --- status --------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _shown(iso: str) -> str:
    return iso.replace("T", " ")[:16]


def describe_saved(saved: dict[str, Any], window_hours: float, now: float) -> dict[str, Any]:
    """What the saved snapshot is, and whether the coach would still resume it."""
    from skill.library.loader import load_library

    library = load_library().library
    rid = str(saved.get("routine", "?"))
    saved_at = number(saved, "saved_at")
    saved_time = local_time(saved_at)
    until = None if saved_at is None else local_time(saved_at + window_hours * 3600)
    ahead = saved_at is not None and saved_at > now + AHEAD_SLACK_S
    side = saved.get("side")
    info: dict[str, Any] = {
        "resumable": False,
        "routine": rid,
        "routine_name": None,
        "exercise": None,
        "side": side if isinstance(side, str) else None,
        "rep": count(saved, "rep"),  # only what the player writes: a NaN would break --json
        "saved_at": _iso(saved_time),
        "resumable_until": _iso(until),
        # an offline Pi's clock is often behind: such a save stays resumable, with no
        # deadline counted from a time this clock has not reached
        "saved_ahead_of_clock": ahead,
        "why_not": None,
    }
    routine = library.routines.get(rid)
    if routine is not None:
        info["routine_name"] = routine.name
        info["exercise"] = _exercise_at(library, routine, saved.get("step"))
    if saved_time is None or until is None:
        # Checked here: the player only subtracts numbers, so it would offer a session saved
        # at 1e20, a time no calendar holds (status could not even say when).
        value = saved.get("saved_at")
        shown = "missing" if value is None else json.dumps(value)
        info["why_not"] = (
            f"the saved session is damaged: its save time (saved_at) is {shown}, "
            "not a date and time"
        )
    else:
        info["why_not"] = _refusal(library, saved, window_hours, now, until)
    info["resumable"] = info["why_not"] is None
    if ahead:
        info["resumable_until"] = None
    return info


def _exercise_at(library: Library, routine: Routine, step: Any) -> str | None:
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(routine.steps):
        return None
    exercise = library.exercises.get(routine.steps[step].exercise_id)
    return exercise.name if exercise else routine.steps[step].exercise_id


def _refusal(
    library: Library, saved: dict[str, Any], window_hours: float, now: float, until: datetime
) -> str | None:
    """Why the service would not resume this snapshot (None: it would), asked of a player
    started with it as the service starts one: resumable_routine() decides the offer at
    start, and unfit_saved() is the reason 'resume' would give as it sets the file aside. So
    status cannot promise what the coach refuses."""
    from skill.core.player import Player, PlayerSettings

    settings = PlayerSettings(resume_window_hours=window_hours)
    player = Player(library, lambda: 0.0, settings, saved, wall=lambda: now)
    if player.resumable_routine() is not None:
        return None
    why = player.unfit_saved()
    if why:
        return (
            f"the coach cannot pick it up: {why}; "
            "saying 'resume' sets the file aside as state.json.unusable-..."
        )
    return (
        f"too old: it could be resumed until {_shown(until.isoformat())} "
        f"(resume_window_hours: {window_hours:g})"
    )


def _in_progress(saved: dict[str, Any] | None, service_since: float | None) -> bool:
    """The saved place was written by the service running now: its session goes on
    (a place saved before that service started is one it would offer to resume)."""
    if saved is None or service_since is None:
        return False
    saved_at = number(saved, "saved_at")
    return saved_at is not None and saved_at >= service_since


def run_status(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.config import load_settings
    from skill.service.progress import ProgressStore

    settings = load_settings(explicit=args.config)
    store = ProgressStore(paths.state_dir())
    saved = store.load_saved(look_only=True)  # a question changes nothing
    info: dict[str, Any] = (
        {"resumable": False, "why_not": "no saved session"}
        if saved is None
        else describe_saved(saved, settings.resume_window_hours, wall())
    )
    info["in_progress"] = _in_progress(saved, store.running_since())
    if info["in_progress"]:
        info["resumable"], info["why_not"] = False, "the service is coaching it now"
    info["problems"] = [*store.messages, *_waiting(len(store.unrecorded), store)]
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for problem in info["problems"]:
        print(f"note: {problem}")
    if saved is None:
        print("nothing to resume: no interrupted session is saved")
        return 0
    name = info["routine_name"] or info["routine"]
    where = f" at {info['exercise']}" if info["exercise"] else ""
    if info["side"]:
        where += f", {info['side']} side"
    saved_at = f", saved {_shown(info['saved_at'])}" if info["saved_at"] else ""
    if info["in_progress"]:
        print(f"in progress: {name}{where}{saved_at} (the service is coaching it now)")
    elif info["resumable"]:
        print(f"can resume: {name}{where}{saved_at}")
        if info["resumable_until"] is None:  # saved ahead of the clock: no deadline to give
            now = datetime.fromtimestamp(wall()).strftime("%Y-%m-%d %H:%M")
            print(f"note: its save time is ahead of this clock (now {now}): the clock may be wrong")
            print("say 'continue' (or 'resume') to pick it up")
        else:
            until = _shown(info["resumable_until"])
            print(f"say 'continue' (or 'resume') before {until} to pick it up")
    else:
        print(f"nothing to resume: {name}{where}{saved_at}, cannot be resumed")
        print(f"({info['why_not']})")
    return 0
