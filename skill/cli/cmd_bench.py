"""`stretch-coach bench`: print the benchmark numbers beside their goals (table or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from skill.errors import UserError


def register(sub: Any) -> None:
    from skill.tools.bench import GROUPS, PI_CHILD_FLAG, QUICK_GROUPS

    p = sub.add_parser(
        "bench",
        help="measure speed, memory and recognition against the goals (prints numbers)",
        description="Groups: player (virtual-clock run), tts (speech out), asr (speech in: "
        "real people's recordings from ../shared, then the repository's synthetic corpus), "
        "service (start, memory, stop of `run`). Goals are shown beside the numbers; "
        "nothing is asserted.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--only",
        nargs="+",
        choices=GROUPS,
        metavar="GROUP",
        help=f"run only these: {', '.join(GROUPS)}",
    )
    p.add_argument(
        "--quick", action="store_true", help=f"the cheap groups only ({', '.join(QUICK_GROUPS)})"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="asr: every clip of the synthetic corpus (default: an even sample, about 3 "
        "minutes; the human set always runs whole)",
    )
    p.add_argument(
        "--cpu-quota",
        type=float,
        metavar="SHARE",
        help="run the service group and part of the human set in a child process held to "
        "SHARE of one core (e.g. 0.2, about a Raspberry Pi's) by a cgroup; needs root. "
        "Alone it runs only that; with --only or --quick those groups run first",
    )
    p.add_argument(PI_CHILD_FLAG, type=Path, metavar="GROUP", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def chosen_groups(args: argparse.Namespace) -> list[str]:
    from skill.tools.bench import GROUPS, QUICK_GROUPS

    if args.only and args.quick:
        raise UserError("use either --only or --quick, not both")
    if getattr(args, "cpu_quota", None) is not None and not (args.only or args.quick):
        return []  # only the throttled run
    wanted = args.only or (QUICK_GROUPS if args.quick else GROUPS)
    return [g for g in GROUPS if g in wanted]


def run(args: argparse.Namespace) -> int:
    import shutil

    from skill.config import load_settings
    from skill.service import wiring
    from skill.tools import bench

    groups = chosen_groups(args)
    if args.cpu_quota is not None and not args.cpu_quota > 0:
        raise UserError(f"--cpu-quota must be above 0 (a share of one core), not {args.cpu_quota}")
    settings = load_settings()
    library = wiring.load_library()
    scratch = Path(tempfile.mkdtemp(prefix="stretch-coach-bench-"))
    progress = partial(print, file=sys.stderr)
    try:
        if args.pi_child is not None:  # the throttled child of --cpu-quota: JSON only
            ctx = bench.Context(settings, library, scratch, args.full)
            print(json.dumps(bench.pi_child(ctx, args.pi_child, progress)))
            return 0
        device, note = bench.choose_audio_device(scratch)
        ctx = bench.Context(settings, library, scratch, args.full, device is not None, note)
        results = bench.run_groups(ctx, groups, progress)
        if args.cpu_quota is not None:
            pi = partial(bench.bench_pi, share=args.cpu_quota)
            results += bench.run_groups(ctx, ["pi"], progress, {"pi": pi})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(bench.to_json(results), indent=2))
    else:
        print(bench.render_table(results))
    return 0
