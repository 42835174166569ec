"""Tells systemd how the service is doing (sd_notify), and nothing at all when not under it.

Type=notify makes "started" mean "models loaded and microphone open", and WatchdogSec
restarts a main loop that hangs; both need these messages from the main process
(NotifyAccess=main). Outside systemd $NOTIFY_SOCKET is unset and every call is a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def watchdog_interval(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog timeout in seconds ($WATCHDOG_USEC), None when not watched.

    Ping at least twice per interval, as sd_watchdog_enabled(3) advises.
    $WATCHDOG_PID, when set, must be this process: a child must not ping for its parent.
    """
    env = os.environ if env is None else env
    usec, owner = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if owner and owner != str(os.getpid() if pid is None else pid):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


class Notifier:
    """READY / WATCHDOG / STOPPING / STATUS messages to systemd over $NOTIFY_SOCKET."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self._notifier: Any = None
        if env.get("NOTIFY_SOCKET"):
            import sdnotify

            # sdnotify reads the socket address from the process environment.
            saved = os.environ.get("NOTIFY_SOCKET")
            os.environ["NOTIFY_SOCKET"] = env["NOTIFY_SOCKET"]
            try:
                self._notifier = sdnotify.SystemdNotifier()
            finally:
                if saved is None:
                    del os.environ["NOTIFY_SOCKET"]
                else:
                    os.environ["NOTIFY_SOCKET"] = saved

    @property
    def enabled(self) -> bool:
        return self._notifier is not None and self._notifier.socket is not None

    def _send(self, *lines: str) -> None:
        if self._notifier is not None:
            self._notifier.notify("\n".join(lines))

    def ready(self, status: str = "listening") -> None:
        self._send("READY=1", f"STATUS={status}")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self, status: str = "stopping") -> None:
        self._send("STOPPING=1", f"STATUS={status}")

    def status(self, text: str) -> None:
        """Free text shown by `systemctl status stretch-coach` (one line)."""
        self._send(f"STATUS={' '.join(text.split())}")


_default: Notifier | None = None


def _notifier() -> Notifier:
    """One notifier for the process, made on first use from the environment."""
    global _default
    if _default is None:
        _default = Notifier()
    return _default


def ready(status: str = "listening") -> None:
    _notifier().ready(status)


def watchdog() -> None:
    _notifier().watchdog()


def stopping(status: str = "stopping") -> None:
    _notifier().stopping(status)


def status(text: str) -> None:
    _notifier().status(text)
