"""The speech-recognition interface every engine implements (Vosk, or the PocketSphinx fallback).

An engine takes 16 kHz mono int16 audio in chunks of any size and returns `Hearing`s:
what it heard, and the command to act on (None when nothing should happen). Rejection
lives inside the engine, because only the engine knows its scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from skill.core.events import Command

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAMPLE_RATE = 16000
# Audio reaches an engine in chunks this long, as the microphone delivers it: short, so a
# decision waits at most this long for its audio.
CHUNK_S = 0.02


@dataclass(frozen=True)
class Hearing:
    text: str  # words the engine decoded ("" when nothing)
    command: Command | None  # None: nothing should happen
    confidence: float  # 0..1
    engine: str  # "vosk" or "pocketsphinx"
    final: bool  # False for an early decision on a stable partial result
    reason: str = ""  # why accepted or rejected, for the log
    audio_end_s: float = 0.0  # stream time (seconds of audio fed) when decided
    audio_start_s: float | None = None  # stream time where the decided speech began, if known
    wake: bool = False  # the wake phrase itself (skill.speech_in.wake_word), not a command


class Engine(Protocol):
    name: str

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
        """Feed 16 kHz mono int16 audio; returns decisions made on it (often none)."""
        ...

    def flush(self) -> list[Hearing]:
        """End of stream: decide on whatever is pending."""
        ...

    def reset(self) -> None:
        """Forget pending audio (e.g. after the coach spoke)."""
        ...

    # Barge-in and room hooks: every engine has them, a no-op where it has nothing to do,
    # so the listening step calls them directly whichever engine runs.

    def coach_speaking(self, active: bool) -> None:
        """The coach started (True) or stopped (False) talking; an engine that spots
        barge-in words inside longer speech does so only meanwhile."""
        ...

    def coach_audio(self, pcm: npt.NDArray[np.int16] | None, rate: int) -> None:
        """The speaker plays `pcm` at `rate` now (None: nothing plays), for an engine that
        tells the person from the echo. Called before every chunk with the same array."""
        ...

    def forget_room(self) -> None:
        """Between unrelated recordings: forget what was learned of the room's noise too."""
        ...

    def cut_speech(self) -> None:
        """Forget the speech heard so far (a wake phrase is not part of the command)."""
        ...
