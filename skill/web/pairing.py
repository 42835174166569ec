"""Who may use the page: spoken pairing codes, paired browsers' sessions, CSRF tokens.

A browser pairs once with a 6-digit code the coach speaks (or a one-use QR link made by
`stretch-coach web --qr`) and then holds a long random session token in a cookie. Only
SHA-256 hashes of tokens are written, to files only the service's user can read, so a
copied state folder does not pair anyone; `stretch-coach web --forget` empties the file
and a running service notices at the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CODE_DIGITS = 6
CODE_VALID_S = 300.0  # a spoken code works for five minutes
WRONG_LIMIT = 5  # wrong codes in WRONG_WINDOW_S before every try is refused for a while
WRONG_WINDOW_S = 60.0
REQUEST_COOLDOWN_S = 20.0  # the coach speaks a new code at most this often
SESSION_MAX_AGE_S = 400 * 24 * 3600  # the longest cookie life browsers keep
SESSIONS_FILE = "sessions.json"
QR_FILE = "qr.json"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """Derived from the HttpOnly session token, so only a page that was served it knows it."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def spoken_code(code: str) -> str:
    """The code as the coach says it: digit by digit, with pauses."""
    from skill.core.plan import number_word

    return "Your pairing code is " + ", ".join(number_word(int(d)) for d in code) + "."


def _write_private(path: Path, data: object) -> None:
    """Replace `path` atomically with JSON readable by the owner only (0600 in a 0700 dir)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # a damaged file pairs no one; pairing again writes a good one


class SessionStore:
    """Paired browsers, by token hash, in `folder`/sessions.json; re-read when it changes."""

    def __init__(self, folder: Path, wall: Callable[[], float] = time.time) -> None:
        self.path = folder / SESSIONS_FILE
        self.qr_path = folder / QR_FILE
        self.wall = wall
        self._hashes: dict[str, float] = {}
        self._stamp: tuple[int, int] | None = None

    def _load(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            self._hashes, self._stamp = {}, None
            return
        if stamp == self._stamp:
            return
        data = _read_json(self.path)
        sessions = data.get("sessions", {}) if isinstance(data, dict) else {}
        self._hashes = {str(k): float(v) for k, v in sessions.items() if isinstance(v, int | float)}
        self._stamp = stamp

    def add(self) -> str:
        """A new session token (the cookie's value); only its hash is kept."""
        self._load()
        token = secrets.token_urlsafe(32)
        now = self.wall()
        live = {h: t for h, t in self._hashes.items() if now - t < SESSION_MAX_AGE_S}
        live[digest(token)] = now
        _write_private(self.path, {"sessions": live})
        self._stamp = None
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        self._load()
        paired_at = self._hashes.get(digest(token))
        return paired_at is not None and self.wall() - paired_at < SESSION_MAX_AGE_S

    def count(self) -> int:
        self._load()
        return len(self._hashes)

    def forget(self) -> int:
        """Unpair every browser (and void a QR link); how many were paired."""
        n = self.count()
        self.path.unlink(missing_ok=True)
        self.qr_path.unlink(missing_ok=True)
        self._hashes, self._stamp = {}, None
        return n

    def make_qr_token(self) -> str:
        """A one-use pairing token for a QR link, valid CODE_VALID_S (for `web --qr`)."""
        token = secrets.token_urlsafe(16)
        _write_private(self.qr_path, {"hash": digest(token), "until": self.wall() + CODE_VALID_S})
        return token

    def use_qr_token(self, token: str) -> bool:
        data = _read_json(self.qr_path)
        if not isinstance(data, dict) or not isinstance(data.get("until"), int | float):
            return False
        if self.wall() > data["until"] or not hmac.compare_digest(
            str(data.get("hash", "")), digest(token)
        ):
            return False
        self.qr_path.unlink(missing_ok=True)  # one use
        return True


@dataclass(frozen=True)
class Verdict:
    ok: bool
    status: int  # HTTP status for the page
    message: str
    retry_after_s: int = 0


@dataclass
class PairingCodes:
    """The spoken code and the limits on asking for and guessing it. Clock injected."""

    clock: Callable[[], float] = time.monotonic
    _code: str | None = None
    _until: float = 0.0
    _issued: float = -1e9
    _wrong: list[float] = field(default_factory=list)

    def request(self) -> tuple[str | None, Verdict]:
        """A fresh code to speak, or why not now."""
        now = self.clock()
        wait = self._issued + REQUEST_COOLDOWN_S - now
        if wait > 0:
            seconds = _whole(wait)
            message = f"a code was just spoken; ask again in {seconds} s"
            return None, Verdict(False, 429, message, seconds)
        self._code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        self._issued, self._until = now, now + CODE_VALID_S
        minutes = round(CODE_VALID_S / 60)
        return self._code, Verdict(True, 202, f"listen: the coach says a code, valid {minutes} min")

    def check(self, code: str, qr: Callable[[str], bool] | None = None) -> Verdict:
        """Whether `code` pairs: the spoken code, else a QR token; wrong tries are limited."""
        now = self.clock()
        self._wrong = [t for t in self._wrong if now - t < WRONG_WINDOW_S]
        if len(self._wrong) >= WRONG_LIMIT:
            wait = _whole(self._wrong[0] + WRONG_WINDOW_S - now)
            return Verdict(False, 429, f"too many wrong codes; try again in {wait} s", wait)
        code = _typed(code)
        spoken = self._code is not None and now <= self._until
        if spoken and self._code is not None and hmac.compare_digest(code, self._code):
            self._code = None  # one use
            return Verdict(True, 200, "paired")
        if qr is not None and len(code) > CODE_DIGITS and qr(code):
            return Verdict(True, 200, "paired")
        self._wrong.append(now)
        if len(self._wrong) >= WRONG_LIMIT:
            self._code = None  # guessed at too often: the next one must be asked for anew
        if not spoken and self._issued > -1e9 and now > self._until:
            return Verdict(False, 403, "that code has expired: ask the coach for a new one")
        left = WRONG_LIMIT - len(self._wrong)
        return Verdict(False, 403, f"wrong code ({left} more tries this minute)")


def _typed(code: str) -> str:
    """The code as typed, without spaces (a full-width one too), each digit as its ASCII
    one: phone keyboards type full-width (０), Arabic-Indic (٠), Persian (۰) and other
    scripts' decimal digits, which NFKC would leave alone. Codes and QR tokens are ASCII, so
    any other character makes it '', which never pairs (and compare_digest refuses
    non-ASCII str)."""
    code = "".join(_ascii_digit(ch) for ch in code if not ch.isspace())
    return code if code.isascii() else ""


def _ascii_digit(ch: str) -> str:
    """A decimal digit of any script as ASCII; superscripts and the like are not digits."""
    return str(unicodedata.decimal(ch)) if ch.isdecimal() else ch


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))
