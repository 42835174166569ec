"""The phone page's HTTP server: aiohttp on its own thread and event loop, beside the service.

It never touches the player. Commands go into the service's event queue as `Command`s
with source "web", exactly where voice and the button put theirs; the player's state
comes back as views the service publishes after each event (skill.core.player_view). So
the log, LED and history see a tap on the page as they see a spoken command.

Every request is checked in one place (`_guard`): the Host must be this machine (no DNS
rebinding), every page and API needs a paired browser's cookie (else 401), and every
request that changes something needs a same-origin Origin and the CSRF token.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from skill.core.events import Command
from skill.core.exercise import Library
from skill.web import pages
from skill.web.pairing import (
    SESSION_MAX_AGE_S,
    PairingCodes,
    SessionStore,
    Verdict,
    csrf_token,
)

COOKIE = "coach_session"
CSRF_HEADER = "X-CSRF-Token"
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"app.css": "text/css", "app.js": "text/javascript", "pair.js": "text/javascript"}
# Paths a browser that has not paired yet may load: the pairing page and what it needs.
PUBLIC = {"/", "/pair", "/pair/request", *(f"/static/{n}" for n in STATIC_FILES)}
PAGE_COMMANDS = (
    "start",
    "ready",
    "pause",
    "resume",
    "next",
    "back",
    "repeat",
    "stop",
    "louder",
    "quieter",
)
# Every argument a command may carry, with what it is; each must be a string (or null).
COMMAND_ARGS = {"routine": "a routine's id, for start"}
SSE_KEEPALIVE_S = 15.0  # a comment line this often keeps proxies and phones from idling out
SSE_RETRY_MS = 1000  # EventSource reconnects this soon after the service restarts
MAX_STREAMS = 8  # open live pages; each costs a few kB, the cap bounds a misbehaving client
MAX_BODY = 16 * 1024
START_TIMEOUT_S = 10.0
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebError(Exception):
    """The page cannot be served (e.g. the port is taken); the message says what to change."""


@dataclass
class Coach:
    """What the page needs from the service, as plain callables (no service import)."""

    submit: Callable[[Command], None]  # the service's event queue
    announce_code: Callable[[str], None]  # speak and log a pairing code
    library: Library
    history: Callable[[], list[dict[str, Any]]]
    sessions: SessionStore
    default_routine: str = ""  # the configured one; "": the library's


def host_allowed(host: str) -> bool:
    """An IP address, localhost, or this machine's own name: never someone else's name
    (a page on another site that points its name at this address must not be served)."""
    if host.startswith("["):  # [IPv6]:port
        name = host[1 : host.find("]")] if "]" in host else ""
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".").lower()
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    own = socket.gethostname().lower()
    return name in {"localhost", own, f"{own}.local"}


async def _json_body(request: web.Request) -> object:
    """The body's JSON, or None if it is none: not UTF-8, not JSON, or nested deeper than
    json.loads recurses (a 16 kB body of '[' is)."""
    try:
        return await request.json()
    except (ValueError, RecursionError):
        return None


def _wrong_types(data: dict[str, Any]) -> str:
    """Why a command's arguments are refused, or '' if each known one is a string or null
    (null = not given): a list or an object must not reach the library's lookups."""
    for key, value in data.items():
        if key in COMMAND_ARGS and not isinstance(value, str | None):
            return f"{key} must be a string ({COMMAND_ARGS[key]}), not {_json_type(value)}"
    return ""


def _json_type(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list"}
    return names.get(type(value), "an object")


def start_refusal(view: dict[str, Any]) -> str:
    """Why a start from the page would do nothing now, or '' if it would start something.

    The player refuses a start while a routine runs or is paused and only the coach says so,
    which the phone cannot hear; the page gets it as a 409. In the wait for the props a start
    is taken (as ready, or to begin another routine), so it is let through there."""
    mode = view.get("mode")
    routine = view.get("routine") or {}
    name = routine.get("name") or "a routine"
    if mode == "paused":
        return f"{name} is on a break: tap Resume to go on, or Stop to end it first"
    if mode == "running" and not view.get("waiting"):
        return f"{name} is already going: tap Stop to end it first"
    return ""


def _json_error(status: int, message: str, retry_after: int = 0) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return web.json_response({"error": message}, status=status, headers=headers)


class WebServer:
    """Start with `start()`, feed with `publish(view)`, end with `stop()`; thread-safe."""

    def __init__(
        self,
        coach: Coach,
        bind: str,
        port: int,
        log: logging.Logger,
        codes: PairingCodes | None = None,
    ) -> None:
        self.coach = coach
        self.bind, self.port = bind, port
        self.log = log
        self.codes = codes or PairingCodes()
        self._view = "{}"
        self._version = 0
        self._start_refused = ""  # start_refusal of the last view published
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error = ""
        self._streams = 0
        self._thread: threading.Thread | None = None
        self._files = {name: (STATIC / name).read_bytes() for name in STATIC_FILES}
        self._index = (STATIC / "index.html").read_text(encoding="utf-8")
        self._pair = (STATIC / "pair.html").read_bytes()

    # --- the service's side ----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise WebError(f"the page did not start within {START_TIMEOUT_S:g} s")
        if self._error:
            raise WebError(self._error)

    def publish(self, view: dict[str, Any]) -> None:
        """Hand over the player's latest view; open pages get it only if it changed."""
        text = json.dumps(view, sort_keys=True)
        refused = start_refusal(view)
        with self._lock:
            if text == self._view:
                return
            self._view, self._version = text, self._version + 1
            self._start_refused = refused
            loop = self._loop
        if loop is not None and not loop.is_closed():
            # The loop may close between the check and the call: then nobody is to be told.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake)

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopping.set)
                loop.call_soon_threadsafe(self._wake)
            except RuntimeError:
                return
        if self._thread is not None:
            self._thread.join(5.0)

    # --- the server's thread ---------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._changed, self._stopping = asyncio.Event(), asyncio.Event()
        self._loop = asyncio.get_running_loop()
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.bind, self.port)
        try:
            await site.start()
        except OSError as err:
            why = "the port is taken" if "in use" in str(err) else err.strerror or str(err)
            self._error = (
                f"cannot serve the page on {self.bind}:{self.port}: {why} "
                "(set web_port or web_bind in the config, or web: false)"
            )
            await runner.cleanup()
            self._ready.set()
            return
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stopping.wait()
        await runner.cleanup()

    def _wake(self) -> None:
        """Wake every open stream: swap in a fresh event and set the old one."""
        if self._changed is not None:
            old, self._changed = self._changed, asyncio.Event()
            old.set()

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.router.add_get("/", self._root)
        app.router.add_get("/pair", self._root)
        app.router.add_post("/pair/request", self._pair_request)
        app.router.add_post("/pair", self._pair_confirm)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/events", self._events)
        app.router.add_get("/api/history", self._history)
        app.router.add_get("/api/routines", self._routines)
        app.router.add_get("/history.csv", self._history_csv)
        app.router.add_post("/api/command", self._command)
        return app

    # --- checks ----------------------------------------------------------------------------

    def _paired(self, request: web.Request) -> str | None:
        token = request.cookies.get(COOKIE)
        return token if token and self.coach.sessions.valid(token) else None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await self._check(request, handler)
        if not response.prepared:  # a live stream sent its headers already
            response.headers.update(HEADERS)
        return response

    async def _check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.host):
            return _json_error(421, f"this coach does not serve the name {request.host!r}")
        changes = request.method not in ("GET", "HEAD")
        if changes:
            refused = self._same_origin(request)
            if refused:
                return _json_error(403, refused)
        if request.path in PUBLIC:
            return await handler(request)
        token = self._paired(request)
        if token is None:
            return _json_error(401, "this browser is not paired: open the coach's page to pair")
        if changes and request.headers.get(CSRF_HEADER, "") != csrf_token(token):
            return _json_error(403, "missing or wrong CSRF token: reload the page")
        return await handler(request)

    @staticmethod
    def _same_origin(request: web.Request) -> str:
        """Why a state-changing request is refused as cross-site, or '' if it is not."""
        origin = request.headers.get("Origin")
        if origin is None:
            return "refused: the request has no Origin (only the coach's own page may do this)"
        if origin != f"http://{request.host}":
            return f"refused: a page from {origin} may not control the coach"
        if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            return "refused: not sent by the coach's own page"
        return ""

    # --- pages -----------------------------------------------------------------------------

    async def _root(self, request: web.Request) -> web.Response:
        token = self._paired(request)
        if token is None:
            # The pairing page, with 401: nothing of the person's is shown before pairing.
            return web.Response(body=self._pair, status=401, content_type="text/html")
        html = self._index.replace("{{csrf}}", csrf_token(token))
        return web.Response(text=html, content_type="text/html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._files:
            return _json_error(404, f"no file {name!r}")
        return web.Response(body=self._files[name], content_type=STATIC_FILES[name])

    async def _pair_request(self, request: web.Request) -> web.Response:
        code, verdict = self.codes.request()
        if code is not None:
            self.coach.announce_code(code)
        return self._verdict(verdict)

    async def _pair_confirm(self, request: web.Request) -> web.Response:
        data = await _json_body(request)
        if not isinstance(data, dict) or "code" not in data:
            return _json_error(400, 'send JSON like {"code": "123456"}')
        code = str(data["code"])
        verdict = self.codes.check(code, qr=self.coach.sessions.use_qr_token)
        if not verdict.ok:
            self.log.warning("web: pairing refused from %s: %s", request.remote, verdict.message)
            return self._verdict(verdict)
        token = self.coach.sessions.add()
        self.log.info("web: a browser at %s paired", request.remote)
        response = web.json_response({"ok": True})
        response.set_cookie(
            COOKIE,
            token,
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="Strict",
            path="/",
        )
        return response

    @staticmethod
    def _verdict(verdict: Verdict) -> web.Response:
        if verdict.ok:
            return web.json_response(
                {"ok": True, "message": verdict.message}, status=verdict.status
            )
        return _json_error(verdict.status, verdict.message, verdict.retry_after_s)

    async def _command(self, request: web.Request) -> web.Response:
        data = await _json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return _json_error(400, 'send JSON like {"name": "pause"}')
        wrong = _wrong_types(data)
        if wrong:
            return _json_error(400, wrong)
        name = data["name"]
        if name not in PAGE_COMMANDS:
            return _json_error(400, f"unknown command {name!r}; known: {', '.join(PAGE_COMMANDS)}")
        if name == "start":
            with self._lock:
                refused = self._start_refused
            if refused:
                return _json_error(409, refused)
        args: dict[str, str] = {}
        routine = data.get("routine")
        if name == "start" and routine is not None:
            if routine not in self.coach.library.routines:
                known = ", ".join(self.coach.library.routines)
                return _json_error(400, f"no routine {routine!r}; routines: {known}")
            args["routine"] = routine
        self.coach.submit(Command(name, args, source="web"))
        return web.json_response({"ok": True}, status=202)

    async def _history(self, request: web.Request) -> web.Response:
        today = datetime.fromtimestamp(time.time()).date()
        return web.json_response(pages.history(self.coach.history(), today))

    async def _history_csv(self, request: web.Request) -> web.Response:
        return web.Response(
            text=pages.history_csv(self.coach.history()),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="stretch-history.csv"'},
        )

    async def _routines(self, request: web.Request) -> web.Response:
        return web.json_response(pages.routines(self.coach.library, self.coach.default_routine))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the current view at once, then each change."""
        if self._streams >= MAX_STREAMS:
            return _json_error(503, f"already {MAX_STREAMS} pages open; close one")
        token = request.cookies.get(COOKIE, "")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **HEADERS})
        await response.prepare(request)
        self._streams += 1
        try:
            await response.write(f"retry: {SSE_RETRY_MS}\n\n".encode())
            await self._stream(response, token)
        except ConnectionError:
            pass  # the phone went away
        finally:
            self._streams -= 1
        return response

    async def _stream(self, response: web.StreamResponse, token: str) -> None:
        assert self._stopping is not None
        sent = -1
        while not self._stopping.is_set() and self.coach.sessions.valid(token):
            changed = self._changed
            assert changed is not None
            with self._lock:
                version, view = self._version, self._view
            if version != sent:
                await response.write(f"data: {view}\n\n".encode())
                sent = version
                continue
            try:
                await asyncio.wait_for(changed.wait(), SSE_KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
