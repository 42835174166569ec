"""The address a phone opens: this machine's LAN address when the page listens on all."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

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


def this_machine_only(url: str) -> bool:
    """Whether `url` names a loopback address (127.x, ::1, localhost), which a phone that
    opens it takes for itself: only this machine reaches the page there."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: whatever it resolves to, it is not ours to judge


def where_to_open(bind: str, url: str) -> str:
    """Who can open the page at `url` (from page_url), as `stretch-coach web` prints it and
    the service logs it after "web: "."""
    if not this_machine_only(url):
        return f"open {url} on a phone on this network to pair it"
    if bind in ANY:  # it listens on the network, but the machine is on none yet
        why = "this machine has no network address now, so a phone cannot reach it"
    else:
        why = (
            f"web_bind is {bind}, reachable from this machine only (set web_bind to 0.0.0.0, "
            "or to this machine's LAN address, to use a phone)"
        )
    return f"open {url} in a browser on this machine: {why}"
