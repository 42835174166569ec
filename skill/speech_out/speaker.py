"""Says things: cached sentences play at once, the rest are synthesized while earlier ones play.

Speech is cut into sentences (the unit of the phrase cache). A worker thread walks the
sentences of each utterance in order: a cached sentence is queued to the output at once, an
uncached one is synthesized (and cached) while the sentences before it are playing. The
utterance is reported done (`on_done`) when its last sentence has played or when it is cut off.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skill.core.phrases import split_sentences  # the phrase list uses it too: cache keys agree
from skill.errors import VoiceError
from skill.speech_out import tones

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.hardware.playback import AudioOutput
    from skill.speech_out.phrase_cache import PhraseCache
    from skill.speech_out.voice import Voice

log = logging.getLogger(__name__)

SENTENCE_GAP_S = 0.25  # pause between sentences in `render` (Piper ends sentences abruptly)


def sentence_audio(voice: Voice, cache: PhraseCache | None, sentence: str) -> npt.NDArray[np.int16]:
    """From the cache, else synthesized now and cached."""
    if cache is not None:
        pcm = cache.get(sentence)
        if pcm is not None:
            return pcm
    pcm = voice.synthesize(sentence)
    if cache is not None and len(pcm):
        cache.put(sentence, pcm)
    return pcm


def render(voice: Voice, cache: PhraseCache | None, text: str) -> tuple[npt.NDArray[np.int16], int]:
    """The whole text as one clip (for `say --out` and the demo), with pauses between."""
    import numpy as np

    gap = np.zeros(round(SENTENCE_GAP_S * voice.sample_rate), dtype=np.int16)
    parts: list[npt.NDArray[np.int16]] = []
    for sentence in split_sentences(text):
        parts += [sentence_audio(voice, cache, sentence), gap]
    pcm = np.concatenate(parts[:-1]) if parts else np.zeros(0, dtype=np.int16)
    return pcm, voice.sample_rate


def played_at_volume(pcm: npt.NDArray[np.int16], volume: float) -> npt.NDArray[np.int16]:
    """The sentence as the output will play it: "louder" and "quieter" change the echo."""
    import numpy as np

    return pcm if volume == 1.0 else np.round(pcm * volume).astype(np.int16)


@dataclass(frozen=True)
class _ClipInfo:
    utterance_id: int | None  # None: a cue tone
    text: str
    last: bool
    pcm: npt.NDArray[np.int16] | None = None  # what is played, for the recognizer's echo check
    rate: int = 0


class Speaker:
    """Speech and cue tones through one AudioOutput; call from any thread."""

    def __init__(
        self,
        voice: Voice,
        cache: PhraseCache | None,
        output: AudioOutput,
        on_done: Callable[[int], None] | None = None,
        on_audio_start: Callable[[int], None] | None = None,
    ) -> None:
        self.voice = voice
        self.cache = cache
        self.output = output
        self.on_done = on_done
        self.on_audio_start = on_audio_start  # utterance id: its first audio reached the device
        self._lock = threading.RLock()
        self._generation = 0
        self._ids = itertools.count(1)
        self._clips: dict[int, _ClipInfo] = {}
        self._active: dict[int, str] = {}  # utterance id -> text, until reported done
        self._timely: set[int] = set()  # the active ones that are counts (Speaker.say)
        self._playing: int | None = None  # clip id now sounding
        self._requests: queue.Queue[tuple[int, int, str]] = queue.Queue()
        self.synthesizing = threading.Event()  # the background pre-render yields while set
        output.on_clip_done = self._clip_done
        output.on_clip_start = self._clip_start
        self._worker = threading.Thread(target=self._work, name="speaker", daemon=True)
        self._worker.start()

    # --- API used by the service, the demo and `say` ---

    def say(self, text: str, utterance_id: int, timely: bool = False) -> bool:
        """Queue `text`; False when it is left out. A `timely` one (a bare count) is worth
        saying only at its time: while other speech is still to play (an acknowledgement
        such as "Volume up."; an answer to a question holds the player's clock instead) it
        is not said, so the counts after it come on time instead of in a rush."""
        with self._lock:
            late = timely and any(uid not in self._timely for uid in self._active)
            if not late:
                self._active[utterance_id] = text
                self._requests.put((self._generation, utterance_id, text))
                if timely:
                    self._timely.add(utterance_id)
        if late and self.on_done:
            self.on_done(utterance_id)
        return not late

    def cue(self, name: str) -> None:
        pcm = tones.render(name, self.output.rate)
        with self._lock:
            clip_id = next(self._ids)
            self._clips[clip_id] = _ClipInfo(None, name, True)
            self.output.play(pcm, self.output.rate, clip_id)

    def stop(self) -> None:
        """Cut off everything said or queued; each cut utterance is reported done once."""
        with self._lock:
            self._generation += 1
            self.output.stop()
            cut = list(self._active)
        for uid in cut:
            self._finish(uid)

    def change_volume(self, delta: float) -> None:
        self.output.change_volume(delta)

    @property
    def is_speaking(self) -> bool:
        return bool(self._active)

    def _sounding(self) -> _ClipInfo | None:
        """The speech clip sounding now (not a cue tone); call with the lock held."""
        info = self._clips.get(self._playing) if self._playing is not None else None
        return info if info is not None and info.utterance_id is not None else None

    @property
    def current_text(self) -> str:
        """The utterance sounding now (the recognizer ignores the coach's own words)."""
        with self._lock:
            uid = info.utterance_id if (info := self._sounding()) is not None else None
            return "" if uid is None else self._active.get(uid, "")

    @property
    def current_audio(self) -> tuple[npt.NDArray[np.int16], int] | None:
        """The sentence sounding now and its rate (the same array while it plays)."""
        with self._lock:
            info = self._sounding()
            return None if info is None or info.pcm is None else (info.pcm, info.rate)

    def sentence_audio(self, sentence: str) -> npt.NDArray[np.int16]:
        self.synthesizing.set()
        try:
            return sentence_audio(self.voice, self.cache, sentence)
        finally:
            self.synthesizing.clear()

    def render(self, text: str) -> tuple[npt.NDArray[np.int16], int]:
        return render(self.voice, self.cache, text)

    # --- worker and callbacks ---

    def _work(self) -> None:
        while True:
            generation, uid, text = self._requests.get()
            sentences = split_sentences(text)
            if not sentences:
                self._finish(uid)
            for i, sentence in enumerate(sentences):
                if generation != self._generation:
                    break
                try:
                    pcm = self.sentence_audio(sentence)
                except VoiceError as err:  # a voice file that cannot be loaded: say which
                    log.error("voice: %s; %r is not said", err, sentence)
                    self._finish(uid)
                    break
                except Exception:
                    log.exception("could not synthesize %r", sentence)
                    self._finish(uid)
                    break
                with self._lock:
                    if generation != self._generation:
                        break
                    clip_id = next(self._ids)
                    last = i == len(sentences) - 1
                    rate = self.voice.sample_rate
                    played = played_at_volume(pcm, self.output.volume)
                    self._clips[clip_id] = _ClipInfo(uid, sentence, last, played, rate)
                    self.output.play(pcm, rate, clip_id)

    def _clip_start(self, clip_id: int) -> None:
        with self._lock:
            self._playing = clip_id
            info = self._clips.get(clip_id)
        if info and info.utterance_id is not None and self.on_audio_start:
            self.on_audio_start(info.utterance_id)

    def _clip_done(self, clip_id: int, completed: bool) -> None:
        with self._lock:
            info = self._clips.pop(clip_id, None)
            if self._playing == clip_id:
                self._playing = None
        if info is None or info.utterance_id is None:
            return
        if info.last or not completed:
            self._finish(info.utterance_id)

    def _finish(self, uid: int) -> None:
        with self._lock:
            self._timely.discard(uid)
            if self._active.pop(uid, None) is None:
                return
        if self.on_done:
            try:
                self.on_done(uid)
            except Exception:
                log.exception("speech-done callback failed")
