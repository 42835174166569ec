"""`stretch-coach show ROUTINE`: the timed plan, or with --simulate a scripted session's timeline.

Both come from the same plan and player the coach uses, so what is printed is what the
person will hear, second by second (with speech timed by the speech model).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from skill.core.exercise import Dosage, Exercise, Library, Routine
from skill.core.phrases import PACE_MAX, PACE_MIN
from skill.errors import UserError

if TYPE_CHECKING:
    from skill.library.loader import LoadResult

# Timeline entries worth a line: what is said or played, commands, and the hold log lines.
_SHOWN = ("command", "say", "cue", "volume", "record")
_READY_WAIT = "waits for ready, start or a short press (a reminder every 30 s; not timed)"


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="print a routine's timed plan, or simulate a session")
    p.add_argument("routine", nargs="+", help="routine name or id (loose: 'upper back')")
    p.add_argument(
        "--simulate",
        metavar="SCRIPT",
        help="timed commands, e.g. 't=30 pause; t=45 resume; t=60 next' (virtual clock;"
        " when the coach waits for the props, the person says 'ready' at once)",
    )
    p.add_argument(
        "--pace",
        type=float,
        default=1.0,
        # Every timed beat scales (Plan.beat_seconds); speech keeps the voice's pace.
        help=f"scales holds, rests, moves and changes of position (not speech), {PACE_MIN}"
        f" to {PACE_MAX} in steps of 0.25 (default 1.0)",
    )
    p.set_defaults(func=run_show)


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:d}:{whole % 60:02d}.{int((seconds - whole) * 10):d}"


def _load() -> LoadResult:
    from skill.library.loader import load_library

    result = load_library()
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return result


def resolve(library: Library, query: str, loaded: LoadResult | None = None) -> Routine:
    """The routine a loose name means, or a UserError naming the file of the one it means
    that did not load (`loaded`), or else listing the known ones."""
    from skill.config import did_you_mean
    from skill.core.exercise import find_routine

    routine = library.routines.get(query) or find_routine(library, query)
    why = loaded.why_missing(query) if loaded and routine is None else ""
    if why:
        raise UserError(why)
    if routine is None:
        names = [*library.routines, *(r.name for r in library.routines.values())]
        hint = did_you_mean(query, names)
        known = ", ".join(f"{r.name} ({r.id})" for r in library.routines.values()) or "none"
        raise UserError(f"unknown routine {query!r}.{hint} Known routines: {known}")
    return routine


def plan_lines(library: Library, routine: Routine, pace: float) -> list[str]:
    """Each beat with its start time, then the total and its parts."""
    from skill.core.plan import build_plan, props_text, routine_props

    plan = build_plan(library, routine, pace)
    lines = [f"{routine.name} ({routine.id}), pace {pace:g}: {routine.description}".rstrip(": ")]
    lines.append(f"props: {props_text(routine_props(library, routine))}")
    t, parts = 0.0, {"say": 0.0, "hold": 0.0, "move": 0.0, "rest": 0.0, "gap": 0.0}
    noted: set[int] = set()
    for beat in plan.beats:
        seconds = plan.beat_seconds(beat, pace)
        if beat.kind == "ready":
            lines.append(f"{clock(t):>8}  {beat.kind:<4}  {_READY_WAIT}")
            continue
        what = beat.text if beat.kind == "say" else f"{seconds:g} s"
        if beat.kind == "move" and beat.text:
            what += f", saying: {beat.text}"
        if beat.timed and beat.step >= 0:
            name = library.exercises[routine.steps[beat.step].exercise_id].name
            side = f", {beat.side} side" if beat.side else ""
            rep = f", rep {beat.rep} of {beat.reps}" if beat.reps > 1 else ""
            what += f"  ({name}{side}{rep})"
        lines.append(f"{clock(t):>8}  {beat.kind:<4}  {what}")
        if beat.kind == "say" and beat.step >= 0 and beat.step not in noted:
            noted.add(beat.step)
            step = routine.steps[beat.step]
            lines += _notes(library.exercises[step.exercise_id], step.dosage)
        t += seconds
        parts[beat.kind] += seconds
    summary = ", ".join(f"{k} {clock(v)}" for k, v in parts.items() if v)
    lines.append(f"{clock(t):>8}  total ({summary})")
    return lines


def _notes(exercise: Exercise, dosage: Dosage) -> list[str]:
    """What is said only when asked ("easier", "harder") and what is never said: the
    dosage note and the variants, under the exercise's first instruction. The note is about
    the exercise's own numbers: where the routine (`dosage`) changes them, it says so."""
    pad = " " * 16
    notes = [f"{pad}on 'easier': {exercise.easier}"] if exercise.easier else []
    notes += [f"{pad}on 'harder': {exercise.harder}"] if exercise.harder else []
    changed = _changes(exercise.dosage, dosage)
    whose = f" (the exercise's own; this routine: {changed})" if changed else ""
    notes += [f"{pad}dosage{whose}: {exercise.dosage_note}"] if exercise.dosage_note else []
    notes += [f"{pad}variant, {v.name}: {v.note}" for v in exercise.variants]
    return notes


_DOSAGE_WORDS = {
    "hold_s": "hold {:g} s",
    "hold_min_s": "shortest hold {:g} s",
    "reps": "{} reps",
    "sets": "{} sets",
    "sides": "sides {}",
    "rest_s": "rest {:g} s",
    "rep_s": "{:g} s a rep",
}


def _changes(own: Dosage, used: Dosage) -> str:
    """What a routine's step changes of an exercise's dosage: 'hold 20 s, 2 reps'."""
    changed = [
        words.format(getattr(used, key))
        for key, words in _DOSAGE_WORDS.items()
        if getattr(used, key) != getattr(own, key) and getattr(used, key) is not None
    ]
    return ", ".join(changed)


def simulate_lines(library: Library, routine: Routine, script_text: str, pace: float) -> list[str]:
    from skill.core.player import PlayerSettings
    from skill.core.simulate import ScriptError, parse_script, simulate

    try:
        script = parse_script(script_text)
    except ScriptError as err:
        raise UserError(f"--simulate: {err}") from None
    timeline = simulate(library, routine.id, script, settings=PlayerSettings(pace=pace))
    lines = []
    for entry in timeline:
        if entry.kind in _SHOWN or (entry.kind == "log" and " s: " in entry.text):
            text = entry.text.removeprefix("debug: ")
            lines.append(f"{clock(entry.t):>8}  {entry.kind:<7}  {text}")
    end = timeline[-1].t if timeline else 0.0
    lines.append(f"{clock(end):>8}  end")
    return lines


def run_show(args: argparse.Namespace) -> int:
    pace = float(args.pace)
    if not PACE_MIN <= pace <= PACE_MAX or (pace * 4) % 1:
        raise UserError(f"--pace {pace:g}: use one of 0.75, 1, 1.25, 1.5")
    loaded = _load()
    library = loaded.library
    routine = resolve(library, " ".join(args.routine), loaded)
    if args.simulate is None:
        lines = plan_lines(library, routine, pace)
    else:
        lines = simulate_lines(library, routine, args.simulate, pace)
    print("\n".join(lines))
    return 0
