"""The human set (tools.human_corpus): how its streams are built, and the shape of its summary.

The builder is checked exactly (SNR, level, hiss, what is left out); the engine is run on a
handful of clips for the structure of the result only. Accuracy floors on real people's
speech belong with the engine's tuning, not here.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from skill.core.events import Command
from skill.speech_in.asr import Hearing
from skill.tools import human_corpus as hc
from skill.tools.asr_eval import BARGE_IN, Clip, Outcome
from skill.tools.audio_mix import LOUD, RATE, coach_clip, loud_span
from tests.conftest import SHARED

NOISY = ("kitchen20db", "kitchen10db", "bike20db", "bike10db")


@pytest.fixture(scope="module")
def shared() -> Path:
    reason = hc.unavailable(SHARED)
    if reason:
        pytest.skip(reason)
    return SHARED


@pytest.fixture(scope="module")
def recordings(shared: Path) -> list[hc.Recording]:
    return hc.read_manifest(shared)


@pytest.fixture(scope="module")
def few(recordings: list[hc.Recording]) -> list[hc.Recording]:
    """Two stops (over the coach too), a repeat, and two non-commands of other sources."""
    stops = [r for r in recordings if r.command == "stop"][:2]
    repeat = next(r for r in recordings if r.command == "repeat")
    others = [
        next(r for r in recordings if r.command is None and r.source == s) for s in ("wuw", "an4")
    ]
    return [*stops, repeat, *others]


@pytest.fixture(scope="module")
def coach() -> list[Clip]:
    """A stand-in for the coach's echo (no Piper here): 3 s of a steady vowel-like tone."""
    t = np.arange(3 * RATE) / RATE
    tone = 3000 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return [coach_clip("Roll your shoulders forward in slow circles.", tone.astype(np.int16))]


def _power_db(x: npt.NDArray[Any]) -> float:
    return 10 * math.log10(float(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def _by_name(clips: list[Clip]) -> dict[str, Clip]:
    return {c.name: c for c in clips}


def test_unavailable_without_the_recordings_says_where(tmp_path: Path) -> None:
    reason = hc.unavailable(tmp_path)
    assert reason is not None and str(tmp_path / "audio" / "human") in reason
    with pytest.raises(FileNotFoundError, match="human recordings"):
        hc.build(tmp_path)


def test_bare_start_is_left_out_and_sources_are_named(
    shared: Path, recordings: list[hc.Recording]
) -> None:
    rows = hc.manifest_rows(shared)
    assert any(r.label == "start" for r in rows)
    assert not any(r.label == "start" for r in recordings)
    assert len(recordings) == sum(r.label != "start" for r in rows)
    assert {r.source for r in recordings} == {"an4", "speech_commands", "wuw", "asterisk"}
    assert {r.command for r in recordings} == {None, "stop", "repeat", "help", "pause"}
    assert hc.source_name("github:cmusphinx/an4@b567d1") == "an4"
    assert hc.source_name("debian:asterisk-core-sounds-en-wav=1.6.1-1") == "asterisk"


def test_every_condition_is_built_and_over_coach_holds_stop_and_pause_only(
    shared: Path, few: list[hc.Recording], coach: list[Clip]
) -> None:
    corpus = hc.build(shared, few, coach=coach)
    clips = corpus.positives + corpus.negatives
    assert {c.condition for c in clips} == set(hc.CONDITIONS)
    for c in clips:
        assert c.name.split("@")[1] == c.condition and c.source in {"an4", "wuw", "speech_commands"}
        assert 0 < c.speech_end_s < len(c.pcm) / RATE
    over = [c for c in clips if c.condition == BARGE_IN]
    assert sorted(c.name for c in over) == sorted(f"{r.name}@{BARGE_IN}" for r in few[:2])
    assert all(c.command == "stop" and c.coach_text and c.coach_pcm is not None for c in over)
    assert len(corpus.negatives) == 2 * (len(hc.CONDITIONS) - 1)
    assert corpus.coach == [coach[0].coach_text]


def test_over_coach_words_are_as_loud_as_the_coach_plays_and_its_echo_goes_on(
    shared: Path, few: list[hc.Recording], coach: list[Clip]
) -> None:
    """A recording's level is its source's gain: over the coach the words are put at the
    level the coach's voice is played at, so they stand ECHO_GAIN (12 dB) out of its echo.
    A sentence of the coach's comes before (here the one sentence there is, twice)."""
    from skill.tools.audio_mix import loud_power

    over = hc.build(shared, few[:2], (BARGE_IN,), coach, hiss_rms=0).positives
    before = len(coach[0].pcm)
    echo = np.tile(coach[0].pcm.astype(np.float64), 2)
    start = before + int((0.3 + 0.6) * RATE)
    for clip in over:
        assert len(clip.pcm) == len(echo)
        assert clip.coach_until_s == before / RATE + coach[0].speech_end_s
        words = clip.pcm.astype(np.float64) - echo
        assert not words[:start].any()
        said = words[start : int(clip.speech_end_s * RATE)]
        level = 10 * math.log10(loud_power(said) / loud_power(coach[0].coach_pcm))
        assert abs(level) < 0.5, (clip.name, level)


def test_recorded_is_the_clip_itself_between_quiet_lead_and_tail(
    shared: Path, few: list[hc.Recording]
) -> None:
    from skill.tools.audio_mix import read_wav

    rec = few[0]
    clip = hc.build(shared, [rec], ("recorded",), hiss_rms=0).positives[0]
    raw = read_wav(rec.path)
    lead = int(0.5 * RATE)
    assert np.array_equal(clip.pcm[lead : lead + len(raw)], raw)
    assert not clip.pcm[:lead].any() and len(clip.pcm) == lead + len(raw) + int(1.2 * RATE)
    assert clip.speech_end_s == pytest.approx(0.5 + loud_span(raw)[1] / RATE)


def test_noise_is_mixed_at_its_snr_over_the_speech_and_goes_on_after_it(
    shared: Path, few: list[hc.Recording]
) -> None:
    built = hc.build(shared, few[:3], ("recorded", *NOISY), hiss_rms=0).positives
    clips = _by_name(built)
    for rec in few[:3]:
        clean = clips[f"{rec.name}@recorded"].pcm.astype(np.float64)
        level = np.abs(clean)
        speech = clean[level > LOUD * level.max()]
        for condition in NOISY:
            mixed = clips[f"{rec.name}@{condition}"]
            assert len(mixed.pcm) / RATE >= mixed.speech_end_s + 3.5 - 1 / RATE
            noise = mixed.pcm.astype(np.float64)
            noise[: len(clean)] -= clean
            snr = _power_db(speech) - _power_db(noise)
            target = float(condition[-4:-2])
            assert abs(snr - target) < 0.5, (rec.name, condition, snr)


def test_quieter_is_10_db_down_over_the_same_hiss(shared: Path, few: list[hc.Recording]) -> None:
    conditions = ("recorded", "quieter10db")
    bare = _by_name(hc.build(shared, few[:2], conditions, hiss_rms=0).positives)
    hissed = _by_name(hc.build(shared, few[:2], conditions).positives)
    for rec in few[:2]:
        loud, quiet = bare[f"{rec.name}@recorded"].pcm, bare[f"{rec.name}@quieter10db"].pcm
        assert _power_db(quiet) - _power_db(loud) == pytest.approx(-10.0, abs=0.05)
        hiss = hissed[f"{rec.name}@recorded"].pcm.astype(np.int32) - loud
        assert float(np.sqrt(np.mean(hiss.astype(np.float64) ** 2))) == pytest.approx(20, rel=0.05)
        quiet_hiss = hissed[f"{rec.name}@quieter10db"].pcm.astype(np.int32) - quiet
        assert np.abs(quiet_hiss - hiss).max() <= 1  # the same hiss, rounded


def test_two_builds_are_identical(shared: Path, few: list[hc.Recording], coach: list[Clip]) -> None:
    one = hc.build(shared, few, coach=coach)
    two = hc.build(shared, few, coach=coach)
    for a, b in zip(one.positives + one.negatives, two.positives + two.negatives, strict=True):
        assert a.name == b.name and np.array_equal(a.pcm, b.pcm)
        assert (a.speech_end_s, a.coach_text, a.source) == (b.speech_end_s, b.coach_text, b.source)
    # the hiss is no digital silence, and differs between recordings
    lead = [c.pcm[: int(0.5 * RATE)] for c in one.negatives if c.condition == "recorded"]
    assert all(part.std() > 10 for part in lead) and not np.array_equal(lead[0], lead[1])


def test_command_sample_keeps_every_command_and_spreads_the_rest(
    recordings: list[hc.Recording],
) -> None:
    sample = hc.command_sample(recordings, 60)
    commands = [r for r in recordings if r.command is not None]
    assert sample[: len(commands)] == commands
    others = sample[len(commands) :]
    assert len(others) == 60 and all(r.command is None for r in others)
    assert len({r.source for r in others}) >= 3  # spread over the manifest, not its start


def _outcome(name: str, command: str | None, heard: str | None, source: str) -> Outcome:
    pcm = np.zeros(9 * RATE, dtype=np.int16)
    clip = Clip(name, pcm, command, {}, source, name.split("@")[1], speech_end_s=1.0)
    hearings = [] if heard is None else [Hearing(heard, Command(heard), 0.9, "test", True, "")]
    return Outcome(clip, hearings, 250.0 if heard else None, 0.01)


def test_summary_counts_false_accepts_per_hour_and_wrong_commands() -> None:
    positives = [
        _outcome("a@recorded", "stop", "stop", "an4"),
        _outcome("b@recorded", "stop", "help", "an4"),  # wrong
        _outcome("b@kitchen20db", "stop", None, "an4"),  # missed
    ]
    negatives = [
        _outcome("c@recorded", None, "next", "wuw"),  # false accept
        _outcome("c@kitchen20db", None, None, "wuw"),
    ]
    summary = hc.human_summary(positives, negatives)
    overall = summary["overall"]
    assert overall["command_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert overall["false_accepts"] == 1 and overall["wrong_commands"] == 1
    assert overall["false_accepts_per_hour"] == pytest.approx(1 / (18 / 3600), rel=1e-3)
    assert summary["false_accept_clips"] == ["c@recorded -> next"]
    assert summary["wrong_command_clips"] == ["b@recorded -> help"]
    assert list(summary["by_condition"]) == ["recorded", "kitchen20db"]
    assert summary["by_condition"]["kitchen20db"]["command_accuracy"] == 0.0
    assert summary["by_source"]["wuw"] == {
        "command_accuracy": None,
        "false_accepts": 1,
        "positives": 0,
        "negatives": 2,
    }
    metrics = hc.human_metrics(summary)
    assert metrics["human_stop_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["human_command_accuracy_kitchen20db"] == 0.0
    assert metrics["human_command_latency_ms_p50"] == 250.0


@pytest.mark.slow
def test_human_summary_through_the_real_engine_has_every_figure(
    shared: Path, few: list[hc.Recording], coach: list[Clip]
) -> None:
    from skill.library.loader import load_library
    from skill.speech_in.recognizer import open_engine

    library = load_library().library
    engine = open_engine(library, None, logging.getLogger("test"))
    corpus = hc.build(shared, few, ("recorded", "kitchen10db", BARGE_IN), coach)
    summary = hc.evaluate(engine, corpus)
    overall = summary["overall"]
    assert overall["positives"] == 3 + 3 + 2 and overall["negatives"] == 2 + 2
    assert list(summary["by_condition"]) == ["recorded", "kitchen10db", BARGE_IN]
    assert set(summary["by_source"]) == {r.source for r in few}
    assert overall["wall_rtf"] > 0 and overall["wall_s"] > 0
    for section in (overall, *summary["by_condition"].values()):
        assert 0.0 <= section["command_accuracy"] <= 1.0
        assert section["false_accepts"] == len(section["false_accept_clips"])
        assert section["wrong_commands"] == len(section["wrong_command_clips"])
    metrics = hc.human_metrics(summary)
    for name in (
        "human_command_accuracy",
        "human_command_accuracy_recorded",
        "human_command_accuracy_kitchen10db",
        "human_command_accuracy_over_coach",
        "human_false_accepts",
        "human_false_accepts_per_hour",
        "human_wrong_commands",
        "human_stop_accuracy",
        "human_repeat_accuracy",
    ):
        value = metrics[name]
        assert isinstance(value, int | float) and math.isfinite(value), (name, value)
    latency = metrics["human_command_latency_ms_p95"]
    assert latency is None or math.isfinite(latency)
