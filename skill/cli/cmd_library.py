"""`stretch-coach list` and `stretch-coach check`: what routines exist, and whether files are valid.

Durations are computed by the planner (skill.core.plan), never typed in YAML, so the numbers
shown here are the ones the player will actually take.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.core.exercise import Library, Routine

if TYPE_CHECKING:
    from skill.library.loader import LoadResult


def register(sub: Any) -> None:
    p_list = sub.add_parser("list", help="list routines with their duration and exercise count")
    p_list.set_defaults(func=run_list)
    p_check = sub.add_parser(
        "check", help="validate exercise/routine YAML (built-in and user files, or the given paths)"
    )
    p_check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders")
    p_check.set_defaults(func=run_check)


def format_duration(seconds: float) -> str:
    """m:ss, rounded to the nearest second."""
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def _planned_total(library: Library, routine: Routine) -> float:
    from skill.core.plan import planned_total  # lazy: keeps `--help` fast

    return planned_total(library, routine)


def _default_routine(loaded: LoadResult) -> tuple[str, str]:
    """The id of the routine a bare 'start' begins, as the service chooses it, and what the
    service would warn about ('' for nothing): a config it cannot start with (the library's
    default is marked), or a default_routine that names no routine that loaded (the one the
    service uses instead is)."""
    from skill import config

    origins: dict[str, str] = {}
    try:
        wanted = config.load_settings(origins=origins).default_routine
    except config.ConfigError as err:
        unstartable = f"{err} (the service will not start until it is fixed)"
        return loaded.library.default_routine, unstartable
    choice = config.choose_default_routine(wanted, origins.get("default_routine"), loaded)
    return choice.id, choice.warning


def list_lines(library: Library, default_id: str | None) -> list[str]:
    """One line per routine: marker, spoken name, id, duration, exercise count."""
    lines = []
    for routine in library.routines.values():
        mark = "*" if routine.id == default_id else " "
        count = len({s.exercise_id for s in routine.steps})
        duration = format_duration(_planned_total(library, routine))
        plural = "exercise" if count == 1 else "exercises"
        lines.append(
            f"{mark} {routine.name:<20} {routine.id:<20} {duration:>6}  {count:>2} {plural}"
        )
    return lines


def run_list(args: argparse.Namespace) -> int:
    from skill.library.loader import load_library

    result = load_library()
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    default_id, warning = _default_routine(result)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    for line in list_lines(result.library, default_id):
        print(line)
    if default_id in result.library.routines:
        print("\n* = default routine (started by a bare 'start')")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.library.loader import check_paths, files_to_check

    given: list[Path] = list(args.paths)
    settings_problem = ""
    if given:
        files = files_to_check(given)
        problems = check_paths(given, user_dir=paths.user_routines_dir())
    else:
        files, loaded = _check_everything()
        problems, settings_problem = loaded.problems, _default_routine(loaded)[1]
    for path in files:
        print(f"checking {path}")
    if not given:
        _note_empty_user_folder()
    for problem in problems:
        print(problem, file=sys.stderr)
    if settings_problem:  # after the problems: it may be one of them that causes it
        print(settings_problem, file=sys.stderr)
    count = len(problems) + bool(settings_problem)
    if count:
        print(f"{count} problem(s) found", file=sys.stderr)
        return 1
    print("all valid")
    return 0


def _check_everything() -> tuple[list[Path], LoadResult]:
    """Every built-in and user file, with exactly the problems the service would log."""
    from skill import paths
    from skill.library.loader import load_library, user_files, yaml_files

    mine, _ = user_files(paths.user_routines_dir())
    return yaml_files(paths.builtin_exercises_dir()) + mine, load_library()


def _note_empty_user_folder() -> None:
    """The README has people make the folder before they write a file: that is fine, not a
    problem, but say that nothing of theirs was checked."""
    from skill import paths
    from skill.library.loader import user_files

    user = paths.user_routines_dir()
    if user.is_dir() and user_files(user) == ([], ()):
        print(f"note: no routine files in {user} yet (add .yaml files there)")
