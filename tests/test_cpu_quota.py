"""The cgroup behind `bench --cpu-quota`: what it writes, where it finds a controller, cleanup.

Fake hierarchies (plain folders) check the files written for cgroup v1 and v2; one test uses
the machine's real controller, when there is a writable one, to place a process and remove
the group with it. Nothing here measures how fast anything runs under the quota.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skill.tools import bench, cpu_quota


def test_quota_is_the_share_of_a_10_ms_period() -> None:
    assert cpu_quota.quota_for(0.2) == (10_000, 2_000)
    assert cpu_quota.quota_for(1.5) == (10_000, 15_000)
    assert cpu_quota.quota_for(0.05) == (20_000, 1_000)  # the kernel's smallest quota is 1 ms
    with pytest.raises(cpu_quota.QuotaError, match="above 0"):
        cpu_quota.quota_for(0)


def test_v1_group_gets_period_and_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.cfs_quota_us").write_text("-1\n")
    group = cpu_quota.open_group(0.2, v1=tmp_path, v2_roots=())
    try:
        assert group.version == 1 and group.path.parent == tmp_path
        assert (group.path / "cpu.cfs_period_us").read_text() == "10000\n"
        assert (group.path / "cpu.cfs_quota_us").read_text() == "2000\n"
        assert "0.2 of one core" in group.describe()
    finally:
        shutil.rmtree(group.path)


def test_v2_group_gets_cpu_max_and_enables_the_controller(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory\n")
    (tmp_path / "cgroup.subtree_control").write_text("memory\n")
    group = cpu_quota.open_group(0.2, v1=tmp_path / "absent", v2_roots=(tmp_path,))
    try:
        assert group.version == 2
        assert (group.path / "cpu.max").read_text() == "2000 10000\n"
        assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu\n"
    finally:
        shutil.rmtree(group.path)


def test_no_controller_is_reported_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("memory io\n")  # v2 without cpu
    reason = cpu_quota.find_controller(tmp_path / "cpu", (tmp_path,))
    assert isinstance(reason, str)
    assert f"no cgroup v1 cpu controller at {tmp_path / 'cpu'}" in reason
    assert "no cgroup v2 hierarchy with the cpu controller" in reason


def test_bench_skips_the_pi_group_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpu_quota, "V1_CPU", tmp_path / "cpu")
    monkeypatch.setattr(cpu_quota, "V2_ROOTS", (tmp_path,))
    result = bench.bench_pi(None, 0.2)  # type: ignore[arg-type]  # never gets to use it
    assert result.name == "pi" and result.skipped is not None
    assert "--cpu-quota 0.2" in result.skipped and "no cgroup v1 cpu controller" in result.skipped


def test_a_real_group_holds_a_child_and_is_removed_with_it() -> None:
    found = cpu_quota.find_controller()
    if isinstance(found, str):
        pytest.skip(f"no writable cpu controller here: {found}")
    group = cpu_quota.open_group(0.5)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        group.add(child.pid)
        assert group.pids() == [child.pid]
        placed = cpu_quota.own_group(pid=str(child.pid))
        assert placed is not None and placed.endswith(group.path.name)
        group.remove()  # kills what is left in it
        assert child.wait(timeout=10) != 0
        assert not group.path.exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if group.path.exists():
            group.remove()
