"""Speech-out benchmarks: each returns a dict of metric name -> number (printed, not asserted)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skill.speech_out.phrase_cache import PhraseCache
    from skill.speech_out.speaker import Speaker
    from skill.speech_out.voice import Voice

TYPICAL_SENTENCE = (
    "Lie on your back, bend your knees, and slowly pull your right knee to your chest."
)


def first_audio_ms(speaker: Speaker, text: str, utterance_id: int = 9001) -> float:
    """Milliseconds from `say` to its first block handed to the device (then stops it)."""
    started = threading.Event()
    previous = speaker.on_audio_start

    def mark(uid: int) -> None:
        if uid == utterance_id:
            started.set()

    speaker.on_audio_start = mark
    try:
        t0 = time.perf_counter()
        speaker.say(text, utterance_id)
        if not started.wait(60):
            raise TimeoutError("no audio reached the device within 60 s")
        elapsed = (time.perf_counter() - t0) * 1000
    finally:
        speaker.stop()
        speaker.on_audio_start = previous
    return elapsed


def tts_first_audio(speaker: Speaker, text: str = TYPICAL_SENTENCE) -> dict[str, float]:
    """First-audio latency for one sentence: uncached (it is rendered and cached), then cached."""
    if speaker.cache is None:
        raise ValueError("the speaker needs a phrase cache for this benchmark")
    speaker.cache.discard(text)
    uncached = first_audio_ms(speaker, text, 9001)
    runs = sorted(first_audio_ms(speaker, text, 9002 + i) for i in range(3))
    cached = runs[1]  # median: the first start of a stream can pay one-off costs
    return {"tts_first_audio_ms_cached": cached, "tts_first_audio_ms_uncached": uncached}


def tts_rtf(voice: Voice, text: str = TYPICAL_SENTENCE) -> dict[str, float]:
    """Synthesis time divided by audio duration (below 1 is faster than real time)."""
    voice.synthesize("Warm up.")  # first run pays one-off allocations
    t0 = time.perf_counter()
    pcm = voice.synthesize(text)
    elapsed = time.perf_counter() - t0
    return {"tts_rtf": elapsed / (len(pcm) / voice.sample_rate)}


def tts_cache_hit_rate(cache: PhraseCache, sentences: Iterable[str]) -> dict[str, float]:
    """Fraction of the sentences said (e.g. in a full run of every routine) already cached."""
    return {"tts_cache_hit_rate": cache.hit_rate(sentences)}
