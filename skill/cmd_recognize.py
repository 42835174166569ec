"""`stretch-coach recognize FILE.wav`: the live recognition pipeline on a recording.

People use it to find out why their microphone setup fails: record with `arecord`, then see
what the engine heard, which command (if any) it chose, and why it rejected the rest.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from skill.cli import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("recognize", help="recognize a command in a WAV file (any rate)")
    p.add_argument("file", type=Path, metavar="FILE.wav", help="16-bit WAV, mono or stereo")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--model", type=Path, metavar="PATH", help="Vosk model folder")
    p.set_defaults(func=run)


def _model(args: argparse.Namespace) -> Path | None:
    if args.model is not None:
        return Path(args.model)
    from skill.config import ConfigError, load_settings

    try:
        configured = load_settings().model
    except ConfigError as err:
        raise UserError(str(err)) from err
    return Path(configured) if configured else None


def run(args: argparse.Namespace) -> int:
    from skill.loader import load_library
    from skill.recognizer import recognize_file

    logging.basicConfig(level=logging.WARNING, format="stretch-coach: %(message)s")
    library = load_library().library
    result = recognize_file(args.file, library, _model(args))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    args_text = " ".join(f"{k}={v}" for k, v in result["args"].items())
    print(f"heard:      {result['text'] or '(nothing)'}")
    print(f"command:    {result['command'] or 'none'} {args_text}".rstrip())
    print(f"why:        {result['reason']}")
    print(f"confidence: {result['confidence']}")
    print(f"engine:     {result['engine']} ({result['latency_ms']} ms)")
    return 0
