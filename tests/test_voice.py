"""The built-in Piper voice, other voices by path, clear errors, and the voice catalogue."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skill.speech_out.voice import (
    Voice,
    VoiceError,
    default_voice_path,
    download_voice,
    find_voice,
    load_voice,
    read_catalogue,
    voice_key,
)


@pytest.fixture(scope="module")
def voice() -> Voice:
    return load_voice()


def test_default_voice_speaks_a_sentence(voice: Voice) -> None:
    pcm = voice.synthesize("Breathe in slowly.")
    seconds = len(pcm) / voice.sample_rate
    assert voice.sample_rate == 22050
    assert pcm.dtype == np.int16
    assert 0.6 < seconds < 3.0
    assert np.sqrt(np.mean(pcm.astype(float) ** 2)) > 1000  # speech, not silence


def test_routine_times_are_the_voice_s_own(voice: Voice) -> None:
    """`list`, "about N minutes" and "how long left" time the coach's words by an estimate:
    over an even sample of every sentence the coach can say, it is the built-in voice's
    real time within 10 % (at 2.4 words a second it was 44 % long)."""
    from skill.core.phrases import all_phrases, split_sentences
    from skill.core.plan import estimate_speech_seconds
    from skill.library.loader import load_library

    sentences = sorted({s for p in all_phrases(load_library().library) for s in split_sentences(p)})
    sample = sentences[:: max(1, len(sentences) // 40)]
    real = sum(len(voice.synthesize(s)) for s in sample) / voice.sample_rate
    estimate = sum(estimate_speech_seconds(s) for s in sample)
    assert estimate == pytest.approx(real, rel=0.1)


def test_iter_sentences_streams_one_array_per_sentence(voice: Voice) -> None:
    parts = list(voice.iter_sentences("Bend your knees. Now relax."))
    assert len(parts) == 2
    assert all(len(p) > voice.sample_rate // 4 for p in parts)


def test_length_scale_slows_speech_and_changes_nothing_else(voice: Voice) -> None:
    # Piper draws phoneme durations at random (noise_w), so one rendering at 1.1 against one
    # at 1.6 overlapped in CI. 0.8 against 1.6 measured 1.55-1.72x over 20 runs here.
    text = "Hold the stretch and keep breathing."
    fast, slow = voice.with_length_scale(0.8), voice.with_length_scale(1.6)
    assert slow.key == fast.key == voice.key
    assert slow.length_scale == 1.6
    assert len(slow.synthesize(text)) > 1.3 * len(fast.synthesize(text))


def test_missing_voice_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(VoiceError, match=r"not found: .*nobody\.onnx"):
        load_voice(tmp_path / "nobody.onnx")


def test_missing_config_names_it(tmp_path: Path) -> None:
    (tmp_path / "v.onnx").write_bytes(b"x")
    with pytest.raises(VoiceError, match=r"v\.onnx\.json"):
        load_voice(tmp_path / "v.onnx")


def test_broken_model_names_the_file(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"this is not an onnx model")
    shutil.copy(default_voice_path().with_suffix(".onnx.json"), tmp_path / "broken.onnx.json")
    with pytest.raises(VoiceError, match=r"broken\.onnx: cannot load"):
        load_voice(model)


def test_a_lazy_voice_loads_its_model_at_the_first_sentence_and_shares_it() -> None:
    lazy = load_voice(lazy=True)
    slower = lazy.with_length_scale(1.3)
    assert not lazy.is_open and not slower.is_open
    assert lazy.sample_rate == 22050 and lazy.key == load_voice().key
    assert len(slower.synthesize("Breathe in.")) > 0
    assert lazy.is_open  # one model for every pace


def test_a_lazy_voice_with_a_broken_model_names_it_at_first_use(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"this is not an onnx model")
    shutil.copy(default_voice_path().with_suffix(".onnx.json"), tmp_path / "broken.onnx.json")
    lazy = load_voice(model, lazy=True)  # the files exist and the config is a voice's
    with pytest.raises(VoiceError, match=r"broken\.onnx: cannot load"):
        lazy.synthesize("Hello.")
    shutil.copy(default_voice_path(), model)  # not looked at again: the first error stands
    with pytest.raises(VoiceError, match=r"broken\.onnx: cannot load"):
        lazy.with_length_scale(1.2).synthesize("Hello.")


def test_a_cached_sentence_does_not_load_the_voice(tmp_path: Path) -> None:
    from skill.speech_out.phrase_cache import PhraseCache
    from skill.speech_out.speaker import sentence_audio

    lazy = load_voice(lazy=True)
    cache = PhraseCache(tmp_path, lazy.key, lazy.length_scale, sample_rate=lazy.sample_rate)
    cache.put("Rest.", np.ones(2205, dtype=np.int16))
    assert len(sentence_audio(lazy, cache, "Rest.")) == 2205
    assert not lazy.is_open
    assert len(sentence_audio(lazy, cache, "Now roll over.")) > 0 and lazy.is_open


def test_the_wiring_opens_the_model_unless_asked_to_wait() -> None:
    from skill.config import DEFAULTS
    from skill.service import wiring

    assert not wiring.open_voice(DEFAULTS, lazy=True).is_open  # the service
    assert wiring.open_voice(DEFAULTS).is_open  # setup and say find a broken model at once


def test_broken_config_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "v.onnx").write_bytes(b"x")
    (tmp_path / "v.onnx.json").write_text('{"audio": {}}')
    with pytest.raises(VoiceError, match=r"v\.onnx\.json: not a Piper voice config"):
        load_voice(tmp_path / "v.onnx")


def test_voice_key_follows_file_name_and_config(tmp_path: Path) -> None:
    model = tmp_path / "my-voice.onnx"
    model.write_bytes(b"model")
    key = voice_key(model, b'{"a": 1}')
    assert key.startswith("my-voice-")
    assert key == voice_key(model, b'{"a": 1}')
    assert key != voice_key(model, b'{"a": 2}')


def test_catalogue_checksums_match_the_installed_default_voice() -> None:
    joe = find_voice("en_US-joe-medium")
    model = default_voice_path()
    assert joe.verified
    assert hashlib.sha256(model.read_bytes()).hexdigest() == joe.sha256
    config = model.with_suffix(".onnx.json").read_bytes()
    assert hashlib.sha256(config).hexdigest() == joe.config_sha256
    assert joe.sample_rate == 22050


def test_download_refuses_voices_without_a_known_checksum(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(
        "voices:\n  - {name: en_XX-new-medium, url: 'http://127.0.0.1:9/x.onnx', "
        "sample_rate: 22050, licence: unknown, sha256: unknown, config_sha256: unknown}\n"
    )
    dest = tmp_path / "voices"
    with pytest.raises(VoiceError, match="no known checksum"):
        download_voice("en_XX-new-medium", dest, catalogue)
    assert not dest.exists()


def test_unknown_catalogue_name_lists_the_known_ones() -> None:
    with pytest.raises(VoiceError, match="en_US-joe-medium"):
        find_voice("en_XX-nobody")


def test_every_catalogue_voice_has_known_checksums() -> None:
    """A row without verified checksums can never be downloaded: it does not belong there."""
    entries = read_catalogue()
    assert [e.name for e in entries if not e.verified] == []
    assert "en_US-joe-medium" in [e.name for e in entries]


@pytest.fixture
def home(xdg_home: Path) -> Path:
    """XDG dirs in tmp_path: no user config, an empty phrase cache."""
    return xdg_home


class FakeOutput:
    """AudioOutput as `say` uses it: a clip starts (if it has samples) and ends at once."""

    played: list[int] = []  # noqa: RUF012 (the samples of each clip, for the test to read)

    def __init__(self, device: object = None, volume: float = 1.0) -> None:
        self.volume, self.rate = volume, 22050
        self.on_clip_start: Any = None
        self.on_clip_done: Any = None

    def __enter__(self) -> FakeOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def play(self, pcm: Any, rate: int, clip_id: int) -> None:
        type(self).played.append(len(pcm))
        if len(pcm):
            self.on_clip_start(clip_id)
        self.on_clip_done(clip_id, True)


@pytest.mark.parametrize("text", ["...", "?!,;"])
@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
def test_say_text_that_renders_to_nothing_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str], text: str, cache: list[str]
) -> None:
    """QA: `say "..." --out x.wav` "wrote" a 0.0 s WAV."""
    from skill.cli.main import main

    out = home / "x.wav"
    code = main(["say", text, "--out", str(out), *cache])
    printed = capsys.readouterr()
    assert code == 1
    assert "wrote" not in printed.out
    assert printed.err == f"stretch-coach: nothing to speak: the voice says nothing for {text!r}\n"
    assert not out.exists() and list(home.glob("*.wav")) == []


def test_say_aloud_text_that_renders_to_nothing_says_so(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from skill.cli.main import main
    from skill.hardware import playback

    monkeypatch.setattr(playback, "AudioOutput", FakeOutput)
    FakeOutput.played = []
    assert main(["say", "Rest."]) == 0
    assert FakeOutput.played and FakeOutput.played[0] > 0
    assert main(["say", "..."]) == 1
    assert "nothing to speak" in capsys.readouterr().err


def test_say_with_the_cache_folder_a_file_names_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: a NotADirectoryError traceback."""
    from skill.cli.main import main

    cache = home / "xdg_cache_home" / "stretch-coach"
    cache.parent.mkdir()
    cache.write_text("a file where the cache folder should be")
    code = main(["say", "Rest.", "--out", str(home / "rest.wav")])
    err = capsys.readouterr().err
    assert code == 1 and not (home / "rest.wav").exists()
    assert err == (
        f"stretch-coach: cannot use {cache}/phrases: Not a directory ({cache} is a file)\n"
    )
