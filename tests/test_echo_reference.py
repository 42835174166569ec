"""Telling the person from the coach's echo by what the speaker plays (speech_in.echo_reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skill.speech_in.echo_reference import EchoReference, frame_levels

HISS_DB = 26.0  # a quiet microphone's own noise, in frame_db units
SYLLABLES = [70.0, 75.0, 80.0, 72.0, 60.0, 40.0, 65.0, 78.0, 70.0, 50.0, 20.0, 20.0]
PLAYED = [0.0] * 5 + SYLLABLES * 8  # about 3 s of speech-like levels after a short silence


def add_db(*levels: float) -> float:
    """Levels add as powers."""
    return 10 * math.log10(sum(10 ** (x / 10) for x in levels))


def echo_at_mic(delay: int, coupling_db: float) -> list[float]:
    """The microphone's frames: the played levels `delay` frames late and `coupling_db` down."""
    late = [0.0] * delay + PLAYED
    return [add_db(HISS_DB, level + coupling_db) if level else HISS_DB for level in late]


def judge(ref: EchoReference, mic: list[float]) -> list[bool | None]:
    ref.play(PLAYED, 0)
    return [ref.person(level, frame) for frame, level in enumerate(mic)]


@pytest.mark.parametrize("delay", [0, 2, 4, 6])  # up to 0.18 s of output latency
@pytest.mark.parametrize("coupling_db", [-20.0, -12.0, 0.0])
def test_the_coachs_echo_alone_is_never_the_person(delay: int, coupling_db: float) -> None:
    """Measured before the fix: with the echo 0.1 s late, frames before it arrived taught a
    coupling 30 dB too low, and 25 of 352 coach sentences became commands."""
    verdicts = judge(EchoReference(), echo_at_mic(delay, coupling_db))
    assert True not in verdicts


@pytest.mark.parametrize("delay", [0, 3])
def test_the_person_talking_over_the_echo_is_found(delay: int) -> None:
    mic = echo_at_mic(delay, -12.0)
    words = range(40, 55)  # 0.45 s of the person, 1.2 s into the sentence
    for frame in words:
        mic[frame] = add_db(mic[frame], 80.0)  # a voice as loud as the coach's loudest
    verdicts = judge(EchoReference(), mic)
    assert sum(verdicts[frame] is True for frame in words) >= 12, verdicts[35:60]
    assert True not in verdicts[:40] + verdicts[60:]


def test_with_nothing_playing_the_usual_test_decides() -> None:
    ref = EchoReference()
    assert ref.person(70.0, 0) is None
    ref.play(PLAYED, 0)
    assert ref.person(HISS_DB, 10) is False  # playing, coupling not learned yet
    ref.stop(50)
    assert ref.person(HISS_DB, 55) is False  # the echo still rings for `lookback` frames
    assert ref.person(70.0, 50 + ref.lookback + 1) is None


def test_frame_levels_of_played_audio() -> None:
    rate = 22050
    t = np.arange(rate) / rate
    tone = (10000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    audio = np.concatenate([np.zeros(rate, dtype=np.int16), tone])
    levels = frame_levels(audio, rate, 0.03)
    assert len(levels) == 66  # 2 s in 30 ms frames
    assert levels[0] == 0.0  # digital silence
    assert levels[-1] == pytest.approx(10 * math.log10(10000**2 / 2), abs=0.5)


def test_the_spans_in_seconds_are_the_frame_counts_they_were() -> None:
    ref = EchoReference()
    assert (ref.lookback, ref.max_delay, ref.lookahead, ref.min_history) == (12, 7, 4, 30)
    assert ref._history.maxlen == 300
