"""`stretch-coach`: one argument parser; each concern registers its own subcommands.

Modules are imported only to register their parsers; heavy engines (Piper, Vosk,
PocketSphinx, numpy) are imported inside the handlers, so `--help` and `list` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from skill import __version__

# Each module has `register(subparsers)`; order is the order shown in --help.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "skill.cli.cmd_library",  # list, check
    "skill.cli.cmd_show",  # show ROUTINE [--simulate SCRIPT]
    "skill.cli.cmd_say",  # say
    "skill.cli.cmd_service",  # run, devices
    "skill.cli.cmd_demo",  # demo
    "skill.cli.cmd_setup",  # setup
    "skill.cli.cmd_progress",  # history, status
    "skill.cli.cmd_recognize",  # recognize
    "skill.cli.cmd_bench",  # bench
)


class UserError(Exception):
    """A problem the person can fix; printed as one clear message, exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stretch-coach",
        description="Offline, voice-controlled back-stretching coach.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader gone (`| head -1`) shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _reader_gone()
    except UserError as err:
        print(f"stretch-coach: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _reader_gone() -> int:
    """Whoever read stdout has stopped: leave quietly, as a tool killed by SIGPIPE would."""
    import os
    import signal

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the final flush at exit must not fail again
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
