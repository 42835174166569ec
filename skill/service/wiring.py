"""The composition root: the one place that builds the shared objects from Settings.

`run`, `demo`, `say`, `setup` and `bench` all get their library, voice, phrase cache,
recognizer and action router here, so a setting (the voice, its pace, the cache cap, the
model, the wake word) means the same thing in each, and the demo runs the service's parts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from skill.errors import UserError
from skill.service.router import ActionRouter, LedSink, ProgressSink, SpeechSink

if TYPE_CHECKING:
    from skill.config import Settings
    from skill.core.exercise import Library
    from skill.library.loader import LoadResult
    from skill.speech_in.asr import Engine
    from skill.speech_out.phrase_cache import PhraseCache
    from skill.speech_out.voice import Voice


def load_library(log: logging.Logger | None = None) -> Library:
    """The built-in and the person's routines; each problem is logged with what it cost (a
    file, an entry, and the built-in kept in its place), and a library with no routine at
    all stops with what to run."""
    return load_routines(log).library


def load_routines(log: logging.Logger | None = None) -> LoadResult:
    """`load_library`, with what was skipped (to say why a routine named is not there)."""
    from skill.library.loader import load_library as load

    result = load()
    for problem in result.problems:
        if log is not None:
            log.warning("routines: %s", problem)  # the problem says what was skipped and kept
    if not result.library.routines:
        raise UserError("no routines could be loaded: run `stretch-coach check`")
    return result


def open_voice(settings: Settings, lazy: bool = False) -> Voice:
    """The configured Piper voice (the built-in one when none is set) at the configured pace;
    `lazy`: its model is loaded on the first sentence not in the phrase cache."""
    from skill.speech_out.voice import load_voice

    path = Path(settings.voice) if settings.voice else None
    return load_voice(path, settings.length_scale, lazy=lazy)


def open_phrase_cache(settings: Settings, voice: Voice, folder: Path | None = None) -> PhraseCache:
    """The spoken-phrase cache for `voice`, capped at the configured size."""
    from skill.speech_out.phrase_cache import PhraseCache, default_dir

    return PhraseCache(
        folder or default_dir(),
        voice.key,
        voice.length_scale,
        settings.cache_cap_mb << 20,
        voice.sample_rate,
    )


def open_recognizer(settings: Settings, library: Library, log: logging.Logger) -> Engine:
    """The configured Vosk model, or the PocketSphinx fallback, listening for this library."""
    from skill.speech_in.recognizer import open_engine

    model = Path(settings.model) if settings.model else None
    return open_engine(library, model, log, wake_word=settings.wake_word)


def build_router(
    speech: SpeechSink, led: LedSink, progress: ProgressSink, log: logging.Logger
) -> ActionRouter:
    """Where the player's actions go: the same router in the service and the demo."""
    return ActionRouter(speech, led, progress, log)
