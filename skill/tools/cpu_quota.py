"""A share of one CPU core for a child process: a cgroup with a CFS quota, made and removed.

`stretch-coach bench --cpu-quota 0.2` runs its Pi-like part in such a group. cgroup v1's cpu
controller (`/sys/fs/cgroup/cpu`) is used when it is mounted and writable: the group gets
`cpu.cfs_period_us` and `cpu.cfs_quota_us` = share x period. Otherwise cgroup v2's `cpu.max`
on the unified hierarchy, when its cpu controller is available there. Creating a group needs
root (or a delegated hierarchy); where neither works, `open_group` says why.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from skill.errors import QuotaError

V1_CPU = Path("/sys/fs/cgroup/cpu")
V2_ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))  # unified, hybrid
PERIOD_US = 10_000
MIN_QUOTA_US = 1_000  # the kernel refuses a smaller quota
MAX_PERIOD_US = 1_000_000
GROUP_PREFIX = "stretch-coach-bench-"


@dataclass(frozen=True)
class CpuGroup:
    """A cgroup made for one run: `path`, its version (1 or 2) and the share it allows."""

    path: Path
    version: int
    share: float
    period_us: int
    quota_us: int

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def describe(self) -> str:
        limit = (
            f"cpu.cfs_period_us {self.period_us}, cpu.cfs_quota_us {self.quota_us}"
            if self.version == 1
            else f"cpu.max '{self.quota_us} {self.period_us}'"
        )
        return f"cgroup v{self.version} {self.path} ({limit}: {self.share:g} of one core)"

    def add(self, pid: int) -> None:
        """Move process `pid` (and the children it starts afterwards) into the group."""
        self.procs.write_text(f"{pid}\n")

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in self.procs.read_text().split()]
        except OSError:
            return []

    def throttled_s(self) -> float | None:
        """Time the group's processes spent held back by the quota so far (cpu.stat)."""
        try:
            stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        except (OSError, ValueError):
            return None
        if "throttled_time" in stat:  # v1: nanoseconds
            return int(stat["throttled_time"]) / 1e9
        if "throttled_usec" in stat:  # v2
            return int(stat["throttled_usec"]) / 1e6
        return None

    def remove(self, timeout_s: float = 5.0) -> None:
        """Kill whatever is still in the group (only what this run started) and remove it."""
        deadline = time.monotonic() + timeout_s
        while True:
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as err:  # EBUSY until the killed processes are gone
                if time.monotonic() > deadline:
                    raise QuotaError(f"cannot remove {self.path}: {err.strerror}") from err
                time.sleep(0.05)


def quota_for(share: float) -> tuple[int, int]:
    """(period_us, quota_us) for `share` of one core: PERIOD_US, longer for tiny shares."""
    if not share > 0:
        raise QuotaError(f"the CPU share must be above 0, not {share:g}")
    period = max(PERIOD_US, math.ceil(MIN_QUOTA_US / share))
    if period > MAX_PERIOD_US:
        smallest = MIN_QUOTA_US / MAX_PERIOD_US
        raise QuotaError(f"a share of {share:g} is too small (at least {smallest:g})")
    return period, round(share * period)


def _v2_root(roots: tuple[Path, ...]) -> Path | None:
    for root in roots:
        controllers = root / "cgroup.controllers"
        if controllers.is_file() and "cpu" in controllers.read_text().split():
            return root
    return None


def find_controller(
    v1: Path | None = None, v2_roots: tuple[Path, ...] | None = None
) -> tuple[Path, int] | str:
    """(where to make groups, cgroup version), or why no quota can be set here.
    Default: V1_CPU, then V2_ROOTS."""
    v1 = V1_CPU if v1 is None else v1
    v2_roots = V2_ROOTS if v2_roots is None else v2_roots
    if (v1 / "cpu.cfs_quota_us").is_file():
        if os.access(v1, os.W_OK):
            return v1, 1
        v1_reason = f"cgroup v1 cpu controller at {v1} is not writable (needs root)"
    else:
        v1_reason = f"no cgroup v1 cpu controller at {v1}"
    root = _v2_root(v2_roots)
    if root is None:
        return f"{v1_reason}, and no cgroup v2 hierarchy with the cpu controller"
    if not os.access(root, os.W_OK):
        return f"{v1_reason}; cgroup v2 at {root} is not writable (needs root)"
    return root, 2


def open_group(
    share: float, v1: Path | None = None, v2_roots: tuple[Path, ...] | None = None
) -> CpuGroup:
    """A new, empty group allowing `share` of one core. Remove it with CpuGroup.remove."""
    period, quota = quota_for(share)
    found = find_controller(v1, v2_roots)
    if isinstance(found, str):
        raise QuotaError(found)
    parent, version = found
    path = parent / f"{GROUP_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
    try:
        if version == 2:
            control = parent / "cgroup.subtree_control"
            if "cpu" not in control.read_text().split():
                control.write_text("+cpu\n")
        path.mkdir()
        group = CpuGroup(path, version, share, period, quota)
        try:
            if version == 1:
                (path / "cpu.cfs_period_us").write_text(f"{period}\n")
                (path / "cpu.cfs_quota_us").write_text(f"{quota}\n")
            else:
                (path / "cpu.max").write_text(f"{quota} {period}\n")
        except OSError:
            group.remove()
            raise
    except OSError as err:
        raise QuotaError(f"cannot set up a cpu group under {parent}: {err}") from err
    return group


def own_group(controller: str = "cpu", pid: str = "self") -> str | None:
    """The cgroup path of a process for `controller` (v1), or its v2 path, from /proc."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    unified = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
        if controllers == "":
            unified = path
    return unified
