"""Pre-rendered speech: one WAV per sentence, keyed by voice, text and pace.

A Pi 4 synthesizes at about real time, far too slow while someone waits, so every phrase is
rendered ahead. The file name is `<key>-<crc32 of the samples>.wav`: the name commits to the
content, so a truncated or corrupted file fails the check on read and is rendered again.
Writes go to a temporary file and `os.replace`, so a crash never leaves a half file under a
valid name. Reads touch the mtime; over the size cap the least recently used files go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
import wave
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from skill import paths
from skill.config import DEFAULTS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Pcm = npt.NDArray[np.int16]

log = logging.getLogger(__name__)

DEFAULT_CAP_BYTES = DEFAULTS.cache_cap_mb << 20  # the config's cap, so both mean one size
BACKGROUND_PAUSE_S = 0.2


def default_dir() -> Path:
    return paths.cache_dir() / "phrases"


def _crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def _wait_while(busy: Callable[[], bool] | None, stop: threading.Event | None) -> None:
    """Live speech is being synthesized: leave it the CPU (checked every 100 ms)."""
    while busy is not None and busy():
        if stop is None:
            time.sleep(0.1)
        elif stop.wait(0.1):
            return


class PhraseCache:
    """Sentences rendered by one voice at one pace; safe to use from several threads."""

    def __init__(
        self,
        directory: Path,
        voice_key: str,
        length_scale: float,
        cap_bytes: int = DEFAULT_CAP_BYTES,
        sample_rate: int = 22050,
    ) -> None:
        self.directory = directory
        self.voice_key = voice_key
        self.length_scale = length_scale
        self.cap_bytes = cap_bytes
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        # One directory scan at start: lookups then cost no file-system listing.
        self._index: dict[str, Path] = {}
        for entry in os.scandir(directory):
            stem, _, crc = entry.name.removesuffix(".wav").rpartition("-")
            if entry.name.endswith(".wav") and stem and len(crc) == 8:
                self._index[stem] = Path(entry.path)

    def key(self, text: str) -> str:
        ident = f"{self.voice_key}\0{self.length_scale:.3f}\0{text.strip()}"
        return hashlib.sha256(ident.encode()).hexdigest()[:24]

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.key(text) in self._index

    def get(self, text: str) -> Pcm | None:
        """The cached samples, or None when absent or damaged (a damaged file is removed)."""
        import numpy as np

        key = self.key(text)
        with self._lock:
            path = self._index.get(key)
        if path is None:
            return None
        try:
            with wave.open(str(path), "rb") as wav:
                frames = wav.readframes(wav.getnframes())
                ok = wav.getsampwidth() == 2 and wav.getnchannels() == 1
        except (OSError, EOFError, wave.Error):
            ok, frames = False, b""
        if not ok or _crc(frames) != path.stem.rpartition("-")[2]:
            log.warning("phrase cache: %s is damaged; it will be rendered again", path.name)
            self._forget(key, path)
            return None
        with contextlib.suppress(OSError):  # LRU by mtime: atime is often off on a Pi
            os.utime(path)
        return np.frombuffer(frames, dtype=np.int16)

    def discard(self, text: str) -> None:
        """Drop one cached rendering (benchmarks use it to measure the uncached path)."""
        key = self.key(text)
        with self._lock:
            path = self._index.get(key)
        if path is not None:
            self._forget(key, path)

    def _forget(self, key: str, path: Path) -> None:
        with self._lock:
            if self._index.get(key) == path:
                del self._index[key]
        path.unlink(missing_ok=True)

    def put(self, text: str, pcm: Pcm) -> Path:
        """Store atomically, replacing any older rendering, then keep the cache under its cap."""
        key = self.key(text)
        data = pcm.astype("<i2").tobytes()
        path = self.directory / f"{key}-{_crc(data)}.wav"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".wav")
        try:
            with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(self.sample_rate)
                wav.writeframes(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        with self._lock:
            old = self._index.get(key)
            self._index[key] = path
        if old is not None and old != path:
            old.unlink(missing_ok=True)
        self.evict()
        return path

    def evict(self) -> int:
        """Delete least recently used files until the total is under the cap; returns how many."""
        files = []
        for entry in os.scandir(self.directory):
            if entry.name.endswith(".wav") and not entry.name.startswith(".tmp-"):
                st = entry.stat()
                files.append((st.st_mtime, st.st_size, entry.name))
        total = sum(size for _, size, _ in files)
        removed = 0
        for _, size, name in sorted(files):
            if total <= self.cap_bytes:
                break
            stem = name.removesuffix(".wav").rpartition("-")[0]
            self._forget(stem, self.directory / name)
            total -= size
            removed += 1
        return removed

    def missing(self, texts: Iterable[str]) -> list[str]:
        """Texts not yet cached, without duplicates, in the order given."""
        return [t for t in dict.fromkeys(t.strip() for t in texts) if t and t not in self]

    def render_missing(
        self,
        texts: Iterable[str],
        synthesize: Callable[[str], Pcm],
        progress: bool = True,
        stop: threading.Event | None = None,
        pause_s: float = 0.0,
        busy: Callable[[], bool] | None = None,
    ) -> int:
        """Render every text not yet cached; returns how many were rendered."""
        from tqdm import tqdm

        todo = self.missing(texts)
        done = 0
        for text in tqdm(todo, desc="rendering phrases", unit="phrase", disable=not progress):
            _wait_while(busy, stop)
            if stop is not None and stop.is_set():
                break
            self.put(text, synthesize(text))
            done += 1
            if pause_s and stop is not None and stop.wait(pause_s):
                break
        return done

    def start_background(
        self,
        texts: Iterable[str],
        synthesize: Callable[[str], Pcm],
        pause_s: float = BACKGROUND_PAUSE_S,
        busy: Callable[[], bool] | None = None,
    ) -> tuple[threading.Thread, threading.Event]:
        """Render the missing texts in a daemon thread; set the returned event to stop it.

        A thread, not a process: a second process would load the voice model again (~60 MB
        and seconds of CPU on a Pi). `os.nice` cannot help: it is per process by POSIX (per
        thread only by Linux accident). Instead the voice runs with few onnxruntime threads,
        a pause between phrases leaves the CPU to the recognizer, and while `busy()` is true
        (pass `speaker.synthesizing.is_set`) it waits for live speech synthesis to finish.
        """
        stop = threading.Event()
        todo = list(texts)

        def run() -> None:
            try:
                self.render_missing(
                    todo, synthesize, progress=False, stop=stop, pause_s=pause_s, busy=busy
                )
            except Exception:  # a background helper must never take the service down
                log.exception("background phrase rendering failed")

        thread = threading.Thread(target=run, name="phrase-prerender", daemon=True)
        thread.start()
        return thread, stop

    def hit_rate(self, sentences: Iterable[str]) -> float:
        """Fraction of the given sentences (as said, with repeats) that are cached."""
        said = [s for s in (x.strip() for x in sentences) if s]
        return sum(s in self for s in said) / len(said) if said else 1.0
