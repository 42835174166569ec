"""The phone page's server over real HTTP: pairing, each refusal of issue #17 item 6, commands
into the service's queue, live views over server-sent events, and the files it keeps."""

from __future__ import annotations

import http.client
import json
import logging
import queue
import re
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from skill.core.events import Command
from skill.library.loader import load_library
from skill.web.pairing import (
    CODE_VALID_S,
    SESSION_MAX_AGE_S,
    WRONG_LIMIT,
    WRONG_WINDOW_S,
    PairingCodes,
    SessionStore,
)
from skill.web.server import COOKIE, Coach, WebError, WebServer, host_allowed


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    server: WebServer
    commands: queue.Queue[Command]
    codes: list[str]
    clock: Clock
    sessions: SessionStore
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        cookie: str | None = None,
        origin: str | None = "same",
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        sent = dict(headers or {})
        if origin == "same":
            sent["Origin"] = self.origin
        elif origin is not None:
            sent["Origin"] = origin
        if cookie:
            sent["Cookie"] = f"{COOKIE}={cookie}"
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        result = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        conn.close()
        return result

    def pair(self) -> str:
        """Pair as a browser would; the session token from the cookie."""
        status, _, _ = self.request("POST", "/pair/request")
        assert status == 202
        status, headers, body = self.request("POST", "/pair", {"code": self.codes[-1]})
        assert status == 200, body
        match = re.search(rf"{COOKIE}=([^;]+)", headers["set-cookie"])
        assert match
        return match.group(1)

    def csrf(self, token: str) -> str:
        status, _, body = self.request("GET", "/", cookie=token)
        assert status == 200
        match = re.search(rb'name="csrf" content="([0-9a-f]{64})"', body)
        assert match, body[:300]
        return match.group(1).decode()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    commands: queue.Queue[Command] = queue.Queue()
    codes: list[str] = []
    clock = Clock()
    sessions = SessionStore(tmp_path / "web")
    history: list[dict[str, Any]] = []
    coach = Coach(
        submit=commands.put,  # type: ignore[arg-type]
        announce_code=codes.append,
        library=load_library().library,
        history=lambda: history,
        sessions=sessions,
    )
    server = WebServer(coach, "127.0.0.1", 0, logging.getLogger("test"), PairingCodes(clock))
    server.start()
    yield Site(server, commands, codes, clock, sessions, history)
    server.stop()


def test_unpaired_browser_gets_401_everywhere_and_the_pairing_page_at_the_root(site: Site) -> None:
    status, _, body = site.request("GET", "/")
    assert status == 401 and b"Ask the coach for a code" in body
    for path in ("/api/history", "/api/routines", "/history.csv", "/events"):
        status, _, body = site.request("GET", path)
        assert status == 401, path
        assert b"not paired" in body
    status, _, _ = site.request("POST", "/api/command", {"name": "pause"})
    assert status == 401 and site.commands.empty()


def test_pairing_with_the_spoken_code_gives_a_strict_httponly_long_cookie(site: Site) -> None:
    status, _, _ = site.request("POST", "/pair/request")
    assert status == 202
    assert len(site.codes) == 1 and re.fullmatch(r"\d{6}", site.codes[0])
    status, headers, _ = site.request("POST", "/pair", {"code": site.codes[0]})
    assert status == 200
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert max_age == SESSION_MAX_AGE_S
    token = re.search(rf"{COOKIE}=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    status, _, body = site.request("GET", "/api/routines", cookie=token)
    assert status == 200 and any(r["id"] == "quick_stretch" for r in json.loads(body))


def test_a_code_pairs_once_and_expires_after_five_minutes(site: Site) -> None:
    site.pair()
    status, _, body = site.request("POST", "/pair", {"code": site.codes[-1]})
    assert status == 403, body
    site.clock.now += 60
    site.request("POST", "/pair/request")
    site.clock.now += CODE_VALID_S + 1
    status, _, body = site.request("POST", "/pair", {"code": site.codes[-1]})
    assert status == 403 and b"expired" in body


def test_wrong_codes_are_rate_limited_even_before_the_right_one(site: Site) -> None:
    site.request("POST", "/pair/request")
    right = site.codes[-1]
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(WRONG_LIMIT):
        status, _, _ = site.request("POST", "/pair", {"code": wrong})
        assert status == 403
    status, headers, body = site.request("POST", "/pair", {"code": right})
    assert status == 429 and int(headers["retry-after"]) > 0, body
    site.clock.now += WRONG_WINDOW_S + 1
    status, _, body = site.request("POST", "/pair", {"code": right})
    assert status == 403, "a code guessed at WRONG_LIMIT times is void: a new one must be asked"


def test_a_non_ascii_code_is_a_wrong_try_not_a_server_error(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: "é12345" gave 500 and a traceback (hmac.compare_digest refuses non-ASCII str)."""
    site.request("POST", "/pair/request")
    # Any non-digit code is a wrong code, counted like any other (circled digits too).
    for tries, typed in enumerate(["é12345", "①②③④⑤⑥", "12345🙂", "1234567\ud800"], 1):
        status, _, body = site.request("POST", "/pair", {"code": typed})
        left = WRONG_LIMIT - tries
        assert status == 403 and f"({left} more tries".encode() in body, (typed, body)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_full_width_digits_from_a_phone_keyboard_pair(site: Site) -> None:
    site.request("POST", "/pair/request")
    wide = site.codes[-1].translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    status, _, body = site.request("POST", "/pair", {"code": f"{wide[:3]}\u3000{wide[3:]}"})
    assert status == 200, body


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\u0966"], ids=["arabic", "persian", "hindi"])
def test_digits_of_any_script_pair(site: Site, zero: str) -> None:
    """QA: a code in Arabic-Indic digits (١٢٣) was a wrong try: NFKC keeps them as they are."""
    site.request("POST", "/pair/request")
    typed = site.codes[-1].translate({ord(d): ord(zero) + int(d) for d in "0123456789"})
    status, _, body = site.request("POST", "/pair", {"code": typed})
    assert status == 200, body


def test_digit_like_signs_that_are_not_digits_are_a_wrong_try(site: Site) -> None:
    """Superscript digits are not decimal digits (NFKC would have made them ASCII ones)."""
    site.request("POST", "/pair/request")
    raised = site.codes[-1].translate(dict(zip(map(ord, "0123456789"), "⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True)))
    status, _, body = site.request("POST", "/pair", {"code": raised})
    assert status == 403 and b"wrong code" in body, body


def test_asking_for_codes_again_and_again_is_refused(site: Site) -> None:
    assert site.request("POST", "/pair/request")[0] == 202
    status, headers, body = site.request("POST", "/pair/request")
    assert status == 429 and b"just spoken" in body and int(headers["retry-after"]) > 0
    assert len(site.codes) == 1


def test_commands_need_the_csrf_token_and_a_same_origin(site: Site) -> None:
    token = site.pair()
    csrf = site.csrf(token)
    good = {"X-CSRF-Token": csrf}
    body = {"name": "pause"}
    refusals = [
        ({}, "same"),  # no CSRF token
        ({"X-CSRF-Token": "0" * 64}, "same"),  # a wrong one
        (good, None),  # no Origin
        (good, "http://evil.example"),  # another site's page
        ({**good, "Sec-Fetch-Site": "cross-site"}, "same"),
    ]
    for headers, origin in refusals:
        status, _, text = site.request(
            "POST", "/api/command", body, headers, cookie=token, origin=origin
        )
        assert status == 403, (headers, origin, text)
    assert site.commands.empty()
    status, _, _ = site.request("POST", "/api/command", body, good, cookie=token)
    assert status == 202
    assert site.commands.get_nowait() == Command("pause", source="web")


def test_pairing_itself_refuses_another_origin(site: Site) -> None:
    status, _, _ = site.request("POST", "/pair/request", origin="http://evil.example")
    assert status == 403 and not site.codes


def test_start_names_a_routine_of_the_library_and_unknown_commands_are_refused(
    site: Site,
) -> None:
    token = site.pair()
    good = {"X-CSRF-Token": site.csrf(token)}
    status, _, body = site.request("POST", "/api/command", {"name": "format"}, good, cookie=token)
    assert status == 400 and b"known: start" in body
    start = {"name": "start", "routine": "nope"}
    status, _, body = site.request("POST", "/api/command", start, good, cookie=token)
    assert status == 400 and b"quick_stretch" in body
    start["routine"] = "quick_stretch"
    assert site.request("POST", "/api/command", start, good, cookie=token)[0] == 202
    assert site.commands.get_nowait().args == {"routine": "quick_stretch"}


def test_command_arguments_of_the_wrong_type_are_refused_with_400(site: Site) -> None:
    """QA: {"name": "start", "routine": ["x"]} gave 500 (unhashable type: 'list')."""
    token = site.pair()
    good = {"X-CSRF-Token": site.csrf(token)}
    bodies: list[tuple[object, str]] = [  # each with the word its refusal names
        ({"name": "start", "routine": ["x"]}, "routine must be a string"),
        ({"name": "start", "routine": {"id": "quick_stretch"}}, "routine must be a string"),
        ({"name": "start", "routine": 5}, "routine must be a string"),
        ({"name": "pause", "routine": True}, "routine must be a string"),
        ({"name": ["pause"]}, '{"name": "pause"}'),
        ({"name": 5}, '{"name": "pause"}'),
        (["pause"], '{"name": "pause"}'),
        ("pause", '{"name": "pause"}'),
        (b"null", '{"name": "pause"}'),
    ]
    for body, said in bodies:
        status, _, text = site.request("POST", "/api/command", body, good, cookie=token)
        assert status == 400 and said in json.loads(text)["error"], (body, text)
    assert site.commands.empty()
    start = {"name": "start", "routine": None}  # null: no routine named, as if left out
    status, _, _ = site.request("POST", "/api/command", start, good, cookie=token)
    assert status == 202 and site.commands.get_nowait() == Command("start", source="web")


def test_a_start_while_a_routine_runs_or_is_paused_is_refused_with_409_and_why(
    site: Site,
) -> None:
    """QA: a start from the page while a routine ran got 202 {"ok": true}; only the coach's
    voice refused it, so the phone showed nothing. Other commands still go through."""
    token = site.pair()
    good = {"X-CSRF-Token": site.csrf(token)}
    start = {"name": "start", "routine": "upper_back"}
    routine = {"id": "quick_stretch", "name": "quick stretch"}

    def send(body: dict[str, Any]) -> tuple[int, str]:
        status, _, text = site.request("POST", "/api/command", body, good, cookie=token)
        return status, json.loads(text).get("error", "")

    site.server.publish({"mode": "running", "routine": routine, "waiting": False})
    assert send(start) == (409, "quick stretch is already going: tap Stop to end it first")
    assert send({"name": "pause"})[0] == 202
    site.server.publish({"mode": "paused", "routine": routine, "waiting": False})
    status, why = send(start)
    assert status == 409 and "quick stretch is on a break" in why and "Resume" in why
    assert site.commands.get_nowait() == Command("pause", source="web")
    assert site.commands.empty()
    # Waiting for the props, a start is taken (as ready, or another routine); idle, it starts.
    site.server.publish({"mode": "running", "routine": routine, "waiting": True})
    assert send(start)[0] == 202
    site.server.publish({"mode": "idle", "routine": None})
    assert send(start)[0] == 202
    assert [site.commands.get_nowait().name for _ in range(2)] == ["start", "start"]


def test_json_nested_too_deep_is_a_400_not_a_server_error(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the body's size limit, yet deeper than json.loads recurses (RecursionError)."""
    token = site.pair()
    good = {"X-CSRF-Token": site.csrf(token)}
    deep = b"[" * 5000
    assert site.request("POST", "/pair", deep)[0] == 400
    assert site.request("POST", "/api/command", deep, good, cookie=token)[0] == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_other_host_names_are_not_served(site: Site) -> None:
    """DNS rebinding: a page whose name points at the coach must not read or control it."""
    token = site.pair()
    for path in ("/", "/api/history"):
        status, _, _ = site.request("GET", path, headers={"Host": "evil.example"}, cookie=token)
        assert status == 421


def test_forget_unpairs_every_browser_at_once(site: Site) -> None:
    token = site.pair()
    assert site.request("GET", "/api/history", cookie=token)[0] == 200
    assert site.sessions.forget() == 1
    assert site.request("GET", "/api/history", cookie=token)[0] == 401


def test_secrets_are_hashed_in_files_only_the_owner_reads(site: Site) -> None:
    token = site.pair()
    folder = site.sessions.path.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(site.sessions.path.stat().st_mode) == 0o600
    assert token not in site.sessions.path.read_text()


def test_responses_forbid_framing_sniffing_and_outside_assets(site: Site) -> None:
    _, headers, _ = site.request("GET", "/")
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_a_qr_token_pairs_once(site: Site) -> None:
    qr = site.sessions.make_qr_token()
    status, _, _ = site.request("POST", "/pair", {"code": qr})
    assert status == 200
    status, _, _ = site.request("POST", "/pair", {"code": qr})
    assert status == 403


def test_live_views_stream_as_server_sent_events(site: Site) -> None:
    token = site.pair()
    site.server.publish({"mode": "idle", "routine": None})
    conn = http.client.HTTPConnection("127.0.0.1", site.server.port, timeout=10)
    conn.request("GET", "/events", headers={"Cookie": f"{COOKIE}={token}"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("text/event-stream")

    def next_data() -> dict[str, Any]:
        while True:
            line = response.fp.readline().decode()
            if line.startswith("data: "):
                return dict(json.loads(line[6:]))

    assert next_data()["mode"] == "idle"
    site.server.publish({"mode": "running", "routine": {"id": "quick_stretch"}})
    assert next_data()["mode"] == "running"
    conn.close()


def test_history_and_its_csv_come_from_the_history_file(site: Site) -> None:
    token = site.pair()
    site.history.append(
        {"routine": "quick_stretch", "name": "quick stretch", "started_at": 1.7e9,
         "ended_at": 1.7e9 + 300, "finished": True, "steps_done": 3, "steps_total": 3}
    )  # fmt: skip
    status, _, body = site.request("GET", "/api/history", cookie=token)
    data = json.loads(body)
    assert status == 200 and data["sessions"][0]["minutes"] == 5.0
    assert data["weeks_svg"].startswith("<svg") and "<script" not in data["weeks_svg"]
    status, headers, body = site.request("GET", "/history.csv", cookie=token)
    lines = body.decode().splitlines()
    assert headers["content-type"].startswith("text/csv")
    assert lines[0].startswith("date,time,routine") and "quick_stretch" in lines[1]


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        coach = Coach(
            submit=lambda c: None,
            announce_code=lambda c: None,
            library=load_library().library,
            history=list,
            sessions=SessionStore(tmp_path),
        )
        server = WebServer(coach, "127.0.0.1", port, logging.getLogger("test"))
        with pytest.raises(WebError, match="web_port"):
            server.start()


def test_only_addresses_and_this_machines_names_are_hosts() -> None:
    own = socket.gethostname()
    for host in ("127.0.0.1:8321", "192.168.1.20", "[::1]:8321", "[fe80::1]", "localhost:8321"):
        assert host_allowed(host), host
    assert host_allowed(f"{own}.local:8321") and host_allowed(own.upper())
    for host in ("evil.example", "evil.example:8321", "127.0.0.1.evil.example", "[::1", ""):
        assert not host_allowed(host), host
