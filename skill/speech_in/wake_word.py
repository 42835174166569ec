"""A trained wake word in front of the command recognizer, for noisy homes.

A prefix word in the command grammar ("coach, next") was measured worse than none on the
fallback: the grammar forces noise onto "coach" as readily as onto a command. A model
trained on the wake phrase alone (microWakeWord, as Home Assistant's satellites use it;
`pymicro-wakeword` ships four with a 5 MB TensorFlow Lite runtime) listens on every frame,
and a command counts only when its speech begins within `listen_s` after the wake phrase.
A false accept then needs a false wake and a false command inside that window.

The inner engine hears the whole stream (its noise estimates keep adapting); when the
wake phrase is heard, the speech so far is cut, so "hey jarvis next" said in one breath
is decoded as "next".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from skill.speech_in.asr import SAMPLE_RATE, Engine, Hearing

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Phrase -> pymicro-wakeword's model name. These are the models that package ships.
TRAINED = {
    "okay nabu": "okay_nabu",
    "hey jarvis": "hey_jarvis",
    "hey mycroft": "hey_mycroft",
    "alexa": "alexa",
}
STEP_S = 0.03  # the detector's stride: three 10 ms feature frames per inference


@dataclass(frozen=True)
class WakeTuning:
    # The command's speech must begin within this long after the wake phrase ends: long
    # enough to say "hey jarvis ... start upper back routine" with a pause, short enough
    # that a false wake does not open the door for long.
    listen_s: float = 4.0
    # The detector fires a few frames after the phrase ends (it averages its last five
    # probabilities), so a command segment may seem to begin up to this much before it.
    onset_slack_s: float = 0.3


def trained_model(wake_word: str | None) -> str | None:
    """The model name for a trained wake phrase ("Hey Jarvis", "hey_jarvis"), else None."""
    if not wake_word:
        return None
    phrase = " ".join(wake_word.lower().replace("_", " ").replace(",", " ").split())
    return TRAINED.get(phrase)


def trained_phrases() -> str:
    return ", ".join(f"'{p}'" for p in TRAINED)


class Detector(Protocol):
    cutoff: float

    def probability(self, pcm: npt.NDArray[np.int16]) -> float:
        """Feed 30 ms; the wake phrase's probability now (0 while warming up)."""
        ...

    def reset(self) -> None: ...


class MicroWakeWordDetector:
    """pymicro-wakeword's streaming model and its feature front end."""

    def __init__(self, model: str) -> None:
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

        self._model = MicroWakeWord.from_builtin(Model(model))
        self._features_type = MicroWakeWordFeatures
        self._features = MicroWakeWordFeatures()
        self.cutoff = float(self._model.probability_cutoff)
        self.phrase = str(self._model.wake_word)

    def probability(self, pcm: npt.NDArray[np.int16]) -> float:
        best = 0.0
        for features in self._features.process_streaming(pcm.tobytes()):
            prob = self._model.process_streaming_prob(features)
            best = max(best, prob or 0.0)
        return best

    def reset(self) -> None:
        self._model.reset()
        self._features = self._features_type()


class WakeWordEngine:
    """The Engine (skill.speech_in.asr) that obeys the inner engine only after the wake phrase."""

    def __init__(
        self,
        inner: Engine,
        detector: Detector,
        phrase: str,
        tuning: WakeTuning | None = None,
    ) -> None:
        import numpy as np

        self.inner = inner
        self.name = inner.name
        self.detector = detector
        self.phrase = phrase
        self.tuning = tuning or WakeTuning()
        self._step = int(STEP_S * SAMPLE_RATE)
        self._pending = np.zeros(0, dtype=np.int16)
        self._fed = 0
        self._woke_s: float | None = None

    # --- Engine interface ---------------------------------------------------------------

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
        import numpy as np

        data = np.concatenate([self._pending, np.asarray(pcm, dtype=np.int16).reshape(-1)])
        usable = len(data) - len(data) % self._step
        self._pending = data[usable:]
        out: list[Hearing] = []
        for start in range(0, usable, self._step):
            piece = data[start : start + self._step]
            self._fed += len(piece)
            if self.detector.probability(piece) > self.detector.cutoff and not self._awake():
                self._woke_s = self._fed / SAMPLE_RATE
                self.inner.cut_speech()  # the wake phrase is not part of the command
                out.append(self._wake_hearing())
            out.extend(self._gate(h) for h in self.inner.accept(piece))
        return out

    def flush(self) -> list[Hearing]:
        return [self._gate(h) for h in self.inner.flush()]

    def reset(self) -> None:
        import numpy as np

        self.inner.reset()
        self.detector.reset()
        self._pending = np.zeros(0, dtype=np.int16)
        self._fed = 0
        self._woke_s = None

    # --- barge-in and room hooks: the inner engine's ------------------------------------

    def coach_speaking(self, active: bool) -> None:
        self.inner.coach_speaking(active)

    def coach_audio(self, pcm: npt.NDArray[np.int16] | None, rate: int) -> None:
        self.inner.coach_audio(pcm, rate)

    def forget_room(self) -> None:
        self.inner.forget_room()

    def cut_speech(self) -> None:
        self.inner.cut_speech()

    # --- the gate -----------------------------------------------------------------------

    def _awake(self) -> bool:
        now = self._fed / SAMPLE_RATE
        return self._woke_s is not None and now - self._woke_s < self.tuning.listen_s

    def _wake_hearing(self) -> Hearing:
        now = self._fed / SAMPLE_RATE
        why = f"wake word: listening for {self.tuning.listen_s:.0f} s"
        return Hearing(self.phrase, None, 1.0, self.name, True, why, now, now, wake=True)

    def _gate(self, hearing: Hearing) -> Hearing:
        """A command counts once, and only when its speech began after the wake phrase."""
        if hearing.command is None:
            return hearing
        woke = self._woke_s
        start = hearing.audio_start_s if hearing.audio_start_s is not None else hearing.audio_end_s
        if woke is None or not (
            woke - self.tuning.onset_slack_s <= start < woke + self.tuning.listen_s
        ):
            why = f"rejected: not after the wake word '{self.phrase}' ({hearing.reason})"
            return replace(hearing, command=None, reason=why)
        self._woke_s = None  # one command per wake
        return hearing


def wrap(engine: Engine, wake_word: str) -> WakeWordEngine:
    """`engine` behind the trained model of `wake_word` (see trained_model)."""
    model = trained_model(wake_word)
    if model is None:
        raise ValueError(f"no trained wake word {wake_word!r}; there are {trained_phrases()}")
    detector = MicroWakeWordDetector(model)
    return WakeWordEngine(engine, detector, detector.phrase.lower())
