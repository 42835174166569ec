"""The button and the status LED on GPIO, through gpiozero.

Thin shell around the pure gesture detector: gpiozero delivers edges on its own thread,
a one-shot timer (only while something is pending, never a busy loop) resolves double
and long presses, and each gesture becomes the same `Command` the voice path produces.
On a machine without GPIO (or with --no-gpio) `open_gpio` hands back do-nothing devices,
so the service code never branches on hardware; a pin that fails costs only its own device.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from skill.core.events import Command, LedState, SetLed
from skill.core.gestures import Gesture, GestureDetector, gesture_to_command
from skill.errors import GpioError

if TYPE_CHECKING:
    from skill.config import Settings

MODEL_FILES = (Path("/proc/device-tree/model"), Path("/sys/firmware/devicetree/base/model"))
_PI5 = re.compile(r"Raspberry Pi (5|500|Compute Module 5)\b")
T = TypeVar("T")


class ButtonLike(Protocol):
    """The button as the service holds it: presses arrive as commands through a callback."""

    def close(self) -> None: ...


class LedLike(Protocol):
    """The LED as the service drives it: the router shows actions, the service sets states."""

    def show(self, action: SetLed) -> None: ...
    def set(self, state: LedState, progress: float | None = None) -> None: ...
    def close(self) -> None: ...


# ---------------------------------------------------------------- the button


class ButtonInput:
    """A gpiozero Button whose presses become player commands via `on_command`.

    `mode_fn` returns the player's mode ("idle" | "running" | "paused") at the moment a
    gesture completes, so a short press means pause, resume or start accordingly.
    gpiozero's own bounce_time is left off: its lock-out can swallow the release edge
    and leave the button "held"; the detector debounces without ever losing the level.
    """

    def __init__(
        self,
        on_command: Callable[[Command], None],
        mode_fn: Callable[[], str],
        pin: int = 17,
        pull_up: bool = True,
        bounce_s: float = GestureDetector.debounce_s,
        *,
        double_s: float = GestureDetector.double_s,
        long_s: float = GestureDetector.long_s,
        clock: Callable[[], float] = time.monotonic,
        pin_factory: Any = None,
    ) -> None:
        from gpiozero import Button

        self._on_command, self._mode_fn, self._clock = on_command, mode_fn, clock
        self._detector = GestureDetector(debounce_s=bounce_s, double_s=double_s, long_s=long_s)
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._closed = False
        self._button = Button(pin, pull_up=pull_up, bounce_time=None, pin_factory=pin_factory)
        self._button.when_pressed = self._pressed
        self._button.when_released = self._released

    def _pressed(self) -> None:
        self._edge(True)

    def _released(self) -> None:
        self._edge(False)

    def _edge(self, pressed: bool) -> None:
        with self._lock:
            if self._closed:
                return
            gestures = self._detector.edge(pressed, self._clock())
            self._reschedule()
        self._emit(gestures)

    def _on_timer(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._timer = None
            level = bool(self._button.is_pressed)
            gestures = self._detector.poll(self._clock(), level=level)
            self._reschedule()
        self._emit(gestures)

    def _reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self._detector.next_deadline()
        if deadline is not None:
            delay = max(0.0, deadline - self._clock()) + 0.001
            self._timer = threading.Timer(delay, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _emit(self, gestures: Sequence[Gesture]) -> None:
        for gesture in gestures:
            self._on_command(gesture_to_command(gesture, self._mode_fn()))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
        self._button.close()


# ---------------------------------------------------------------- the LED


@dataclass(frozen=True)
class Pattern:
    """What the LED does: off, steady at `level`, blink (on_s/off_s) or pulse (fade in/out)."""

    kind: Literal["off", "steady", "blink", "pulse"]
    level: float = 0.0
    on_s: float = 0.0
    off_s: float = 0.0


FLASH_S = 0.15
HOLD_STEPS = 8  # progress is shown in eighths, so a tick does not restart the blink


def on_off(pattern: Pattern) -> Pattern:
    """The pattern as an LED without PWM shows it: no fading, no half brightness.

    Breathing (ready) becomes a blink with the same 2 s timing, still apart from paused (1 s).
    """
    if pattern.kind == "pulse":
        return Pattern("blink", on_s=pattern.on_s, off_s=pattern.off_s)
    if pattern.kind == "steady":
        return Pattern("steady", level=1.0 if pattern.level > 0 else 0.0)
    return pattern


def pattern_for(state: LedState, progress: float | None = None) -> Pattern:
    """Each state's pattern, chosen to be told apart across a room (see the README table)."""
    if state is LedState.READY:
        return Pattern("pulse", on_s=2.0, off_s=2.0)  # slow breathing
    if state is LedState.HEARD:
        return Pattern("blink", on_s=FLASH_S, off_s=FLASH_S)  # one flash (see StatusLed)
    if state is LedState.SPEAKING:
        return Pattern("steady", level=0.5)
    if state is LedState.HOLDING:
        # One blink per second whose lit part grows from 10% to 90% through the hold.
        step = round(min(max(progress or 0.0, 0.0), 1.0) * HOLD_STEPS) / HOLD_STEPS
        on = round(0.1 + 0.8 * step, 3)
        return Pattern("blink", on_s=on, off_s=round(1.0 - on, 3))
    if state is LedState.PAUSED:
        return Pattern("blink", on_s=1.0, off_s=1.0)  # slow blink
    if state is LedState.ERROR:
        return Pattern("blink", on_s=0.1, off_s=0.1)  # fast blink
    return Pattern("off")


class StatusLed:
    """A gpiozero PWMLED showing the player's LedState (a plain LED if there is no PWM).

    HEARD is one quick flash, after which the LED returns to the latest other state; a
    state that arrives during the flash waits for it to finish, so the flash is always seen.
    Re-sending the same state (every tick) does not restart the pattern.
    """

    def __init__(self, pin: int = 18, active_high: bool = True, *, pin_factory: Any = None):
        from gpiozero import LED, PWMLED
        from gpiozero.exc import PinPWMUnsupported

        self.dimmable = True
        try:
            self._led = PWMLED(
                pin, active_high=active_high, initial_value=0, pin_factory=pin_factory
            )
        except PinPWMUnsupported:
            # The pin factory (gpiozero's native one, say) cannot dim any pin, so another pin
            # would not help; on/off still shows every state. PWMLED released the pin.
            self.dimmable = False
            self._led = LED(pin, active_high=active_high, pin_factory=pin_factory)
        self.factory = factory_name(self._led.pin_factory)
        self._lock = threading.Lock()
        self._wanted = Pattern("off")
        self._applied: Pattern | None = Pattern("off")
        self._flash_timer: threading.Timer | None = None
        self._closed = False

    def show(self, action: SetLed) -> None:
        self.set(action.state, action.progress)

    def set(self, state: LedState, progress: float | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            if state is LedState.HEARD:
                self._flash()
                return
            self._wanted = pattern_for(state, progress)
            if self._flash_timer is None:
                self._apply(self._wanted)

    def _flash(self) -> None:
        if self._flash_timer is not None:
            self._flash_timer.cancel()
        self._applied = None
        self._led.blink(on_time=FLASH_S, off_time=FLASH_S, n=1, background=True)
        self._flash_timer = threading.Timer(2 * FLASH_S, self._end_flash)
        self._flash_timer.daemon = True
        self._flash_timer.start()

    def _end_flash(self) -> None:
        with self._lock:
            self._flash_timer = None
            if not self._closed:
                self._apply(self._wanted)

    def _apply(self, wanted: Pattern) -> None:
        if wanted == self._applied:
            return
        self._applied = wanted
        pattern = wanted if self.dimmable else on_off(wanted)
        if pattern.kind == "pulse":
            self._led.pulse(fade_in_time=pattern.on_s, fade_out_time=pattern.off_s)
        elif pattern.kind == "blink":
            self._led.blink(on_time=pattern.on_s, off_time=pattern.off_s)
        elif pattern.kind == "steady":
            self._led.value = pattern.level
        else:
            self._led.off()

    def close(self) -> None:
        """Off, then release the pin: the LED is dark once the service stops."""
        with self._lock:
            self._closed = True
            if self._flash_timer is not None:
                self._flash_timer.cancel()
            self._led.off()
            self._led.close()


# ---------------------------------------------------------------- no hardware


class NoButton:
    """Stands in for the button when there is no GPIO."""

    def close(self) -> None:
        return None


class NoLed:
    """Stands in for the LED when there is no GPIO."""

    def show(self, action: SetLed) -> None:
        return None

    def set(self, state: LedState, progress: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


# ---------------------------------------------------------------- choosing and opening


@dataclass(frozen=True)
class GpioPlan:
    use: bool
    factory: str | None  # "lgpio" to force it; None = gpiozero's choice (honours the env var)
    reason: str


def board_model(files: Sequence[Path] = MODEL_FILES) -> str | None:
    """The device-tree model string ("Raspberry Pi 5 Model B Rev 1.0"), None off a Pi/SBC."""
    for path in files:
        try:
            return path.read_bytes().rstrip(b"\0").decode("utf-8", "replace").strip()
        except OSError:
            continue
    return None


def plan_gpio(no_gpio: bool, model: str | None, env: Mapping[str, str]) -> GpioPlan:
    """Whether to use GPIO and with which pin factory; pure, so every branch is tested."""
    if no_gpio:
        return GpioPlan(False, None, "no GPIO: turned off (--no-gpio or no_gpio: true)")
    if env.get("GPIOZERO_PIN_FACTORY"):
        return GpioPlan(True, None, f"pin factory {env['GPIOZERO_PIN_FACTORY']} (from env)")
    if not model or "Raspberry Pi" not in model:
        seen = f"board is {model!r}" if model else "no device-tree model"
        return GpioPlan(False, None, f"no GPIO: not a Raspberry Pi ({seen})")
    if _PI5.search(model):
        return GpioPlan(True, "lgpio", f"{model}: lgpio pin factory")
    return GpioPlan(True, None, f"{model}: gpiozero's default pin factory")


def _make_factory(name: str | None) -> Any:
    if name != "lgpio":
        return None
    try:
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    except Exception as err:
        raise GpioError(
            f"a Raspberry Pi 5 needs the lgpio pin factory, which failed to load ({err}). "
            "Install it: `sudo apt install python3-lgpio` and create the venv with "
            "--system-site-packages (systemd/install.sh does), or `pip install lgpio`; "
            "or run with --no-gpio."
        ) from err


def factory_name(factory: Any) -> str:
    """gpiozero's pin factory as GPIOZERO_PIN_FACTORY names it: LGPIOFactory -> "lgpio"."""
    return type(factory).__name__.removesuffix("Factory").lower()


# The same advice wherever a pin factory falls short: a library with PWM the venv can see.
PWM_LIBRARIES = (
    "install python3-lgpio (a Pi 5 needs it) or python3-rpi.gpio, create the venv with "
    "--system-site-packages (systemd/install.sh does), and leave GPIOZERO_PIN_FACTORY unset "
    "or set it to lgpio"
)


def no_pwm_message(factory: str, pin: int) -> str:
    """Why the LED only switches on and off, and how to get fades back."""
    return (
        f"the {factory} pin factory has no PWM, so the LED on GPIO{pin} is only on or off "
        f"(no fades, no half brightness); for those, {PWM_LIBRARIES}."
    )


def explain_pin_error(
    what: str,
    key: str,
    pin: int,
    err: BaseException,
    where: str = "the config",
    env_factory: str | None = None,
) -> str:
    """One actionable sentence for a pin that cannot be opened; `where` is the config file
    the pin was set in ("the config" for the default), so the fix names the right file;
    `env_factory` is GPIOZERO_PIN_FACTORY when set, the first suspect when none loads."""
    from gpiozero.exc import BadPinFactory, GPIOPinInUse, PinInvalidPin, PinPWMUnsupported

    text = str(err) or type(err).__name__
    # Not --no-gpio: it would also turn off the other device, which works.
    fix = f"set `{key}:` in {where} to another pin"
    if isinstance(err, GPIOPinInUse) or "busy" in text.lower():
        return (
            f"{what} pin GPIO{pin} is busy ({text}): another program or a device-tree overlay "
            f"uses it; stop that, or set `{key}:` in {where} to a free pin."
        )
    if isinstance(err, PinInvalidPin):
        return f"{what} pin {pin} is not a usable GPIO on this board ({text}); {fix}."
    if isinstance(err, PinPWMUnsupported):
        # Every pin would fail the same way: the library is what to change, not the pin.
        return f"{what} pin GPIO{pin}: this pin factory has no PWM ({text}); {PWM_LIBRARIES}."
    lowered = text.lower()
    if isinstance(err, PermissionError) or "permission" in lowered or "can not open" in lowered:
        return (
            f"{what} pin GPIO{pin}: no permission to use the GPIO device ({text}); add the "
            "user to the gpio group (`sudo usermod -aG gpio $USER`, then log in again)."
        )
    if isinstance(err, BadPinFactory | ImportError) and env_factory:
        return (
            f"{what} pin GPIO{pin}: GPIOZERO_PIN_FACTORY={env_factory} cannot be loaded here "
            f"({text}); unset it (gpiozero then picks one) or set it to a pin factory "
            "installed here: lgpio, rpigpio, pigpio or mock."
        )
    if isinstance(err, BadPinFactory | ImportError):
        return (
            f"{what} pin GPIO{pin}: no GPIO library works here ({text}); on a Pi install "
            "python3-lgpio (venv with --system-site-packages) or set GPIOZERO_PIN_FACTORY."
        )
    return f"{what} pin GPIO{pin} cannot be used ({text}); {fix}."


@dataclass(frozen=True)
class PinSetting:
    """One device's pin, with where it was set, for the message when it cannot be opened."""

    what: str  # "button" | "LED"
    key: str
    pin: int
    where: str


def _pin(what: str, key: str, settings: Settings, origins: Mapping[str, str]) -> PinSetting:
    # Pins have no command-line flags, so an origin is always a config file.
    return PinSetting(what, key, getattr(settings, key), origins.get(key, "the config"))


def _open(
    spec: PinSetting, make: Callable[[], T], log: logging.Logger, env_factory: str | None
) -> T | None:
    """The device, or None once the log says which one is missing, why, and the fix."""
    try:
        return make()
    except Exception as err:
        why = explain_pin_error(spec.what, spec.key, spec.pin, err, spec.where, env_factory)
        log.error("GPIO: %s Running without the %s.", why, spec.what)
        return None


def _wired(spec: PinSetting, device: object | None) -> str:
    """What the start-up line says of one device: where it is, or that it is missing."""
    if device is None:
        return f"no {spec.what}"
    plain = isinstance(device, StatusLed) and not device.dimmable
    return f"{spec.what} on GPIO{spec.pin}{' (on/off)' if plain else ''}"


def open_gpio(
    settings: Settings,
    log: logging.Logger,
    on_command: Callable[[Command], None],
    mode_fn: Callable[[], str],
    *,
    model_files: Sequence[Path] = MODEL_FILES,
    env: Mapping[str, str] | None = None,
    origins: Mapping[str, str] | None = None,
) -> tuple[ButtonLike, LedLike]:
    """The button and LED from the settings; a logged stand-in for each one that fails.

    Each device is opened on its own: the LED's pin (GPIO18 is a DAC HAT's I2S clock) being
    busy must not cost a working button, nor the other way round. `origins` (from
    config.load_settings) names the file to fix. Never raises for a pin or a pin factory.
    """
    env = os.environ if env is None else env
    plan = plan_gpio(settings.no_gpio, board_model(model_files), env)
    if not plan.use:
        log.info("%s; running without the button and LED", plan.reason)
        return NoButton(), NoLed()
    try:
        factory = _make_factory(plan.factory)
    except GpioError as err:
        log.error("GPIO: %s Running without the button and LED.", err)
        return NoButton(), NoLed()
    where = origins or {}
    env_factory = env.get("GPIOZERO_PIN_FACTORY") or None
    led_pin = _pin("LED", "led_pin", settings, where)
    button_pin = _pin("button", "button_pin", settings, where)
    led = _open(
        led_pin,
        lambda: StatusLed(settings.led_pin, settings.led_active_high, pin_factory=factory),
        log,
        env_factory,
    )
    button = _open(
        button_pin,
        lambda: ButtonInput(
            on_command, mode_fn, settings.button_pin, settings.button_pull_up, pin_factory=factory
        ),
        log,
        env_factory,
    )
    if led is not None and not led.dimmable:
        log.warning("GPIO: %s", no_pwm_message(led.factory, settings.led_pin))
    log.info("GPIO: %s; %s, %s", plan.reason, _wired(button_pin, button), _wired(led_pin, led))
    return button or NoButton(), led or NoLed()
