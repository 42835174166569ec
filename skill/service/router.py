"""Carries out the player's actions on the outside world: speech, LED, disk, log.

The service and the demo share this one router, so what the person hears and sees in
the demo is exactly what the home service does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from skill.core.events import (
    Action,
    Log,
    PlayCue,
    RecordSession,
    SaveProgress,
    SetLed,
    SetVolume,
    Speak,
    StopSpeech,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class SpeechSink(Protocol):
    """The speaker: what the coach says and plays, and what is sounding now (the listening
    step needs both to tell the coach's echo from the person)."""

    def say(self, text: str, utterance_id: int, timely: bool = False) -> bool | None:
        """Queue `text`; a `timely` one is left out (False) when other speech is still to
        play."""
        ...

    def cue(self, name: str) -> None: ...
    def stop(self) -> None: ...
    def change_volume(self, delta: float) -> None: ...

    @property
    def current_text(self) -> str:
        """The sentence sounding now ("" when none)."""
        ...

    @property
    def current_audio(self) -> tuple[npt.NDArray[np.int16], int] | None:
        """The sentence sounding now and its sample rate (None when none)."""
        ...


class LedSink(Protocol):
    def show(self, action: SetLed) -> None: ...


class ProgressSink(Protocol):
    def apply(self, action: SaveProgress | RecordSession) -> None: ...


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


@dataclass
class ActionRouter:
    speech: SpeechSink
    led: LedSink
    progress: ProgressSink
    log: logging.Logger

    def apply(self, actions: list[Action]) -> None:
        for action in actions:
            self.apply_one(action)

    def apply_one(self, action: Action) -> None:
        match action:
            case Speak(text=text, utterance_id=uid, kind=kind):
                if self.speech.say(text, uid, timely=kind == "count") is False:
                    self.log.info("coach leaves out (still speaking): %s", text)
                else:
                    self.log.info("coach says: %s", text)
            case PlayCue(name=name):
                self.speech.cue(name)
            case StopSpeech():
                self.speech.stop()
            case SetVolume(delta=delta):
                self.speech.change_volume(delta)
            case SetLed():
                self.led.show(action)
            case SaveProgress() | RecordSession():
                self.progress.apply(action)
            case Log(message=message, level=level):
                self.log.log(_LEVELS.get(level, logging.ERROR), "%s", message)
