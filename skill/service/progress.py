"""Where the person is and what they did, on disk: survives a crash or a pulled plug.

The state file is replaced atomically (write a temporary file, fsync, rename), so a power
cut leaves either the old or the new snapshot, never half of one. The history is an
append-only JSON-lines file: a torn last line is skipped on reading, never rewritten.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from skill.core.events import RecordSession, SaveProgress

STATE_FILE = "state.json"
HISTORY_FILE = "history.jsonl"
# Written while `run` coaches from this folder, so `status` can tell a session in progress
# (saved every few seconds) from one that was interrupted.
SERVICE_FILE = "service.json"

log = logging.getLogger(__name__)


class ProgressStore:
    """Carries out SaveProgress and RecordSession; reads them back after a restart."""

    def __init__(self, state_dir: Path, wall: Callable[[], float] = time.time) -> None:
        self.state_dir = state_dir
        self.wall = wall
        self.messages: list[str] = []  # problems found, for the shell to log or say
        self._failed: set[str] = set()  # what the disk refused so far (reported once)

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def history_path(self) -> Path:
        return self.state_dir / HISTORY_FILE

    def apply(self, action: SaveProgress | RecordSession) -> None:
        if isinstance(action, SaveProgress) and action.set_aside:
            self.set_aside_unusable(action.set_aside)
        elif isinstance(action, SaveProgress):
            self.save(action.snapshot)
        else:
            self.append_history(action.record)

    def save(self, snapshot: Mapping[str, Any] | None) -> None:
        """Replace the state file atomically; None removes it (nothing to resume). A disk
        that refuses (full, read-only, a folder in the way) is reported, never fatal: the
        routine goes on, only a power cut would now lose where it is."""
        try:
            self._write_state(snapshot)
        except OSError as err:
            self._report_once("save", f"cannot save where you are in {self.state_path}: {err}")

    def _write_state(self, snapshot: Mapping[str, Any] | None) -> None:
        if snapshot is None:
            self.state_path.unlink(missing_ok=True)
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        data = json.dumps(dict(snapshot), sort_keys=True).encode()
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)
        finally:
            tmp.unlink(missing_ok=True)  # gone after the rename; a failed write's leftover
        _fsync_dir(self.state_dir)

    def append_history(self, record: Mapping[str, Any]) -> None:
        """One line per session; a torn previous line gets its own line ended first. A disk
        that refuses is reported, as for the state file."""
        try:
            self._append_line(record)
        except OSError as err:
            self._report_once("history", f"cannot add this session to {self.history_path}: {err}")

    def _append_line(self, record: Mapping[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps(dict(record), sort_keys=True) + "\n"
        with self.history_path.open("ab") as f:
            if f.tell() and not _ends_with_newline(self.history_path):
                f.write(b"\n")
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())

    def load_saved(self, look_only: bool = False) -> dict[str, Any] | None:
        """The last snapshot; a corrupt file is renamed aside and reported, never fatal.
        `look_only` (a query such as `status`): reported, and left where it is."""
        try:
            raw = self.state_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            self._report(f"cannot read {self.state_path}: {err}")
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            self._damaged(f"not valid JSON ({err})", look_only)
            return None
        if not isinstance(data, dict):
            self._damaged(f"expected an object, found {type(data).__name__}", look_only)
            return None
        return data

    def _damaged(self, why: str, look_only: bool) -> None:
        if not look_only:
            self._set_aside(why)
            return
        self._report(
            f"{self.state_path} is corrupt ({why}); the service will keep it as "
            f"{STATE_FILE}.corrupt-<time> when it starts"
        )

    def mark_running(self, pid: int, started_at: float) -> None:
        """Note that this process coaches from this folder (SERVICE_FILE)."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            data = json.dumps({"pid": pid, "started_at": started_at})
            (self.state_dir / SERVICE_FILE).write_text(data, encoding="utf-8")
        except OSError as err:
            self._report_once("mark", f"cannot write {self.state_dir / SERVICE_FILE}: {err}")

    def clear_running(self) -> None:
        try:
            (self.state_dir / SERVICE_FILE).unlink(missing_ok=True)
        except OSError as err:
            self._report_once("mark", f"cannot remove {self.state_dir / SERVICE_FILE}: {err}")

    def running_since(self) -> float | None:
        """When the service coaching from this folder started, if one runs now (its process
        is alive: a service killed with -9 left its file behind); else None."""
        try:
            data = json.loads((self.state_dir / SERVICE_FILE).read_text(encoding="utf-8"))
            pid, started_at = int(data["pid"]), float(data["started_at"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return started_at if _alive(pid) else None

    def set_aside_unusable(self, why: str) -> None:
        """Keep a saved session that no longer fits the library as state.json.unusable-…"""
        if self.state_path.exists():
            self._set_aside(why, "unusable", "cannot be used")

    def _set_aside(self, why: str, kind: str = "corrupt", was: str = "was corrupt") -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.wall()))
        aside = self.state_path.with_name(f"{STATE_FILE}.{kind}-{stamp}")
        try:
            os.replace(self.state_path, aside)
        except OSError as err:
            self._report(f"{self.state_path} {was} ({why}) and cannot be moved: {err}")
            return
        self._report(f"{self.state_path} {was} ({why}); moved it to {aside.name}")

    def _report(self, message: str) -> None:
        log.warning("%s", message)
        self.messages.append(message)

    def _report_once(self, kind: str, message: str) -> None:
        """A failing disk fails every save of a session: say it once, not at every step."""
        if kind not in self._failed:
            self._failed.add(kind)
            self._report(message)

    def history(self) -> list[dict[str, Any]]:
        """Every readable session line, oldest first; damaged lines are skipped."""
        try:
            lines = self.history_path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        except OSError as err:
            self._report_once("read history", f"cannot read {self.history_path}: {err}")
            return []
        records: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                if line.strip():
                    log.warning("%s:%d: damaged history line skipped", self.history_path, number)
                continue
            if isinstance(record, dict):
                records.append(record)
        return records


def _alive(pid: int) -> bool:
    """The process is alive and, where /proc says, is Python (after a power cut its number
    may belong to another program)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # alive, another user's (the service runs as its own user)
    except OSError:
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask
    return b"python" in command or b"stretch-coach" in command


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; some filesystems cannot open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
