"""The systemd side: sd_notify messages on a real socket, the unit file checked by systemd."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from skill.service import notify
from skill.service.notify import Notifier, watchdog_interval

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "systemd" / "stretch-coach.service"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2.0)
    yield sock, path
    sock.close()


def test_messages_reach_the_notify_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    notifier.ready("listening on default")
    assert sock.recv(4096).decode().splitlines() == ["READY=1", "STATUS=listening on default"]
    notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    notifier.status("holding\n  cat-cow 3/5")
    assert sock.recv(4096) == b"STATUS=holding cat-cow 3/5"
    notifier.stopping()
    assert sock.recv(4096).decode().splitlines()[0] == "STOPPING=1"


def test_module_functions_use_the_process_environment(
    notify_socket: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, path = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setattr(notify, "_default", None)
    notify.ready("listening")
    assert sock.recv(4096).startswith(b"READY=1")
    notify.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    notify.stopping()
    assert sock.recv(4096).startswith(b"STOPPING=1")
    monkeypatch.setattr(notify, "_default", None)


def test_without_systemd_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    notifier.ready()
    notifier.watchdog()
    notifier.stopping()


def test_watchdog_interval() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, pid=2) is None
    mine = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(mine) == 4.0
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None


def unit_with_existing_exec(tmp_path: Path) -> Path:
    """The unit as shipped, but ExecStart pointing at a binary that exists here (verify checks)."""
    text = UNIT.read_text()
    exec_line = re.search(r"^ExecStart=(\S+)(.*)$", text, re.M)
    assert exec_line, "the unit has no ExecStart="
    stand_in = shutil.which("true") or "/bin/true"
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(exec_line.group(0), f"ExecStart={stand_in}{exec_line.group(2)}"))
    return copy


@needs_analyze
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = unit_with_existing_exec(tmp_path)
    result = subprocess.run(
        [str(ANALYZE), "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "stretch-coach" in line or "Unknown" in line or "[" in line
    ]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def exposure(unit: Path) -> float:
    result = subprocess.run(
        [str(ANALYZE), "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


@needs_analyze
def test_unit_exposure_is_at_most_2_5(tmp_path: Path) -> None:
    assert exposure(unit_with_existing_exec(tmp_path)) <= 2.5


@needs_analyze
def test_exposure_check_can_fail(tmp_path: Path) -> None:
    """Without the hardening lines the same check reports a high exposure."""
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    assert exposure(bare) > 5.0


def test_unit_keeps_the_settings_the_service_relies_on() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30",
        "Restart=on-failure",
        "User=stretch-coach",
        "StateDirectory=stretch-coach",
        "CacheDirectory=stretch-coach",
        "DeviceAllow=char-alsa rw",
    ):
        assert re.search(rf"^{re.escape(line)}\b", text, re.M), line


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_install_script_is_shellcheck_clean() -> None:
    script = REPO / "systemd" / "install.sh"
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_install_script_parses() -> None:
    script = REPO / "systemd" / "install.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


MDWE_PROBE = """
import ctypes, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from skill.tools.file_audio import make_device
import os
os.environ["ALSA_CONFIG_PATH"] = str(make_device(Path(sys.argv[2])).config)
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    print("unsupported"); raise SystemExit(0)
import sounddevice as sd
try:
    with sd.InputStream(samplerate=16000, channels=1, callback=lambda *a: None):
        pass
    print("works")
except MemoryError:
    print("needs-wx")
"""


def test_memory_deny_write_execute_stays_off_while_audio_callbacks_need_it(
    tmp_path: Path,
) -> None:
    """The kernel's W^X switch (what MemoryDenyWriteExecute= enforces) breaks the microphone.

    If this ever reports "works", sounddevice no longer needs W+X memory and the unit can
    turn MemoryDenyWriteExecute=yes on.
    """
    import sys

    result = subprocess.run(
        [sys.executable, "-c", MDWE_PROBE, str(REPO / "tests"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    verdict = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    if verdict == "unsupported":
        pytest.skip("this kernel has no PR_SET_MDWE (Linux >= 6.3) to check W^X with")
    assert verdict == "needs-wx", result.stdout + result.stderr
    assert not re.search(r"^MemoryDenyWriteExecute=yes", UNIT.read_text(), re.M)
