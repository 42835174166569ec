"""What the fallback judges is cut from the words themselves (asr_sphinx.speech_cut): the same
samples whatever silence comes before them, to the sample; and it is judged over a noise floor
no lower than a set distance under the words (asr_sphinx.floor_below_peak)."""

from __future__ import annotations

import numpy as np
import pytest

from skill.speech_in.asr_sphinx import CUT_WINDOW_S, cut_out, floor_below_peak, speech_cut

RATE = 16000


def word(seconds: float = 0.4, seed: int = 3) -> np.ndarray:
    """A loud burst with a soft onset and tail, like a spoken word."""
    t = np.arange(int(seconds * RATE))
    envelope = np.sin(np.pi * t / len(t)) ** 2
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return np.round(8000 * envelope * noise).astype(np.int16)


def framed(lead: int, speech: np.ndarray, tail: int = 4000) -> np.ndarray:
    return np.concatenate([np.zeros(lead, np.int16), speech, np.zeros(tail, np.int16)])


def test_the_cut_moves_with_the_words_sample_by_sample() -> None:
    speech = word()
    first = speech_cut(framed(0, speech), 35.0, 0.15)
    for lead in (1, 7, 479, 4801, 16000):
        start, end = speech_cut(framed(lead, speech), 35.0, 0.15)
        assert (start - lead, end - lead) == first


def test_the_same_words_give_the_same_samples_with_any_silence_before_them() -> None:
    speech = word()
    cuts = []
    for lead in (0, 300, 2400, 16001):
        pcm = framed(lead, speech)
        cuts.append(cut_out(pcm, *speech_cut(pcm, 35.0, 0.15)))
    assert all(np.array_equal(cuts[0], cut) for cut in cuts[1:])
    assert len(cuts[0]) >= len(speech)  # the soft edges are inside, with the padding


def test_a_quiet_hiss_far_below_the_words_moves_the_cut_by_a_fraction_of_a_millisecond() -> None:
    speech = framed(8000, word())
    clean = speech_cut(speech, 35.0, 0.15)
    for rms in (10.0, 30.0):  # about -70 and -60 dBFS
        hiss = np.random.default_rng(1).standard_normal(len(speech)) * rms
        noisy = speech_cut(np.round(speech + hiss).astype(np.int16), 35.0, 0.15)
        assert max(abs(a - b) for a, b in zip(noisy, clean, strict=True)) <= RATE // 1000


def test_the_cut_reaches_outside_the_audio_as_silence() -> None:
    speech = word()
    start, end = speech_cut(speech, 35.0, 0.15)
    assert start < 0 < len(speech) < end
    cut = cut_out(speech, start, end)
    assert len(cut) == end - start
    assert not cut[:-start].any() and not cut[len(speech) - start :].any()


def window_db(pcm: np.ndarray) -> np.ndarray:
    """Power of every 10 ms window (the cut's), in dB."""
    n = round(CUT_WINDOW_S * RATE)
    squares = np.concatenate([[0.0], np.cumsum(pcm.astype(np.float64) ** 2)])
    return 10 * np.log10((squares[n:] - squares[:-n]) / n + 1e-9)


def test_a_floor_far_under_the_words_is_lifted_to_the_set_distance() -> None:
    speech = framed(8000, word(), 8000)  # digital silence around the word
    lifted = floor_below_peak(speech, 50.0)
    levels = window_db(lifted)
    assert np.percentile(levels, 10) == pytest.approx(levels.max() - 50.0, abs=1.0)
    assert window_db(speech).max() == pytest.approx(levels.max(), abs=0.01)  # the words stay
    assert np.array_equal(lifted, floor_below_peak(speech, 50.0))  # the same noise each time


def test_a_floor_already_that_high_is_left_as_it_is() -> None:
    speech = framed(8000, word(), 8000)
    room = np.random.default_rng(2).standard_normal(len(speech)) * 8000 / 10 ** (30 / 20)
    over_a_room = np.round(speech + room).astype(np.int16)  # the room 30 dB under the words
    assert np.array_equal(floor_below_peak(over_a_room, 50.0), over_a_room)


def test_a_hiss_under_the_set_floor_leaves_the_judged_floor_where_it_was() -> None:
    """Over no hiss, -70 or -64 dBFS (a quiet microphone), a word peaking at -11 dBFS is
    judged over the same floor, 50 dB under it (to 0.5 dB)."""
    speech = framed(8000, word(), 8000)
    floors = []
    for rms in (0.0, 10.0, 20.0):
        hiss = np.random.default_rng(1).standard_normal(len(speech)) * rms
        heard = np.round(speech + hiss).astype(np.int16)
        floors.append(np.percentile(window_db(floor_below_peak(heard, 50.0)), 10))
    assert max(floors) - min(floors) <= 0.5, floors
