"""Button gestures from raw press/release edges: short, double and long press.

Pure and clock-free: the caller passes the time of every edge and calls `poll` at
`next_deadline()`, so every timing rule (debounce, double-press window, long press that
fires while still held) is testable without sleeping. gpio.py is the thin threaded shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from skill.core.events import Command

Mode = Literal["idle", "running", "paused"]


class Gesture(StrEnum):
    SHORT = "short"
    DOUBLE = "double"
    LONG = "long"


@dataclass
class GestureDetector:
    """Turns (pressed, time) edges into gestures.

    Debounce is "accept at once, then lock out": the first edge of a burst counts, edges
    within `debounce_s` of it are ignored, and when the lock-out ends the settled level is
    taken, so a bounce can never leave the detector out of step with the button.
    """

    debounce_s: float = 0.03
    double_s: float = 0.4  # from the first release to the second press
    long_s: float = 2.0

    def __post_init__(self) -> None:
        self._level = False  # debounced: is the button down
        self._raw = False  # the last edge seen
        self._accepted_at = float("-inf")
        self._untimed = False  # the raw level was repaired by poll(level=...)
        self._pressed_at = 0.0
        self._long_fired = False
        self._second = False  # this press follows a short tap inside the window
        self._tap_released_at: float | None = None  # a short tap waiting for a second one

    @property
    def pressed(self) -> bool:
        return self._level

    def edge(self, pressed: bool, now: float) -> list[Gesture]:
        """A raw edge from the pin (bounces included)."""
        self._raw = pressed
        self._untimed = False
        return self._settle(now)

    def poll(self, now: float, level: bool | None = None) -> list[Gesture]:
        """Time passed. `level` is the pin's actual state, to repair an edge the driver lost."""
        gestures: list[Gesture] = []
        if level is not None and level != self._raw:
            self._raw, self._untimed = level, True
        gestures += self._settle(now)
        if self._level and not self._long_fired and now >= self._pressed_at + self.long_s:
            self._long_fired, self._second, self._tap_released_at = True, False, None
            gestures.append(Gesture.LONG)
        gestures += self._expire_tap(now)
        return gestures

    def next_deadline(self) -> float | None:
        """When `poll` must next run, or None when nothing is pending (no busy loop)."""
        times = []
        if self._raw != self._level:
            times.append(self._accepted_at + self.debounce_s)
        if self._level and not self._long_fired:
            times.append(self._pressed_at + self.long_s)
        if self._tap_released_at is not None and not self._level:
            times.append(self._tap_released_at + self.double_s)
        return min(times) if times else None

    def _settle(self, now: float) -> list[Gesture]:
        if self._raw == self._level or now < self._accepted_at + self.debounce_s:
            return []
        self._level, self._accepted_at = self._raw, now
        return self._on_press(now) if self._level else self._on_release(now)

    def _expire_tap(self, now: float) -> list[Gesture]:
        if self._tap_released_at is None or now < self._tap_released_at + self.double_s:
            return []
        self._tap_released_at = None
        return [Gesture.SHORT]

    def _on_press(self, now: float) -> list[Gesture]:
        gestures = self._expire_tap(now)
        self._second = self._tap_released_at is not None
        self._tap_released_at = None
        self._pressed_at, self._long_fired = now, False
        return gestures

    def _on_release(self, now: float) -> list[Gesture]:
        second, self._second = self._second, False
        if self._long_fired:
            return []
        if self._untimed:
            return []  # we never saw when it was let go: better no command than a wrong one
        if now >= self._pressed_at + self.long_s:
            return [Gesture.LONG]  # poll ran late; the press was long all the same
        if second:
            return [Gesture.DOUBLE]
        self._tap_released_at = now
        return []


def gesture_to_command(gesture: Gesture, mode: Mode | str) -> Command:
    """The command a gesture means in the player's current mode (the same one voice gives)."""
    if gesture is Gesture.LONG:
        return Command("stop", source="button")
    if gesture is Gesture.DOUBLE:
        return Command("next", source="button")
    name = {"running": "pause", "paused": "resume"}.get(mode, "start")
    return Command(name, source="button")
