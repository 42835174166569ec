"""Button and LED through real gpiozero on its own mock pins (MockFactory + MockPWMPin)."""

from __future__ import annotations

import itertools
import logging
import queue
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero import LED, Device
from gpiozero.exc import PinPWMUnsupported
from gpiozero.pins.mock import MockFactory, MockPWMPin

from skill.config import Settings
from skill.core.events import Command, LedState, SetLed
from skill.hardware.gpio import (
    ButtonInput,
    NoButton,
    NoLed,
    Pattern,
    StatusLed,
    board_model,
    explain_pin_error,
    on_off,
    open_gpio,
    pattern_for,
    plan_gpio,
)

# Short windows keep the real-timer tests fast; the rules are the same as the defaults.
DOUBLE_S, LONG_S = 0.15, 0.4


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    previous = Device.pin_factory
    Device.pin_factory = mock = MockFactory(pin_class=MockPWMPin)
    yield mock
    mock.reset()
    Device.pin_factory = previous


class Recorder:
    def __init__(self, mode: str = "running") -> None:
        self.mode = mode
        self.commands: queue.Queue[Command] = queue.Queue()

    def names(self, settle: float) -> list[str]:
        time.sleep(settle)
        out = []
        while not self.commands.empty():
            out.append(self.commands.get_nowait().name)
        return out


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def button(factory: MockFactory, rec: Recorder) -> Iterator[ButtonInput]:
    b = ButtonInput(rec.commands.put, lambda: rec.mode, 17, double_s=DOUBLE_S, long_s=LONG_S)
    yield b
    b.close()


def tap(pin: MockPWMPin, hold: float = 0.05, bounce: int = 0) -> None:
    """Press and release a pull-up button (pressed = low), chattering `bounce` times each way."""
    for _ in range(bounce):
        pin.drive_low()
        pin.drive_high()
    pin.drive_low()
    time.sleep(hold)
    for _ in range(bounce):
        pin.drive_high()
        pin.drive_low()
    pin.drive_high()


def test_short_press_pauses_when_running(
    factory: MockFactory, button: ButtonInput, rec: Recorder
) -> None:
    tap(factory.pin(17))
    assert rec.names(DOUBLE_S + 0.15) == ["pause"]


@pytest.mark.parametrize(("mode", "expected"), [("paused", "resume"), ("idle", "start")])
def test_short_press_follows_the_player_mode(
    factory: MockFactory, button: ButtonInput, rec: Recorder, mode: str, expected: str
) -> None:
    rec.mode = mode
    tap(factory.pin(17))
    assert rec.names(DOUBLE_S + 0.15) == [expected]


def test_bouncy_short_press_is_one_command(
    factory: MockFactory, button: ButtonInput, rec: Recorder
) -> None:
    tap(factory.pin(17), bounce=4)
    assert rec.names(DOUBLE_S + 0.15) == ["pause"]


def test_double_press_is_next(factory: MockFactory, button: ButtonInput, rec: Recorder) -> None:
    pin = factory.pin(17)
    tap(pin, bounce=2)
    time.sleep(0.05)
    tap(pin, bounce=2)
    assert rec.names(DOUBLE_S + 0.15) == ["next"]


def test_long_press_stops_while_still_held(
    factory: MockFactory, button: ButtonInput, rec: Recorder
) -> None:
    pin = factory.pin(17)
    pin.drive_low()
    command = rec.commands.get(timeout=LONG_S + 1.0)  # arrives before the release
    assert (command.name, command.source) == ("stop", "button")
    pin.drive_high()
    assert rec.names(DOUBLE_S + 0.1) == []


def test_commands_carry_the_button_source(
    factory: MockFactory, button: ButtonInput, rec: Recorder
) -> None:
    tap(factory.pin(17))
    command = rec.commands.get(timeout=1.0)
    assert command.source == "button" and command.name == "pause"


def test_active_high_button_without_pull_up(factory: MockFactory, rec: Recorder) -> None:
    b = ButtonInput(rec.commands.put, lambda: "running", 27, pull_up=False, double_s=DOUBLE_S)
    try:
        pin = factory.pin(27)
        pin.drive_high()
        time.sleep(0.05)
        pin.drive_low()
        assert rec.names(DOUBLE_S + 0.15) == ["pause"]
    finally:
        b.close()


# ---------------------------------------------------------------- LED


def values_over(pin: MockPWMPin, seconds: float) -> list[tuple[float, float]]:
    """(time since start, value) of every change of the pin during `seconds`."""
    pin.clear_states()
    time.sleep(seconds)
    out, t = [], 0.0
    for state in pin.states:
        t += state.timestamp
        out.append((t, float(state.state)))
    return out


def wait_for(pin: MockPWMPin, value: float, timeout: float = 1.0) -> None:
    """gpiozero starts blink/pulse patterns on its own thread: wait for the first change."""
    end = time.monotonic() + timeout
    while pin.state != pytest.approx(value):
        assert time.monotonic() < end, f"pin never reached {value}"
        time.sleep(0.002)


@pytest.fixture
def led(factory: MockFactory) -> Iterator[StatusLed]:
    led = StatusLed(18)
    yield led
    led.close()


def test_error_blinks_fast(factory: MockFactory, led: StatusLed) -> None:
    led.show(SetLed(LedState.ERROR))
    changes = values_over(factory.pin(18), 0.65)
    ons = [t for t, v in changes if v == 1.0]
    assert {v for _, v in changes} <= {0.0, 1.0}
    assert len(ons) >= 3  # 5 Hz: three or four flashes in 0.65 s
    gaps = [b - a for a, b in itertools.pairwise(ons)]
    assert all(0.1 < g < 0.4 for g in gaps)


def test_paused_blinks_slowly(factory: MockFactory, led: StatusLed) -> None:
    led.set(LedState.PAUSED)
    wait_for(factory.pin(18), 1.0)
    changes = values_over(factory.pin(18), 0.6)
    assert [v for _, v in changes[1:]] == []  # lit for a full second: no change in 0.6 s
    assert factory.pin(18).state == 1.0


def test_ready_breathes(factory: MockFactory, led: StatusLed) -> None:
    led.set(LedState.READY)
    values = [v for _, v in values_over(factory.pin(18), 0.5)]
    assert len(values) >= 5 and any(0.0 < v < 1.0 for v in values)
    rising = values[1:]
    assert rising == sorted(rising) and rising[-1] < 0.5  # fading in, slowly


def test_speaking_is_steady_medium_and_off_is_off(factory: MockFactory, led: StatusLed) -> None:
    pin = factory.pin(18)
    led.set(LedState.SPEAKING)
    assert pin.state == pytest.approx(0.5)
    assert len(values_over(pin, 0.2)) == 1  # no change: steady
    led.set(LedState.OFF)
    assert pin.state == 0.0


def test_holding_lit_fraction_grows_with_progress(factory: MockFactory, led: StatusLed) -> None:
    pin = factory.pin(18)

    def lit_fraction(progress: float) -> float:
        led.set(LedState.HOLDING, progress)
        changes = values_over(pin, 1.0)
        lit, last_t, last_v = 0.0, 0.0, float(pin.states[0].state)
        for t, v in changes[1:]:
            lit += (t - last_t) * last_v
            last_t, last_v = t, v
        return lit + (1.0 - last_t) * last_v

    early, late = lit_fraction(0.1), lit_fraction(0.9)
    assert early < 0.35 and late > 0.65


def test_same_state_again_does_not_restart_the_pattern(
    factory: MockFactory, led: StatusLed
) -> None:
    pin = factory.pin(18)
    led.set(LedState.PAUSED)
    wait_for(pin, 1.0)
    pin.clear_states()
    time.sleep(0.05)
    led.set(LedState.PAUSED)
    time.sleep(0.05)
    assert len(pin.states) == 1  # still in its first lit second, untouched


def test_heard_flashes_once_then_returns_to_the_previous_pattern(
    factory: MockFactory, led: StatusLed
) -> None:
    pin = factory.pin(18)
    led.set(LedState.SPEAKING)
    pin.clear_states()
    led.set(LedState.HEARD)
    time.sleep(0.45)
    values = [float(s.state) for s in pin.states]
    assert values == [pytest.approx(0.5), 1.0, 0.0, pytest.approx(0.5)]  # flash, then back


def test_a_state_sent_during_the_flash_waits_for_it(factory: MockFactory, led: StatusLed) -> None:
    pin = factory.pin(18)
    pin.clear_states()
    led.set(LedState.HEARD)
    led.set(LedState.ERROR)  # arrives at once: the whole flash still shows first
    time.sleep(0.62)
    t, ons = 0.0, []
    for state in pin.states:
        t += state.timestamp
        if state.state == 1.0:
            ons.append(t)
    assert len([x for x in ons if x < 0.27]) == 1  # the flash alone (error would be at 0.2)
    assert len(ons) >= 3  # then the fast error blink


def test_active_low_led_inverts(factory: MockFactory) -> None:
    led = StatusLed(22, active_high=False)
    try:
        pin = factory.pin(22)
        assert pin.state == 1.0  # off = pin high
        led.set(LedState.SPEAKING)
        assert pin.state == pytest.approx(0.5)
        led.set(LedState.OFF)
        assert pin.state == 1.0
    finally:
        led.close()


def test_close_turns_the_led_off(factory: MockFactory) -> None:
    led = StatusLed(23)
    led.set(LedState.ERROR)
    led.close()
    assert factory.pin(23).state == 0.0


def test_every_state_has_a_distinct_pattern() -> None:
    patterns = [pattern_for(s, 0.5) for s in LedState]
    assert len(set(patterns)) == len(patterns)
    assert pattern_for(LedState.OFF) == Pattern("off")


# ---------------------------------------------------------------- choosing and opening


def test_plan_without_gpio() -> None:
    assert not plan_gpio(True, "Raspberry Pi 4 Model B Rev 1.4", {}).use
    laptop = plan_gpio(False, None, {})
    assert not laptop.use and "not a Raspberry Pi" in laptop.reason


@pytest.mark.parametrize(
    "model",
    [
        "Raspberry Pi 5 Model B Rev 1.0",
        "Raspberry Pi Compute Module 5 Rev 1.0",
        "Raspberry Pi 500 Rev 1.0",
    ],
)
def test_pi5_uses_lgpio(model: str) -> None:
    assert plan_gpio(False, model, {}).factory == "lgpio"


def test_pi4_and_env_var_leave_the_choice_to_gpiozero() -> None:
    assert plan_gpio(False, "Raspberry Pi 4 Model B Rev 1.4", {}).factory is None
    env = plan_gpio(False, "Raspberry Pi 5 Model B Rev 1.0", {"GPIOZERO_PIN_FACTORY": "mock"})
    assert env.use and env.factory is None


def test_board_model_reads_the_device_tree(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert board_model([tmp_path / "absent", model]) == "Raspberry Pi 5 Model B Rev 1.0"
    assert board_model([tmp_path / "absent"]) is None


def test_open_gpio_off_a_pi_logs_once_and_gives_stand_ins(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("test.gpio")
    with caplog.at_level(logging.INFO, logger="test.gpio"):
        button, led = open_gpio(Settings(), log, print, lambda: "idle", model_files=[], env={})
    assert isinstance(button, NoButton) and isinstance(led, NoLed)
    assert [r.getMessage() for r in caplog.records if "no GPIO" in r.getMessage()] == [
        "no GPIO: not a Raspberry Pi (no device-tree model); running without the button and LED"
    ]
    led.set(LedState.ERROR)
    button.close()


def test_open_gpio_with_mock_pins(factory: MockFactory, rec: Recorder) -> None:
    env = {"GPIOZERO_PIN_FACTORY": "mock"}
    settings = Settings(button_pin=5, led_pin=6)
    button, led = open_gpio(
        settings, logging.getLogger("t"), rec.commands.put, lambda: "idle", env=env
    )
    try:
        assert isinstance(button, ButtonInput) and isinstance(led, StatusLed)
        led.set(LedState.SPEAKING)
        assert factory.pin(6).state == pytest.approx(0.5)
        tap(factory.pin(5))
        assert rec.commands.get(timeout=2.0).name == "start"
    finally:
        button.close()
        led.close()


MOCK_ENV = {"GPIOZERO_PIN_FACTORY": "mock"}


def opened(
    settings: Settings,
    rec: Recorder,
    caplog: pytest.LogCaptureFixture,
    origins: dict[str, str] | None = None,
) -> tuple[Any, Any, list[str]]:
    """open_gpio on the mock factory: the button, the LED and what was logged."""
    log = logging.getLogger("test.gpio")
    with caplog.at_level(logging.INFO, logger="test.gpio"):
        button, led = open_gpio(
            settings, log, rec.commands.put, lambda: "idle", env=MOCK_ENV, origins=origins
        )
    return button, led, [r.getMessage() for r in caplog.records if r.name == "test.gpio"]


def test_a_busy_led_pin_keeps_the_button(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """GPIO18 held by a DAC HAT's I2S clock: the button still works, and the log says why
    there is no LED (bug: both were replaced by stand-ins)."""
    hat = LED(18)  # what the HAT's overlay holds
    button, led, lines = opened(Settings(), rec, caplog)
    try:
        assert isinstance(button, ButtonInput) and isinstance(led, NoLed)
        tap(factory.pin(17))
        assert rec.commands.get(timeout=2.0).name == "start"
        missing = [line for line in lines if "Running without the LED" in line]
        assert len(missing) == 1 and "LED pin GPIO18 is busy" in missing[0], lines
        assert not any("without the button" in line for line in lines), lines
        assert "button on GPIO17, no LED" in lines[-1], lines
    finally:
        button.close()
        hat.close()


def test_a_busy_button_pin_keeps_the_led(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(button_pin=18, led_pin=18)  # the LED opens first and holds the pin
    button, led, lines = opened(settings, rec, caplog)
    try:
        assert isinstance(button, NoButton) and isinstance(led, StatusLed)
        led.set(LedState.SPEAKING)
        assert factory.pin(18).state == pytest.approx(0.5)
        missing = [line for line in lines if "Running without the button" in line]
        assert len(missing) == 1, lines
        assert re.search(r"button pin GPIO18 is busy.*button_pin:", missing[0]), missing
        assert "no button, LED on GPIO18" in lines[-1], lines
    finally:
        led.close()
    StatusLed(18).close()  # released again: the pin is free for the next try


def test_invalid_pin_is_explained(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    button, led, lines = opened(Settings(button_pin=17, led_pin=99), rec, caplog)
    button.close()
    assert isinstance(button, ButtonInput) and isinstance(led, NoLed)
    assert any(re.search(r"LED pin 99 is not a usable GPIO.*led_pin:", line) for line in lines)


def test_a_factory_without_pwm_keeps_both_with_an_on_off_led(
    rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """gpiozero's mock (no PWM class) and native factories cannot dim: no pin would do, so
    the LED is kept as on/off and the advice is what to install, not another pin."""
    previous = Device.pin_factory
    Device.pin_factory = plain = MockFactory()  # MockPin: no PWM
    try:
        button, led, lines = opened(Settings(), rec, caplog)
        try:
            assert isinstance(button, ButtonInput) and isinstance(led, StatusLed)
            assert not led.dimmable
            led.set(LedState.SPEAKING)
            assert plain.pin(18).state  # on: an on/off LED has no half brightness
            led.set(LedState.OFF)
            assert not plain.pin(18).state
        finally:
            button.close()
            led.close()
        text = "\n".join(lines)
        assert "no PWM" in text and "python3-lgpio" in text, text
        assert "another pin" not in text and "free pin" not in text, text
        assert "LED on GPIO18 (on/off)" in lines[-1], lines
    finally:
        plain.reset()
        Device.pin_factory = previous


def test_an_led_without_pwm_still_shows_every_state_apart() -> None:
    shown = [on_off(pattern_for(s, 0.5)) for s in LedState]
    assert len(set(shown)) == len(shown)
    assert all(p.kind != "pulse" and p.level in (0.0, 1.0) for p in shown)


def test_an_led_without_pwm_blinks_for_ready() -> None:
    previous = Device.pin_factory
    Device.pin_factory = plain = MockFactory()
    led = StatusLed(18)
    try:
        led.set(LedState.READY)
        wait_for(plain.pin(18), 1.0)  # breathing becomes a slow blink
    finally:
        led.close()
        plain.reset()
        Device.pin_factory = previous


def test_the_fix_names_the_file_the_pin_came_from(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    mine = "/home/pi/.config/stretch-coach/config.yaml"
    hat = LED(18)
    try:
        button, _, lines = opened(Settings(), rec, caplog, origins={"led_pin": mine})
        button.close()
    finally:
        hat.close()
    missing = next(line for line in lines if "without the LED" in line)
    assert f"`led_pin:` in {mine}" in missing and "/etc/" not in missing, missing


def test_a_default_pin_points_at_the_config_not_a_file_it_did_not_come_from(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    hat = LED(18)
    try:
        button, _, lines = opened(Settings(), rec, caplog, origins={"button_pin": "/x.yaml"})
        button.close()
    finally:
        hat.close()
    missing = next(line for line in lines if "without the LED" in line)
    assert "`led_pin:` in the config" in missing and "/etc/" not in missing, missing


def test_pi5_without_lgpio_says_how_to_get_it(
    tmp_path: Path, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        import lgpio  # noqa: F401

        pytest.skip("lgpio is installed here, so the Pi 5 factory would load")
    except ImportError:
        pass
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    log = logging.getLogger("test.gpio")
    with caplog.at_level(logging.INFO, logger="test.gpio"):
        button, led = open_gpio(
            Settings(), log, rec.commands.put, lambda: "idle", model_files=[model], env={}
        )
    assert isinstance(button, NoButton) and isinstance(led, NoLed)
    assert re.search(r"python3-lgpio.*--system-site-packages", caplog.text)
    assert ".;" not in caplog.text and "Running without the button and LED." in caplog.text


def test_no_message_runs_two_sentences_together(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Each explanation is a sentence; what the service does about it is the next one
    (bug: "…or use --no-gpio.; running without the button and LED")."""
    hat = LED(18)
    try:
        button, _, lines = opened(Settings(), rec, caplog)
        button.close()
    finally:
        hat.close()
    assert lines and not any(".;" in line or ".." in line for line in lines), lines


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (RuntimeError("GPIO busy"), "GPIO17 is busy"),
        (PermissionError("[Errno 13] /dev/gpiochip0"), "gpio group"),
        (RuntimeError("can not open gpiochip"), "gpio group"),
        (PinPWMUnsupported(), "has no PWM"),
    ],
)
def test_driver_errors_are_explained(err: Exception, expected: str) -> None:
    text = explain_pin_error("button", "button_pin", 17, err)
    assert expected in text and text.endswith(".") and ".;" not in text


def test_a_bad_pin_factory_in_the_environment_is_named_as_the_problem(
    monkeypatch: pytest.MonkeyPatch, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: with GPIOZERO_PIN_FACTORY=bogus the advice was "or set GPIOZERO_PIN_FACTORY"."""
    import os

    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "bogus")
    monkeypatch.setattr(Device, "pin_factory", None)  # gpiozero reads the variable again
    log = logging.getLogger("test.gpio")
    with caplog.at_level(logging.INFO, logger="test.gpio"):
        button, led = open_gpio(Settings(), log, rec.commands.put, lambda: "idle", env=os.environ)
    assert isinstance(button, NoButton) and isinstance(led, NoLed)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, errors
    for line in errors:
        assert "GPIOZERO_PIN_FACTORY=bogus" in line and "unset it" in line, line
        assert "lgpio, rpigpio, pigpio or mock" in line and "or set GPIOZERO" not in line, line


def test_a_busy_pin_is_not_told_to_turn_off_the_working_device_too(
    factory: MockFactory, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """QA: a busy LED pin advised --no-gpio, which also turns off the working button."""
    hat = LED(18)
    try:
        button, _, lines = opened(Settings(), rec, caplog, {"led_pin": "/etc/c.yaml"})
        button.close()
    finally:
        hat.close()
    busy = [line for line in lines if "is busy" in line]
    assert len(busy) == 1 and "--no-gpio" not in busy[0], busy
    assert "stop that, or set `led_pin:` in /etc/c.yaml to a free pin." in busy[0], busy
