"""The vocabulary shared by every part: command names, events into the player, actions out.

Voice, button and CLI all produce the same `Command`; the player answers every event
with a list of actions, which the shell (audio, GPIO, disk) carries out. Keeping these
plain frozen dataclasses is what lets the player stay a pure, testable state machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

# Canonical command names, used everywhere (grammar, button, player, logs).
COMMANDS: tuple[str, ...] = (
    "start",
    "next",
    "back",
    "repeat",
    "pause",
    "resume",
    "stop",
    "time_left",
    "help",
    "list",
    "slower",
    "faster",
    "louder",
    "quieter",
    "ready",
    "easier",
    "harder",
    "props",
)

Source = Literal["voice", "button", "cli", "demo", "web"]


@dataclass(frozen=True)
class Command:
    """A request from the person. `args` holds e.g. {"routine": "upper_back"} for start."""

    name: str
    args: Mapping[str, str] = field(default_factory=dict)
    source: Source = "voice"
    confidence: float = 1.0
    text: str = ""

    def __post_init__(self) -> None:
        if self.name not in COMMANDS:
            raise ValueError(f"unknown command {self.name!r}; known: {', '.join(COMMANDS)}")


@dataclass(frozen=True)
class Tick:
    """Time passed; the player reads the time from its injected clock."""


@dataclass(frozen=True)
class SpeechDone:
    """Playback of utterance `utterance_id` finished (or was cut off)."""

    utterance_id: int


@dataclass(frozen=True)
class DeviceProblem:
    """The microphone or speaker went away (ok=False) or came back (ok=True)."""

    device: Literal["microphone", "speaker"]
    ok: bool
    detail: str = ""


Event = Command | Tick | SpeechDone | DeviceProblem


@dataclass(frozen=True)
class Announce:
    """Something the service itself says and logs, not the player (a web pairing code).

    It goes through the service's event queue so only the main loop talks to the speaker.
    """

    text: str
    log: str


class LedState(StrEnum):
    """What the LED shows; gpio.py turns each into a pattern visible across a room."""

    OFF = "off"
    READY = "ready"
    HEARD = "heard"
    SPEAKING = "speaking"
    HOLDING = "holding"
    PAUSED = "paused"
    ERROR = "error"


@dataclass(frozen=True)
class Speak:
    """Say `text`. The player waits for SpeechDone(utterance_id) when `wait` is true."""

    text: str
    utterance_id: int
    wait: bool = True
    kind: Literal["instruction", "ack", "count", "cue", "info"] = "instruction"


@dataclass(frozen=True)
class PlayCue:
    """A short generated tone: hold_start, hold_end, switch_sides, tick."""

    name: Literal["hold_start", "hold_end", "switch_sides", "tick"]


@dataclass(frozen=True)
class StopSpeech:
    """Cut off whatever is playing now (stop, pause, next)."""


@dataclass(frozen=True)
class SetVolume:
    """Change output volume by `delta` (e.g. +0.2 / -0.2 of full scale), clamped by the shell."""

    delta: float


@dataclass(frozen=True)
class SetLed:
    state: LedState
    progress: float | None = None  # 0..1 through the current hold, when holding


@dataclass(frozen=True)
class Log:
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class SaveProgress:
    """Persist where the person is, so 'resume' works after a crash. None clears it.

    With `set_aside` (why the saved session cannot be used) the file is kept under another
    name instead of removed, so nothing the person did is lost.
    """

    snapshot: Mapping[str, Any] | None
    set_aside: str = ""


@dataclass(frozen=True)
class RecordSession:
    """Append one finished or stopped session to the history log."""

    record: Mapping[str, Any]


Action = Speak | PlayCue | StopSpeech | SetVolume | SetLed | Log | SaveProgress | RecordSession
