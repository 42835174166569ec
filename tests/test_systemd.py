"""The systemd side: sd_notify messages on a real socket, the unit file checked by systemd."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from skill.service import notify
from skill.service.notify import Notifier, watchdog_interval

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "systemd" / "stretch-coach.service"
INSTALL = REPO / "systemd" / "install.sh"
SERVICE_CLI = REPO / "systemd" / "stretch-coach-cli"
SYSTEM_DEPS = REPO / "scripts" / "system-deps.sh"
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
@pytest.mark.parametrize("script", [INSTALL, SERVICE_CLI], ids=lambda p: p.name)
def test_install_script_is_shellcheck_clean(script: Path) -> None:
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_install_script_parses() -> None:
    script = REPO / "systemd" / "install.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_install_script_pins_the_versions_constraints_txt_gives() -> None:
    """The service's venv gets what `make test` checked, not whatever PyPI has that day."""
    text = INSTALL.read_text()
    assert re.search(r"^CONSTRAINTS=\$REPO/constraints\.txt$", text, re.M)
    installs = [line for line in text.splitlines() if re.search(r"pip install .*\$REPO", line)]
    assert installs, "install.sh installs the app with pip"
    for line in installs:
        assert '-c "$CONSTRAINTS"' in line, line


def constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def test_constraints_pin_every_dependency_within_its_bounds() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = constraints()
    for extra in [project["dependencies"], *project["optional-dependencies"].values()]:
        for line in extra:
            req = Requirement(line)
            pin = pins.get(canonicalize_name(req.name))
            assert pin, f"constraints.txt pins no version of {req.name}"
            assert req.specifier.contains(pin, prereleases=True), f"{req.name}=={pin} vs {req}"


def test_piper_lower_bound_has_the_api_the_voice_uses() -> None:
    """skill/speech_out/voice.py calls synthesize(text, SynthesisConfig) for AudioChunks:
    piper-tts 1.3.0 brought that API (its CHANGELOG); 1.2 had synthesize(text, wav_file)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    piper = next(Requirement(d) for d in project["dependencies"] if d.startswith("piper-tts"))
    assert not piper.specifier.contains("1.2.0") and piper.specifier.contains("1.3.0")


def make_dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run from scratch (-B: every stamp out of date)."""
    result = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "-C", str(REPO), target],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_make_install_builds_no_venv_in_the_clone() -> None:
    """Under sudo a .venv would be root-owned in the user's clone; install.sh makes its own."""
    assert make_dry_run("install") == ["bash systemd/install.sh install"]


@needs_make
@pytest.mark.parametrize("target", ["setup", "run"])
def test_make_setup_and_run_install_only_what_the_coach_runs_on(target: str) -> None:
    commands = make_dry_run(target)
    assert "bash scripts/system-deps.sh --runtime" in commands
    assert any(re.search(r"pip install .*-c constraints\.txt -e \.$", c) for c in commands)
    assert not any("[dev]" in c for c in commands), commands
    assert commands[-1] == f".venv/bin/stretch-coach {target}"


@needs_make
@pytest.mark.parametrize("target", ["test", "demo"])
def test_make_test_and_demo_keep_the_dev_venv(target: str) -> None:
    commands = make_dry_run(target)
    assert "bash scripts/system-deps.sh" in commands
    assert any("-c constraints.txt -e '.[dev]'" in c for c in commands), commands


def system_deps(tmp_path: Path, *args: str, apt: bool = True) -> tuple[int, str, list[str]]:
    """scripts/system-deps.sh with stand-ins for dpkg-query (nothing is installed) and
    apt-get (records what it was asked to install): (exit code, stderr, packages)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "apt.log"
    stubs = {"dpkg-query": "exit 1", "sudo": 'exec "$@"'}
    if apt:
        stubs["apt-get"] = f'[ "$1" = install ] && echo "$@" >>{log}; exit 0'
    for name, body in stubs.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    for tool in ("grep", "id"):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(SYSTEM_DEPS), *args],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    asked = log.read_text().split() if log.exists() else []
    return result.returncode, result.stderr, [a for a in asked if not a.startswith("-")][1:]


def test_system_deps_runtime_mode_installs_only_what_the_coach_needs(tmp_path: Path) -> None:
    code, _, packages = system_deps(tmp_path, "--runtime")
    assert code == 0
    assert sorted(packages) == ["alsa-utils", "libportaudio2"]


def test_system_deps_default_and_test_modes_are_unchanged(tmp_path: Path) -> None:
    code, _, packages = system_deps(tmp_path / "default")
    assert code == 0
    everything = ["alsa-utils", "espeak-ng", "libportaudio2", "libsox-fmt-all", "sox", "systemd"]
    assert sorted(packages) == everything
    code, _, packages = system_deps(tmp_path / "test", "--test")
    assert code == 0
    assert sorted(packages) == sorted([*everything, "chromium", "chromium-driver", "shellcheck"])


def test_system_deps_without_apt_names_the_missing_packages(tmp_path: Path) -> None:
    code, err, _ = system_deps(tmp_path, "--runtime", apt=False)
    assert code == 1
    assert "libportaudio2" in err and "alsa-utils" in err


def test_system_deps_refuses_an_unknown_mode(tmp_path: Path) -> None:
    code, err, packages = system_deps(tmp_path, "--runtme")
    assert code == 2 and "usage" in err and packages == []


def test_install_script_installs_the_runtime_packages_before_the_app() -> None:
    """A bare system gets PortAudio, without which the service cannot open a sound device."""
    text = INSTALL.read_text()
    assert re.search(r'bash "\$REPO/scripts/system-deps\.sh" --runtime \|\|\s*die ', text)
    steps = re.search(r"^do_install\(\) \{\n(.*?)^\}", text, re.M | re.S)
    assert steps
    calls = [line.strip() for line in steps.group(1).splitlines()]
    assert calls.index("install_system_deps") < calls.index("install_app")


def test_install_script_quotes_only_settings_the_unit_has() -> None:
    """A `Directive=value` the script names (as the reason for something) is in the unit."""
    unit = UNIT.read_text()
    quoted = re.findall(r"\b([A-Z][a-z]+(?:[A-Z][a-z]+)+)=([\w-]*)", INSTALL.read_text())
    assert quoted
    for directive, value in quoted:
        assert re.search(rf"^{directive}={re.escape(value)}", unit, re.M), f"{directive}={value}"


def service_directories() -> dict[str, str]:
    """The directories systemd hands the service, as the environment variables it sets."""
    unit = UNIT.read_text()
    roots = {"State": "/var/lib", "Cache": "/var/cache", "Configuration": "/etc"}
    found = {}
    for kind, root in roots.items():
        name = re.search(rf"^{kind}Directory=(\S+)", unit, re.M)
        assert name, f"{kind}Directory="
        found[f"{kind.upper()}_DIRECTORY"] = f"{root}/{name.group(1)}"
    return found


def run_service_cli(tmp_path: Path, *args: str) -> list[str]:
    """systemd/stretch-coach-cli as root, with a `runuser` that prints what it was asked to
    run (one argument a line) instead of running it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "runuser"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf \'%s\\n\' "$a"; done\n')
    stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["sh", str(SERVICE_CLI), *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.splitlines()


@pytest.mark.skipif(os.geteuid() != 0, reason="the command runs runuser as root only")
def test_the_service_command_runs_the_app_as_the_service_with_its_directories(
    tmp_path: Path,
) -> None:
    """QA: `stretch-coach history` and `status` read ~/.local/state, not the service's
    /var/lib/stretch-coach: the installed command gives them the service's folders."""
    called = run_service_cli(tmp_path, "history", "--json")
    assert called[:3] == ["-u", "stretch-coach", "--"]
    assert called[3] == "env"
    settings = dict(a.split("=", 1) for a in called[4:] if "=" in a)
    directories = {k: v for k, v in settings.items() if k.endswith("_DIRECTORY")}
    assert directories == service_directories()
    assert called[-3:] == ["/opt/stretch-coach/venv/bin/stretch-coach", "history", "--json"]
    assert re.search(r'install -m 0755 "\$REPO/systemd/stretch-coach-cli"', INSTALL.read_text())


def test_install_script_runs_setup_with_the_service_directories() -> None:
    text = INSTALL.read_text().replace("\\\n", " ")
    setup = next(line for line in text.splitlines() if "runuser" in line and " setup" in line)
    app = re.search(r"^APP=(\S+)$", text, re.M)
    assert app
    values = dict(re.findall(r"^([A-Z_]+_DIR)=(\S+)$", text, re.M))
    env = {
        var: values[ref].replace("$APP", app.group(1))
        for var, ref in re.findall(r'\b([A-Z_]+_DIRECTORY)="\$([A-Z_]+)"', setup)
    }
    assert env == service_directories()


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
