"""The address a phone opens: this machine's LAN address when the page listens on all."""

from __future__ import annotations

import socket

ANY = ("0.0.0.0", "::", "")


def lan_address() -> str:
    """The address other machines on the home network reach this one at; 127.0.0.1 if none.

    Connecting a UDP socket sends nothing: it only asks the kernel which local address
    would be used to reach a private network, which is the LAN address.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def page_url(bind: str, port: int) -> str:
    host = lan_address() if bind in ANY else bind
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"
