"""Where the person is and what they did, on disk: survives a crash or a pulled plug.

The state file is replaced atomically (write a temporary file, fsync, rename), so a power
cut leaves either the old or the new snapshot, never half of one; a disk that takes no new
file (full, or a folder gone read-only) gets it written over the old one in place instead.
The history is an append-only JSON-lines file: a torn last line is skipped on reading, never
rewritten. A session the history cannot take is kept in the state file (UNRECORDED) and
added at the next start or save: a finished session is never lost, nor offered to resume.
"""

from __future__ import annotations

import json
import logging
import os
import stat
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
# The state file's list of history records the disk refused, kept until the history takes them.
UNRECORDED = "unrecorded"

log = logging.getLogger(__name__)


class ProgressStore:
    """Carries out SaveProgress and RecordSession; reads them back after a restart."""

    def __init__(self, state_dir: Path, wall: Callable[[], float] = time.time) -> None:
        self.state_dir = state_dir
        self.wall = wall
        self.messages: list[str] = []  # problems found, for the shell to log or say
        self._failed: set[str] = set()  # what the disk refused so far (reported once)
        self.unrecorded: list[dict[str, Any]] = []  # sessions the history has not taken yet
        self.save_error: str | None = None  # why the last save failed (None: it did not)
        self.history_error: str | None = None  # why the history last refused a session
        # The snapshot the state file holds, once this store has read or written it: a
        # session the history refuses is kept beside it (before that, at the next save).
        self._snapshot: Mapping[str, Any] | None = None
        self._known = False

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def history_path(self) -> Path:
        return self.state_dir / HISTORY_FILE

    def apply(self, action: SaveProgress | RecordSession) -> None:
        if isinstance(action, SaveProgress) and action.set_aside:
            if self.set_aside_unusable(action.set_aside):
                self.save(None)  # the sessions kept for the history stay in the state file
        elif isinstance(action, SaveProgress):
            self.save(action.snapshot)
        else:
            self.append_history(action.record)

    def save(self, snapshot: Mapping[str, Any] | None) -> None:
        """Replace the state file atomically; None removes it (nothing to resume). A disk
        that refuses (full, read-only, a folder in the way) is reported, never fatal: the
        routine goes on, only a power cut would now lose where it is. Sessions the history
        refused are added to it first, if it takes them now; else kept in the file."""
        self._snapshot, self._known = snapshot, True
        self._flush_unrecorded()
        self._keep(snapshot)

    def _keep(self, snapshot: Mapping[str, Any] | None) -> bool:
        try:
            self._write_state(snapshot)
        except OSError as err:
            self.save_error = f"cannot save where you are in {self.state_path}: {err}"
            self._report_once("save", self.save_error)
            return False
        self.save_error = None
        return True

    def _write_state(self, snapshot: Mapping[str, Any] | None) -> None:
        content = self._content(snapshot)
        try:
            if content is None:
                self.state_path.unlink(missing_ok=True)
            else:
                self._replace(json.dumps(content, sort_keys=True).encode())
        except OSError as err:
            if not self._overwrite(json.dumps(content or {}, sort_keys=True).encode()):
                raise
            self._report_once(
                "in place",
                f"the disk takes no new file in {self.state_dir} ({err}): saved over "
                f"{self.state_path} in place, which a power cut as it writes could damage; "
                "free space (df -h) or check the SD card",
            )

    def _content(self, snapshot: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """What the state file holds: the snapshot and the sessions kept for the history."""
        if not self.unrecorded:
            return None if snapshot is None else dict(snapshot)
        return {**(snapshot or {}), UNRECORDED: list(self.unrecorded)}

    def _replace(self, data: bytes) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)
        finally:
            tmp.unlink(missing_ok=True)  # gone after the rename; a failed write's leftover
        _fsync_dir(self.state_dir)

    def _overwrite(self, data: bytes) -> bool:
        """Write `data` over the state file where it is, within the space it already has
        (a full disk gives no more); False when that cannot be done either."""
        try:
            fd = os.open(self.state_path, os.O_WRONLY)
        except OSError:
            return False
        try:
            held = os.fstat(fd)
            room = max(held.st_size, held.st_blocks * 512)
            if not stat.S_ISREG(held.st_mode) or len(data) > room:
                return False
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    def append_history(self, record: Mapping[str, Any]) -> None:
        """One line per session; a torn previous line gets its own line ended first. One the
        disk refuses is reported and kept in the state file, to be added at the next start
        or save (never offered to resume: that file's snapshot is what was saved with it)."""
        self.unrecorded.append(dict(record))
        if self._flush_unrecorded():
            return
        kept = self._known and self._keep(self._snapshot)
        where = (
            f"kept in {self.state_path} and added when the disk takes it"
            if kept
            else "kept by the running service only, until the disk takes it"
        )
        self._report_once(
            "history",
            f"cannot add this session to {self.history_path}: {self.history_error}; {where}",
        )

    def _flush_unrecorded(self) -> bool:
        """Add the sessions kept for the history to it; False when the disk still refuses."""
        while self.unrecorded:
            try:
                self._append_line(self.unrecorded[0])
            except OSError as err:
                self.history_error = str(err)
                return False
            self.unrecorded.pop(0)
        self.history_error = None
        return True

    def _append_line(self, record: Mapping[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps(dict(record), sort_keys=True) + "\n"
        with self.history_path.open("ab") as f:
            if f.tell() and not _ends_with_newline(self.history_path):
                f.write(b"\n")
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())

    def trouble(self) -> str | None:
        """What the disk has not kept, said as the service stops; None when all is saved."""
        waiting = len(self.unrecorded)
        sessions = "1 session" if waiting == 1 else f"{waiting} sessions"
        if self.save_error is not None:
            if not waiting:
                return self.save_error
            lost = json.dumps(self.unrecorded, sort_keys=True)
            return f"{self.save_error}; {sessions} the history could not take, lost: {lost}"
        if waiting:
            return (
                f"{sessions} not in {self.history_path} ({self.history_error}): kept in "
                f"{self.state_path}, added when the service next starts or saves"
            )
        return None

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
        kept = _records(data.pop(UNRECORDED, None))
        if look_only:
            self.unrecorded = kept
        else:
            self._snapshot, self._known = data or None, True
            self._take_unrecorded(kept)
        return data or None  # only sessions kept for the history: nothing to resume

    def _take_unrecorded(self, kept: list[dict[str, Any]]) -> None:
        """Add the sessions the state file kept to the history, which may take them now."""
        if not kept:
            return
        added = self.history()  # a start cut off after adding them, before the save
        self.unrecorded = [r for r in kept if r not in added]
        if not self._flush_unrecorded():
            self._report(
                f"{len(self.unrecorded)} session(s) kept in {self.state_path} still cannot be "
                f"added to {self.history_path}: {self.history_error}"
            )
            return
        self._keep(self._snapshot)

    def _damaged(self, why: str, look_only: bool) -> None:
        if not look_only:
            self._set_aside(why)
            return
        self._report(
            f"{self.state_path} is corrupt ({why}); the service will keep it as "
            f"{STATE_FILE}.corrupt-<time> when it starts"
        )

    def mark_running(self, pid: int, started_at: float) -> None:
        """Note that this process coaches from this folder (SERVICE_FILE), with what tells
        it from a later process given the same number (_identity)."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            data = json.dumps({"pid": pid, "started_at": started_at, **_identity(pid)})
            (self.state_dir / SERVICE_FILE).write_text(data, encoding="utf-8")
        except OSError as err:
            self._report_once("mark", f"cannot write {self.state_dir / SERVICE_FILE}: {err}")

    def clear_running(self) -> None:
        try:
            (self.state_dir / SERVICE_FILE).unlink(missing_ok=True)
        except OSError as err:
            self._report_once("mark", f"cannot remove {self.state_dir / SERVICE_FILE}: {err}")

    def running_since(self) -> float | None:
        """When the service coaching from this folder started, if it runs now (a service
        killed with -9 left its file behind, and its number may now be another process's);
        else None."""
        try:
            data = json.loads((self.state_dir / SERVICE_FILE).read_text(encoding="utf-8"))
            pid, started_at = int(data["pid"]), float(data["started_at"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return started_at if _is_the_service(pid, data) else None

    def set_aside_unusable(self, why: str) -> bool:
        """Keep a saved session that no longer fits the library as state.json.unusable-…;
        False when it is still in the state file."""
        if self.state_path.exists():
            return self._set_aside(why, "unusable", "cannot be used")
        return True

    def _set_aside(self, why: str, kind: str = "corrupt", was: str = "was corrupt") -> bool:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.wall()))
        aside = self.state_path.with_name(f"{STATE_FILE}.{kind}-{stamp}")
        try:
            os.replace(self.state_path, aside)
        except OSError as err:
            self._report(f"{self.state_path} {was} ({why}) and cannot be moved: {err}")
            return False
        self._report(f"{self.state_path} {was} ({why}); moved it to {aside.name}")
        return True

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

    def records(self) -> list[dict[str, Any]]:
        """The history and the sessions kept for it (a disk that refused them): every
        session there is. A store that has not read the state file reads it for them."""
        return self.history() + self.kept_for_history()

    def kept_for_history(self) -> list[dict[str, Any]]:
        """The sessions kept because the disk refused them to the history: this store's, or
        the state file's (one that cannot be read keeps none here: load_saved reports it)."""
        if self._known or self.unrecorded:
            return list(self.unrecorded)
        try:
            data = json.loads(self.state_path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return []
        return _records(data.get(UNRECORDED)) if isinstance(data, dict) else []


def _records(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _identity(pid: int) -> dict[str, Any]:
    """What names this very process: the boot and the moment since boot it started
    (/proc/<pid>/stat, in clock ticks), neither of which the wall clock moves; {} without
    a /proc to ask."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        stat_line = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        # the name in parentheses may hold spaces; field 22 (starttime) is the 20th after it
        ticks = int(stat_line.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return {}
    return {"boot_id": boot, "process_start": ticks}


def _is_the_service(pid: int, mark: Mapping[str, Any]) -> bool:
    """The marked process runs: alive, and the same process (_identity), or where the mark
    or /proc cannot tell, a process running the coach (its command line)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # alive, another user's (the service runs as its own user)
    except OSError:
        return False
    now = _identity(pid)
    if now and "process_start" in mark:
        return now == {"boot_id": mark.get("boot_id"), "process_start": mark["process_start"]}
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask
    return _runs_the_coach(command.split(b"\0"))


def _runs_the_coach(argv: list[bytes]) -> bool:
    """`stretch-coach ...` (any path to it) or `python -m skill ...`."""
    for i, arg in enumerate(argv):
        if os.path.basename(arg) == b"stretch-coach" or arg == b"-mskill":
            return True
        if arg == b"-m" and argv[i + 1 : i + 2] == [b"skill"]:
            return True
    return False


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
