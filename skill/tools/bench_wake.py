"""Benchmark of the trained wake words (skill.speech_in.wake_word): false wakes on real people, and
the phrase heard in the voices we can make.

False wakes are counted over every human recording (none says a wake phrase) in every
condition but over_coach: as recorded, over kitchen and bike noise at 20 and 10 dB SNR,
and 10 dB quieter. The phrase itself is rendered by Piper's voice (three variants) and
three espeak-ng voices, each alone and in "<phrase>, next." Each stream goes to each
phrase's detector (skill.speech_in.wake_word.detector) 30 ms at a time, as in the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from skill.speech_in.asr import SAMPLE_RATE
from skill.speech_in.wake_word import STEP_S, TRAINED, Detector, detector

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LEAD_S = 0.5  # quiet before and after each rendered phrase, as a microphone would hear it
RTF_AUDIO_S = 30.0  # audio each detector's CPU share is measured on


@dataclass(frozen=True)
class WakeFigures:
    metrics: dict[str, float]
    notes: list[str]


def max_probabilities(stream: npt.NDArray[np.int16], detectors: Sequence[Detector]) -> list[float]:
    """Each detector's highest wake probability over the stream (from a fresh state), fed
    30 ms at a time as the service feeds it."""
    step = int(STEP_S * SAMPLE_RATE)
    best = [0.0] * len(detectors)
    for i, listener in enumerate(detectors):
        listener.reset()
        for start in range(0, len(stream) - step + 1, step):
            best[i] = max(best[i], listener.probability(stream[start : start + step]))
    return best


def load_models() -> dict[str, Detector]:
    return {phrase: detector(name) for phrase, name in TRAINED.items()}


def false_wakes(shared: Path, models: dict[str, Detector]) -> tuple[dict[str, list[str]], float]:
    """The clips that woke each model, and the hours of audio listened to."""
    from skill.tools import human_corpus as hc

    conditions = [c for c in hc.CONDITIONS if c != "over_coach"]
    corpus = hc.build(shared, None, conditions)
    woke: dict[str, list[str]] = {phrase: [] for phrase in models}
    seconds = 0.0
    for clip in [*corpus.positives, *corpus.negatives]:
        seconds += len(clip.pcm) / SAMPLE_RATE
        for phrase, prob in zip(
            models, max_probabilities(clip.pcm, list(models.values())), strict=True
        ):
            if prob > models[phrase].cutoff:
                woke[phrase].append(clip.name)
    return woke, seconds / 3600


def renders(cache: Path, phrase: str) -> list[npt.NDArray[np.int16]]:
    """The phrase alone and before "next", in each Piper variant and espeak-ng voice."""
    import numpy as np

    from skill.tools import speech_corpus as corpus_mod

    piper = corpus_mod.PiperRenderer()
    quiet = np.zeros(int(LEAD_S * SAMPLE_RATE), dtype=np.int16)
    out = []
    for text in (f"{phrase.title()}.", f"{phrase.title()}, next."):
        for ls, semi in corpus_mod.PIPER_VARIANTS:
            key = f"piper|{text}|{ls}|{semi}"
            render = partial(corpus_mod._piper_variant, piper, text, ls, semi)
            out.append(corpus_mod.cached(cache, key, render))
        for voice, speed, pitch in corpus_mod.ESPEAK_VOICES:
            key = f"espeak|{text}|{voice}|{speed}|{pitch}"
            render = partial(corpus_mod.espeak, text, voice, speed, pitch)
            out.append(corpus_mod.cached(cache, key, render))
    return [np.concatenate([quiet, pcm, quiet]) for pcm in out]


def measure(shared: Path | None, cache: Path) -> WakeFigures:
    """wake_false_wakes_*, per hour, wake_detected_* (share of renders heard) and wake_rtf_*
    (each detector's CPU time over audio time)."""
    models = load_models()
    metrics: dict[str, float] = {}
    notes: list[str] = []
    if shared is not None:
        woke, hours = false_wakes(shared, models)
        for phrase, clips in woke.items():
            key = TRAINED[phrase]
            metrics[f"wake_false_wakes_{key}"] = len(clips)
            metrics[f"wake_false_wakes_per_hour_{key}"] = round(len(clips) / hours, 2)
            notes += [f"wake word '{phrase}' woke on {c}" for c in clips]
        notes.insert(0, f"wake words: false wakes over {hours * 60:.0f} min of human audio")
    for phrase, model in models.items():
        streams = renders(cache, phrase)
        heard = sum(max_probabilities(s, [model])[0] > model.cutoff for s in streams)
        metrics[f"wake_detected_{TRAINED[phrase]}"] = round(heard / len(streams), 3)
        metrics[f"wake_rtf_{TRAINED[phrase]}"] = round(cpu_share(model), 4)
    notes.append("wake words: detected = share of 12 renders (Piper x3, espeak-ng x3, x2)")
    return WakeFigures(metrics, notes)


def cpu_share(model: Detector, seconds: float = RTF_AUDIO_S) -> float:
    """CPU time over audio time for the detector alone, on seeded noise (the same every run)."""
    import time

    import numpy as np

    noise = np.random.default_rng(0).normal(0, 300, int(seconds * SAMPLE_RATE)).astype(np.int16)
    start = time.process_time()
    max_probabilities(noise, [model])
    return (time.process_time() - start) / seconds
