"""`stretch-coach`: one argument parser; each concern registers its own subcommands.

Modules are imported only to register their parsers; heavy engines (Piper, Vosk,
PocketSphinx, numpy) are imported inside the handlers, so `--help` and `list` stay fast.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from skill import __version__
from skill.cli import (
    cmd_bench,
    cmd_demo,
    cmd_library,
    cmd_progress,
    cmd_recognize,
    cmd_say,
    cmd_service,
    cmd_setup,
    cmd_show,
    cmd_web,
)
from skill.errors import UserError

# Each module has `register(subparsers)`; order is the order shown in --help.
SUBCOMMAND_MODULES = (
    cmd_library,  # list, check
    cmd_show,  # show ROUTINE [--simulate SCRIPT]
    cmd_say,  # say
    cmd_service,  # run, devices
    cmd_demo,  # demo
    cmd_setup,  # setup
    cmd_progress,  # history, status
    cmd_web,  # web [--qr] [--forget]
    cmd_recognize,  # recognize
    cmd_bench,  # bench
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stretch-coach",
        description="Offline, voice-controlled back-stretching coach.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMAND_MODULES:
        module.register(sub)
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
    except OSError as err:  # a folder that is a file, no permission, a full disk: not a bug
        print(f"stretch-coach: {os_problem(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def os_problem(err: OSError) -> str:
    """The path the system refused and why, in one line; with "Not a directory", the file
    in the way (the path named is below it, so the person would look in the wrong place)."""
    reason = err.strerror or str(err)
    if not isinstance(err.filename, str | bytes | os.PathLike):  # none, or a descriptor
        return reason
    path = Path(os.fsdecode(err.filename))
    if err.errno == errno.ENOTDIR and (blocker := _file_in_the_way(path)):
        reason += f" ({blocker} is a file)"
    also = f" and {os.fsdecode(err.filename2)}" if err.filename2 is not None else ""
    return f"cannot use {path}{also}: {reason}"


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest folder above `path` that exists, when it is not a folder."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _reader_gone() -> int:
    """Whoever read stdout has stopped: leave quietly, as a tool killed by SIGPIPE would."""
    import signal

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the final flush at exit must not fail again
    os.close(devnull)
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    raise SystemExit(main())
