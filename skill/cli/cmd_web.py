"""`stretch-coach web`: where the phone page is, a QR code to open it, and unpairing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skill.errors import UserError


def register(sub: Any) -> None:
    p = sub.add_parser("web", help="the phone page's address; --qr to scan it, --forget to unpair")
    p.add_argument("--config", type=Path, help="config file (for web, web_bind, web_port)")
    p.add_argument(
        "--qr",
        action="store_true",
        help="draw the address as a QR code with a one-use pairing code (5 minutes)",
    )
    p.add_argument(
        "--forget", action="store_true", help="unpair every browser: each must pair again"
    )
    p.set_defaults(func=run_web)


def run_web(args: argparse.Namespace) -> int:
    from skill import paths
    from skill.config import ConfigError, load_settings
    from skill.web.address import page_url, where_to_open
    from skill.web.pairing import SessionStore

    try:
        settings = load_settings(explicit=args.config)
    except ConfigError as err:
        raise UserError(str(err)) from err
    store = SessionStore(paths.state_dir() / "web")
    if args.forget:
        n = store.forget()
        print(
            f"forgot {n} paired browser{'s' if n != 1 else ''} ({store.path.parent}): "
            "each must pair again"
        )
        return 0
    url = page_url(settings.web_bind, settings.web_port)
    if not settings.web:
        print(f"the phone page is off (web: false in the config); with it on it would be {url}")
        return 1
    print(where_to_open(settings.web_bind, url))
    print(f"{store.count()} browser(s) paired; a new one pairs with a code the coach speaks")
    if args.qr:
        _print_qr(url, store.make_qr_token())
    return 0


def _print_qr(url: str, token: str) -> None:
    """The link as a QR code in the terminal; it pairs one phone within 5 minutes. A phone
    that scans a loopback address opens itself, so then only the link is printed: pasted
    into a browser on this machine, it still pairs that one in one step."""
    from skill.web.address import this_machine_only

    link = f"{url}#code={token}"
    if this_machine_only(url):
        print(f"no QR code: a phone cannot open {url}, only this machine can")
        print(f"to open and pair the page here in one step, open within 5 minutes: {link}")
        return
    import segno

    segno.make(link, error="m").terminal(compact=True)
    print(f"scan it within 5 minutes to open and pair the page in one step ({link})")
