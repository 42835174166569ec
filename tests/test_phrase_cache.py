"""The phrase cache: keys, atomic files, damage detection and re-rendering, the size cap."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from skill.speech_out.phrase_cache import PhraseCache
from skill.speech_out.voice import Voice, load_voice


@pytest.fixture(scope="module")
def voice() -> Voice:
    return load_voice()


def _cache(folder: Path, cap: int = 10**9, key: str = "joe-abc", rate: float = 1.1) -> PhraseCache:
    return PhraseCache(folder, key, rate, cap_bytes=cap)


def _noise(n: int, seed: int = 0) -> npt.NDArray[np.int16]:
    return np.random.default_rng(seed).integers(-8000, 8000, n).astype(np.int16)


def test_round_trip_and_persistence(tmp_path: Path) -> None:
    pcm = _noise(5000)
    _cache(tmp_path).put("Relax.", pcm)
    again = _cache(tmp_path)  # a new process sees the same files
    got = again.get("Relax.")
    assert got is not None and np.array_equal(got, pcm)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_key_depends_on_voice_text_and_pace(tmp_path: Path) -> None:
    _cache(tmp_path).put("Relax.", _noise(100))
    assert "Relax." in _cache(tmp_path)
    assert "Relax now." not in _cache(tmp_path)
    assert "Relax." not in _cache(tmp_path, key="amy-123")
    assert "Relax." not in _cache(tmp_path, rate=1.3)


def test_truncated_file_is_detected_and_rendered_again(tmp_path: Path, voice: Voice) -> None:
    cache = PhraseCache(tmp_path, voice.key, voice.length_scale)
    assert cache.render_missing(["Turn onto your side."], voice.synthesize, progress=False) == 1
    (path,) = tmp_path.glob("*.wav")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert cache.get("Turn onto your side.") is None
    assert not path.exists()
    assert cache.render_missing(["Turn onto your side."], voice.synthesize, progress=False) == 1
    pcm = cache.get("Turn onto your side.")
    assert pcm is not None and len(pcm) > voice.sample_rate // 2


def test_flipped_bytes_are_detected(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    path = cache.put("Hold.", _noise(4000))
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    assert cache.get("Hold.") is None
    assert "Hold." not in cache


def test_cap_evicts_least_recently_used(tmp_path: Path) -> None:
    one = 20000 * 2 + 44
    cache = _cache(tmp_path, cap=3 * one + 10)
    for i, text in enumerate(["A.", "B.", "C."]):
        path = cache.put(text, _noise(20000, i))
        os.utime(path, (1000 + i, 1000 + i))  # A oldest, C newest
    assert cache.get("A.") is not None  # reading A makes it the most recently used
    cache.put("D.", _noise(20000, 3))
    assert [t for t in ["A.", "B.", "C.", "D."] if t in cache] == ["A.", "C.", "D."]
    assert sum(p.stat().st_size for p in tmp_path.glob("*.wav")) <= cache.cap_bytes


def test_replacing_a_phrase_leaves_one_file(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.put("Again.", _noise(100, 1))
    cache.put("Again.", _noise(100, 2))
    assert len(list(tmp_path.glob("*.wav"))) == 1
    got = cache.get("Again.")
    assert got is not None and np.array_equal(got, _noise(100, 2))


def test_hit_rate_counts_repeats(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.put("Yes.", _noise(10))
    assert cache.hit_rate(["Yes.", "Yes.", "No.", "Yes."]) == 0.75


def test_background_render_fills_the_cache_and_can_stop(tmp_path: Path, voice: Voice) -> None:
    cache = PhraseCache(tmp_path, voice.key, voice.length_scale)
    texts = ["Good.", "Well done.", "Rest."]
    live = threading.Event()
    live.set()  # live speech is being synthesized: the background render must wait
    thread, stop = cache.start_background(texts, voice.synthesize, pause_s=0.01, busy=live.is_set)
    thread.join(timeout=0.5)
    assert cache.missing(texts) == texts
    live.clear()
    thread.join(timeout=30)
    assert cache.missing(texts) == []
    stopped = threading.Event()
    stopped.set()
    more = ["One more time.", "Slowly."]
    assert cache.render_missing(more, voice.synthesize, progress=False, stop=stopped) == 0
    assert cache.missing(more) == more
    stop.set()
