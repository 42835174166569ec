"""What the fallback judges is cut from the words themselves (skill.speech_in.speech_cut): the same
samples whatever silence comes before them, to the sample."""

from __future__ import annotations

import numpy as np

from skill.speech_in.speech_cut import cut_out, speech_cut

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
