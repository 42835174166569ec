"""A paired phone, simulated for the benchmark: keeps the live page open and times its views.

It pairs the way `web --qr` does (a session written to the service's state folder), loads
the history and routines once, then holds the server-sent event stream open, noting when
each view arrived (monotonic clock), so the benchmark reads the page's memory cost and how
soon a change reaches it.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skill.web.pairing import SessionStore

COOKIE = "coach_session"  # as skill.web.server names it; not imported so aiohttp stays out


class PageProbe:
    def __init__(self, state_web_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.token = SessionStore(state_web_dir).add()
        self.views: list[tuple[float, dict[str, Any]]] = []
        self.problem = ""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="page-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _get(self, path: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request("GET", path, headers={"Cookie": f"{COOKIE}={self.token}"})
        return conn.getresponse()

    def _run(self) -> None:
        try:
            for path in ("/", "/api/history", "/api/routines"):
                self._get(path).read()
            stream = self._get("/events")
            if stream.status != 200:
                self.problem = f"/events answered {stream.status}"
                return
            for raw in stream:
                line = raw.decode()
                if line.startswith("data: "):
                    with self._lock:
                        self.views.append((time.monotonic(), json.loads(line[6:])))
        except (OSError, http.client.HTTPException, ValueError) as err:
            self.problem = f"the page's stream failed: {err}"

    def first_view(self, after: float, matches: Callable[[dict[str, Any]], bool]) -> float | None:
        """When the first view at or after `after` that `matches` arrived, or None."""
        with self._lock:
            return next((t for t, v in self.views if t >= after and matches(v)), None)
