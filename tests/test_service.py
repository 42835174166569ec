"""The home service under faults, as real processes on the ALSA `file`-plugin test device.

Each case runs the real Service (Piper voice, PocketSphinx, PortAudio) in a subprocess,
because sounddevice reads ALSA_CONFIG_PATH once per process. A small driver swaps the LED
for one that logs its state (so the LED can be checked from outside) and reads commands
from stdin as if from the button; speech recognition itself is exercised end to end in
tests/test_service_e2e.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from skill.hardware.microphone import explain
from skill.hardware.playback import describe_open_error
from skill.service.service import (
    FLOOD_GRACE_S,
    FLOOD_RATIO,
    FLOOD_WINDOW_S,
    RateGuard,
    ready_message,
)
from skill.tools.file_audio import FifoMicrophone, FileAudioDevice, make_device
from tests.test_player_support import saved_session

REPO = Path(__file__).resolve().parent.parent
# Rendered phrases are shared by every run of these tests (Piper is the slow part).
PHRASE_CACHE = REPO / ".cache" / "test-service-xdg"

DRIVER = """
import logging, os, sys, threading
from skill.config import load_settings
from skill.core.events import Command
from skill.service.service import Service, configure_logging

fake_gpio = len(sys.argv) > 3 and sys.argv[3] == "fake-gpio"
overrides = {"no_gpio": not fake_gpio, "input_device": sys.argv[1] or None,
             "output_device": sys.argv[2] or None}
log = configure_logging("info")

class LoggingLed:
    '''The LED, seen from outside: each change of state is one log line.'''
    last = None
    def show(self, action): self.set(action.state, action.progress)
    def set(self, state, progress=None):
        if state != self.last:
            self.last = state
            log.info("LED %s", state.value)
    def close(self): log.info("LED closed")

class FakeButton:  # a button that is there (its presses come from stdin, as in every run)
    def close(self): pass

if fake_gpio:  # as if on a Pi with the button and LED wired
    import skill.hardware.gpio
    skill.hardware.gpio.open_gpio = lambda *args, **kwargs: (FakeButton(), LoggingLed())

service = Service(load_settings(files=[], overrides=overrides), log)
service.led = service.router.led = LoggingLed()

def commands():
    for line in sys.stdin:
        name, _, routine = line.strip().partition(" ")
        args = {"routine": routine} if routine else {}
        service.events.put(Command(name, args, source="cli"))

threading.Thread(target=commands, daemon=True).start()
code = service.run()
logging.shutdown()
sys.stdout.flush()
os._exit(code)  # as `stretch-coach run` does: native threads are not torn down
"""


class ServiceProcess:
    """A running service with its log lines collected (with arrival times) as they come."""

    def __init__(self, argv: list[str], env: dict[str, str], stdin: bool = False) -> None:
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    @property
    def log(self) -> str:
        with self._seen:
            return "\n".join(text for _, text in self.lines)

    def wait_for(self, pattern: str, timeout: float = 20.0, after: int = 0) -> tuple[int, float]:
        """Index and arrival time of the first line from `after` on that matches `pattern`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for i in range(after, len(self.lines)):
                    if regex.search(self.lines[i][1]):
                        return i, self.lines[i][0]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._more()):
                    raise AssertionError(f"no log line matching {pattern!r}:\n{self.log}")
                self._seen.wait(min(left, 0.2))

    def _more(self) -> bool:
        return self.proc.stdout is not None and not self.proc.stdout.closed

    def command(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send `sig`; the exit code and how long the process took to exit."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def service_env(folder: Path, device: FileAudioDevice | None) -> dict[str, str]:
    """Environment with every XDG folder in `folder`, except the shared phrase cache."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DIRECTORY")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "XDG_STATE_HOME": str(folder / "state"),
            "XDG_CONFIG_HOME": str(folder / "config"),
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CACHE_HOME": str(PHRASE_CACHE),
        }
    )
    env.pop("GPIOZERO_PIN_FACTORY", None)
    if device is not None:
        env.update(device.env())
    return env


def state_file(folder: Path) -> Path:
    return folder / "state" / "stretch-coach" / "state.json"


class Rig:
    """A file audio device whose microphone is a real-time FIFO, plus the folder it lives in."""

    def __init__(self, folder: Path, microphone: bool = True) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.fifo = folder / "mic.fifo"
        # The FIFO must exist before make_device, or make_device creates a plain file there.
        self.feeder: FifoMicrophone | None = None
        if microphone:
            self.feeder = FifoMicrophone(self.fifo, 48000)
        self.device = make_device(folder, mic=self.fifo)
        if not microphone:
            self.fifo.unlink()  # no input file: ALSA cannot open the capture side at all
        self.processes: list[ServiceProcess] = []

    def start(
        self, input_device: str = "", output_device: str = "", gpio: bool = False
    ) -> ServiceProcess:
        argv = [sys.executable, "-c", DRIVER, input_device, output_device]
        argv += ["fake-gpio"] if gpio else []
        proc = ServiceProcess(argv, service_env(self.folder, self.device), stdin=True)
        self.processes.append(proc)
        return proc

    def wait_quiet(self, quiet_s: float, timeout: float, log: Callable[[], str]) -> None:
        """Until the captured speaker output has not grown for `quiet_s` (playback is paced
        in real time, so the coach has finished speaking)."""
        speaker = self.device.speaker
        deadline = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_size = speaker.stat().st_size if speaker.exists() else 0
            if now_size != size:
                size, since = now_size, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.05)
        raise AssertionError(f"the coach never fell quiet:\n{log()}")

    def unplug(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
            self.feeder = None

    def plug_in(self) -> None:
        self.feeder = FifoMicrophone(self.fifo, 48000)

    def close(self) -> None:
        for proc in self.processes:
            proc.kill()
        self.unplug()
        _release_fifo_writer(self.fifo)


def _release_fifo_writer(fifo: Path) -> None:
    """A stopped feeder may still block in open(); a reader lets its thread end."""
    if not fifo.exists():
        return
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path / "rig")
    yield made
    made.close()


READY = r"INFO ready:"


# ---------------------------------------------------------------- the pure guard


def test_rate_guard_passes_real_time_audio_and_stops_a_flood() -> None:
    got: list[int] = []
    now = [0.0]
    guard = RateGuard(lambda c: got.append(len(c)), clock=lambda: now[0])
    chunk = np.zeros(320, dtype=np.int16)  # 20 ms at 16 kHz
    for _ in range(500):  # 10 s delivered at real-time pace, plus a start-up burst
        guard(chunk)
        now[0] += 0.02
    assert not guard.flooding and sum(got) == 500 * 320
    burst = int(16000 * FLOOD_RATIO * (FLOOD_GRACE_S + FLOOD_WINDOW_S)) // 320 + 2
    for _ in range(burst):  # then the device replays far faster than real time
        guard(chunk)
    assert guard.flooding
    passed = sum(got)
    guard(chunk)
    now[0] += 100.0  # once flooded, it stays lost: the supervisor reopens the device
    guard(chunk)
    assert sum(got) == passed


# ---------------------------------------------------------------- device faults


def start_after_props(svc: ServiceProcess) -> None:
    """Upper back needs a pillow and a small towel: say ready once the coach waits for them."""
    svc.wait_for(r"waiting for the props", timeout=30)
    svc.command("ready")


def test_microphone_lost_mid_routine_and_back(rig: Rig) -> None:
    """Unplugged mid-routine: error once, LED error, spoken notice; back within 5 s, same place."""
    svc = rig.start()
    svc.wait_for(READY)
    svc.command("start upper_back")
    first, _ = svc.wait_for(r"coach says: ")
    start_after_props(svc)
    svc.wait_for(r"LED (speaking|holding)")
    before = svc.wait_for(r"coach says: ", after=first + 1)[0]
    rig.unplug()
    lost, _ = svc.wait_for(r"ERROR microphone: .*faster than real time.*; retrying", timeout=10)
    svc.wait_for(r"LED error", after=lost)
    svc.wait_for(r"coach says: I cannot hear you right now", after=lost)
    time.sleep(1.0)
    plugged = time.monotonic()
    rig.plug_in()
    back, at = svc.wait_for(r"microphone is back; listening again", timeout=10, after=lost)
    assert at - plugged < 5.0
    svc.wait_for(r"coach says: I can hear you again", after=back)
    svc.wait_for(r"LED (speaking|holding|paused)", after=back)
    code, took = svc.stop()
    log = svc.log
    assert code == 0 and took < 2.0, log
    assert log.count("ERROR microphone:") == 1, log  # one line per event, no retry spam
    assert "state running -> idle" not in log, log  # the routine was never dropped
    assert before > first
    saved = json.loads(state_file(rig.folder).read_text())
    assert saved["routine"] == "upper_back"


def test_microphone_absent_at_start_then_plugged_in(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "rig", microphone=False)
    try:
        svc = rig.start(input_device="mic")
        svc.wait_for(READY)
        svc.wait_for(r"LED error")
        os.mkfifo(rig.fifo)
        plugged = time.monotonic()
        rig.plug_in()
        _, at = svc.wait_for(r"microphone is back; listening again", timeout=8)
        assert at - plugged < 5.0
        # Finding the microphone re-initialised PortAudio: the speaker must still work.
        speaker = rig.device.speaker

        def played() -> int:
            return speaker.stat().st_size if speaker.exists() else 0

        before = played()
        svc.command("start upper_back")
        svc.wait_for(r"coach says: ")
        # > 0.5 s of speech played; waited for, not timed: on a loaded machine the sentence
        # may first be synthesized (a fresh clone's phrase cache), which took over 2 s once
        deadline = time.monotonic() + 30.0
        while played() <= before + 48000:
            assert time.monotonic() < deadline, "the speaker played under 0.5 s in 30 s"
            time.sleep(0.1)
        assert "speaker failed" not in svc.log
    finally:
        rig.close()


def test_microphone_absent_at_start_is_reported_once_with_the_fix(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "rig", microphone=False)
    try:
        svc = rig.start(input_device="mic")
        err, _ = svc.wait_for(r"ERROR microphone: ")
        svc.wait_for(READY)
        svc.wait_for(r"LED error")
        time.sleep(2.0)  # several retries with backoff happen here
        svc.command("start upper_back")  # the button still coaches without a microphone
        svc.wait_for(r"coach says: ")
        code, took = svc.stop(signal.SIGINT)
        log = svc.log
        assert code == 0 and took < 2.0, log
        line = svc.lines[err][1]
        assert "arecord -l" in line and "input_device" in line, line
        assert log.count("ERROR microphone:") == 1, log
        assert "Traceback" not in log
    finally:
        rig.close()


def _no_mic_no_speaker_messages(tmp_path: Path, gpio: bool) -> tuple[str, str, str, str]:
    """The speaker error, the ready line, the spoken microphone notice and the whole log."""
    rig = Rig(tmp_path / "rig", microphone=False)
    try:
        svc = rig.start(input_device="mic", output_device="no-such-speaker", gpio=gpio)
        speaker, _ = svc.wait_for(r"ERROR speaker: ")
        ready, _ = svc.wait_for(READY)
        notice, _ = svc.wait_for(r"coach says: I cannot hear you right now")
        code, _ = svc.stop()
        assert code == 0, svc.log
        return svc.lines[speaker][1], svc.lines[ready][1], svc.lines[notice][1], svc.log
    finally:
        rig.close()


def test_without_microphone_or_gpio_no_message_promises_them(tmp_path: Path) -> None:
    speaker, ready, notice, log = _no_mic_no_speaker_messages(tmp_path, gpio=False)
    assert "LED" not in speaker, log
    assert "say '" not in ready and "button" not in ready, log
    assert "microphone" in ready, log
    assert "button" not in notice, log


def test_without_microphone_but_with_gpio_the_button_and_led_are_offered(tmp_path: Path) -> None:
    speaker, ready, notice, log = _no_mic_no_speaker_messages(tmp_path, gpio=True)
    assert "coaching by LED only" in speaker, log
    assert "press the button" in ready and "say '" not in ready, log
    assert "The button still works." in notice, log


def test_ready_line_offers_what_there_is() -> None:
    both = ready_message(listening=True, button=True)
    assert "say 'start upper back routine'" in both and "press the button" in both
    voice = ready_message(listening=True, button=False)
    assert "say 'start" in voice and "button" not in voice
    press = ready_message(listening=False, button=True)
    assert "press the button" in press and "say '" not in press
    neither = ready_message(listening=False, button=False)
    assert "say '" not in neither and "button" not in neither and "microphone" in neither
    assert "phone page" in neither  # it starts routines without a microphone or a button
    assert all(m.startswith("ready") for m in (both, voice, press, neither))


def test_ready_line_offers_the_phone_page_only_when_it_is_on() -> None:
    """QA: with `web: false`, no microphone and --no-gpio the line said "start a routine
    from the phone page", a page that was off."""
    off = ready_message(listening=False, button=False, web=False)
    assert off.startswith("ready: no microphone yet") and "from the phone page" not in off
    assert "phone page is off" in off and "plug a microphone in" in off
    press = ready_message(listening=False, button=True, web=False)
    assert "press the button" in press and "phone page" not in press


def test_no_speaker_keeps_coaching_by_led(rig: Rig) -> None:
    svc = rig.start(output_device="no-such-speaker", gpio=True)
    err, _ = svc.wait_for(r"ERROR speaker: .*coaching by LED only")
    assert "stretch-coach devices" in svc.lines[err][1]
    svc.wait_for(READY)
    svc.command("start upper_back")
    said, _ = svc.wait_for(r"coach says: ")
    svc.wait_for(r"LED speaking", after=said)
    start_after_props(svc)
    # With no speaker, speech 'ends' after its modelled time and the routine moves on.
    svc.wait_for(r"coach says: ", after=said + 1, timeout=30)
    code, _ = svc.stop()
    assert code == 0
    speaker = rig.device.speaker
    assert not speaker.exists() or speaker.stat().st_size == 0  # nothing was played


@pytest.mark.parametrize(
    ("message", "fix"),
    [
        ("Error opening InputStream: Device unavailable [PaErrorCode -9985]", "fuser -v"),
        ("[Errno 16] Device or resource busy", "another program holds the microphone"),
    ],
)
def test_busy_microphone_is_reported_with_the_fix(message: str, fix: str) -> None:
    text = explain(Exception(message), "mic")
    assert "busy" in text and fix in text and "input_device" in text


def test_busy_speaker_is_reported_with_the_fix() -> None:
    text = describe_open_error("speaker", Exception("Device or resource busy"))
    assert "busy" in text and "output_device" in text


# ---------------------------------------------------------------- stopping and crashing


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_saves_progress_turns_led_off_and_exits_0(rig: Rig, sig: int) -> None:
    svc = rig.start()
    svc.wait_for(READY)
    svc.command("start upper_back")
    svc.wait_for(r"coach says: ")
    time.sleep(0.5)
    running = state_file(rig.folder).with_name("service.json")  # for `status`
    assert json.loads(running.read_text())["pid"] == svc.proc.pid
    code, took = svc.stop(sig)
    assert not running.exists()
    log = svc.log
    assert code == 0 and took < 2.0, log
    assert f"{signal.Signals(sig).name} received" in log
    tail = log[log.index("received") :]
    assert "LED off" in tail and "LED closed" in tail, tail
    assert tail.index("LED off") < tail.index("LED closed")
    saved = json.loads(state_file(rig.folder).read_text())
    assert saved["routine"] == "upper_back" and saved["beat"] >= 0
    assert "Traceback" not in log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_idle_service_keeps_the_session_to_resume(rig: Rig, sig: int) -> None:
    """A routine cut by a power cut, a restart with nothing said, a stop: still resumable."""
    saved = saved_session("upper_back", age_s=60)
    state_file(rig.folder).parent.mkdir(parents=True, exist_ok=True)
    state_file(rig.folder).write_text(json.dumps(saved))
    svc = rig.start()
    svc.wait_for(READY)
    svc.wait_for(r"resumable: You stopped in the middle of upper back\.")
    code, _ = svc.stop(sig)
    log = svc.log
    assert code == 0 and "stopped; progress saved" in log, log
    assert state_file(rig.folder).exists(), log
    assert json.loads(state_file(rig.folder).read_text()) == saved


def test_crash_then_continue_resumes_the_same_exercise(rig: Rig) -> None:
    svc = rig.start()
    svc.wait_for(READY)
    svc.command("start upper_back")
    intro, _ = svc.wait_for(r"coach says: ")
    start_after_props(svc)
    exercise, _ = svc.wait_for(r"coach says: ", after=intro + 1, timeout=30)
    name = svc.lines[exercise][1].split("coach says: ")[1].split(".")[0]
    svc.command("pause")  # saves progress at once (as does every step and hold)
    svc.wait_for(r"state running -> paused")
    saved = json.loads(state_file(rig.folder).read_text())
    svc.proc.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
    svc.proc.wait(5)
    again = rig.start()
    again.wait_for(READY)
    again.command("resume")
    again.wait_for(r"resuming routine upper_back")
    welcome, _ = again.wait_for(r"coach says: Welcome back")
    again.wait_for(rf"coach says: {re.escape(name)}\.", after=welcome + 1, timeout=30)
    code, _ = again.stop()
    assert code == 0
    resumed = json.loads(state_file(rig.folder).read_text())
    assert (resumed["routine"], resumed["step"]) == (saved["routine"], saved["step"])


# ---------------------------------------------------------------- configuration


def run_exits_1(tmp_path: Path, *args: str) -> str:
    """`stretch-coach run ARGS` as a subprocess that must refuse to start: what it printed."""
    out = subprocess.run(
        [sys.executable, "-m", "skill", "run", *args],
        cwd=REPO,
        env=service_env(tmp_path, None),
        capture_output=True,
        text=True,
        timeout=30,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    return text


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("log_level: loud\n", ["log_level", "debug, info, warning, error"]),
        ("volumme: 0.5\n", ["volumme", "Did you mean 'volume'"]),
        ("volume: 3\n", ["volume", "0.2 to 1.0"]),
        ("wake_word: ''\n", ["wake_word", "is empty"]),
    ],
)
def test_bad_config_exits_1_naming_file_key_and_allowed(
    tmp_path: Path, yaml_text: str, expected: list[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml_text)
    text = run_exits_1(tmp_path, "--config", str(bad), "--no-gpio")
    assert str(bad) in text and "Traceback" not in text
    for part in expected:
        assert part in text, text


def test_ready_line_with_a_wake_word_says_it_first() -> None:
    line = ready_message(listening=True, button=False, wake_word="coach")
    assert "say 'coach, start upper back routine'" in line
