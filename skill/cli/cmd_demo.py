"""`stretch-coach demo [ROUTINE]`: hear a complete coached session, no microphone needed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from skill.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help="a scripted person talks to the real coach; writes demo-session.wav"
    )
    p.add_argument(
        "routine",
        nargs="*",
        help="routine to start, name or id as `show` takes it (default: default_routine)",
    )
    p.add_argument("--config", type=Path, help="a YAML config file (after /etc and ~/.config)")
    p.add_argument("--fast", action="store_true", help="run the clock as fast as the CPU allows")
    p.add_argument("--play", action="store_true", help="also play it live on the sound card")
    p.add_argument("--out", type=Path, default=Path("demo-session.wav"), help="the WAV to write")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from skill.tools.demo import run_demo

    if args.play and args.fast:
        raise UserError("--play keeps real-time pace; leave out --fast")
    _check_out(args.out)
    routine, configured_in = _routine(args)
    # With --json stdout is only the JSON (for a pipe); the transcript goes to stderr.
    stream = sys.stderr if args.json else sys.stdout

    def say(text: str = "") -> None:
        print(text, file=stream, flush=True)

    say("Stretch Coach demo: a person (a higher, slower voice) talks to the coach through the")
    say("real recognizer; the coach's own voice leaks into the microphone as in a room.\n")
    bar = sys.stderr.isatty() and stream.isatty()  # the bar (on stderr) only on a terminal
    result = run_demo(
        routine,
        fast=args.fast,
        play=args.play,
        out=args.out,
        report=say,
        progress=bar,
        configured_in=configured_in,
    )
    summary = result.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        print()
        for o in result.outcomes:
            mark = "ok" if o.acted else "MISSED"
            tries = f", said {len(o.said_at)}x" if len(o.said_at) > 1 else ""
            latency = f", {o.latency_ms:.0f} ms" if o.latency_ms is not None else ""
            heard = o.heard.replace("_", " ") if o.heard else "not heard"
            print(f"  {mark:6} {o.line.text!r} -> {heard}{latency}{tries}")
        print(
            f"\n{summary['acted_on']}/{summary['commands']} commands recognized and acted on "
            f"({summary['engine']}); {summary['session_s']} s of session in "
            f"{summary['wall_s']} s."
        )
        if result.wav:
            print(f"Listen to the whole conversation: {result.wav}")
    return 0 if result.all_acted else 1


def _routine(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The routine named on the command line, else the config's default_routine (what a
    bare 'start' begins in `run`) with the file that set it; (None, None): the library's."""
    if args.routine:
        return " ".join(args.routine), None  # "lower back" comes as two words
    from skill.config import load_settings

    origins: dict[str, str] = {}
    settings = load_settings(explicit=args.config, origins=origins)
    where = origins.get("default_routine")
    return (settings.default_routine, where) if where else (None, None)


def _check_out(out: Path) -> None:
    """Before the run, not after it: a wrong --out wasted the whole demo."""
    if out.suffix.lower() != ".wav":
        raise UserError(f"--out {out}: give a file name ending in .wav")
    folder = out.parent
    if not folder.is_dir():
        raise UserError(f"--out {out}: there is no folder {folder}")
