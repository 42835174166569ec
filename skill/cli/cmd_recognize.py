"""`stretch-coach recognize FILE...`: the live recognition pipeline on recordings.

People use it to find out why their microphone setup fails: record with `arecord`, then see
what the engine heard, which command (if any) it chose, and why it rejected the rest. Many
files and folders (every .wav inside) run on one engine load, each printed as it is done;
with --json one object a line (JSON Lines). A file that cannot be read gets its error and
the others go on; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "recognize", help="recognize a command in WAV files or folders of them (any rate)"
    )
    p.add_argument(
        "files",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="16-bit PCM WAV, any channels and rate; a folder: every .wav in it, recursively",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per line per file, with "file" (and "error" if unreadable)',
    )
    p.add_argument("--model", type=Path, metavar="PATH", help="Vosk model folder")
    p.set_defaults(func=run)


def _model(args: argparse.Namespace) -> Path | None:
    if args.model is not None:
        return Path(args.model)
    from skill.config import load_settings

    configured = load_settings().model
    return Path(configured) if configured else None


def block(result: dict[str, Any], with_file: bool) -> str:
    """A result as readable lines; the file's name first when there are several."""
    args_text = " ".join(f"{k}={v}" for k, v in result["args"].items())
    lines = [f"file:       {result['file']}"] if with_file else []
    lines += [
        f"heard:      {result['text'] or '(nothing)'}",
        f"command:    {result['command'] or 'none'} {args_text}".rstrip(),
        f"why:        {result['reason']}",
        f"confidence: {result['confidence']}",
        f"engine:     {result['engine']} ({result['latency_ms']} ms)",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from skill.library.loader import load_library
    from skill.speech_in.recognizer import recognize_files

    logging.basicConfig(level=logging.WARNING, format="stretch-coach: %(message)s")
    library = load_library().library
    files: list[Path] = args.files
    several = len(files) > 1 or any(f.is_dir() for f in files)
    failed = False
    try:
        for n, result in enumerate(recognize_files(files, library, _model(args))):
            failed = failed or "error" in result
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            elif "error" in result:
                sys.stdout.flush()
                print(f"stretch-coach: {result['error']}", file=sys.stderr, flush=True)
            else:
                print(("\n" if several and n else "") + block(result, several), flush=True)
    except BrokenPipeError:  # `recognize DIR --json | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 1 if failed else 0
