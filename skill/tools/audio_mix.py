"""Test streams from recordings: framing, noise at an SNR, a microphone's hiss, the coach's echo.

Pure and deterministic (the same input gives the same samples on every run): the benchmark's
human set (tools.human_corpus) and the synthetic corpus (tools.speech_corpus) build
their clips with these, so both measure the engine over the same kind of room. Everything is
16 kHz mono int16, as the recognizers take it.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from skill.speech_in.asr import SAMPLE_RATE
from skill.tools.asr_eval import BARGE_IN, Clip

if TYPE_CHECKING:
    import numpy.typing as npt

    Pcm = npt.NDArray[np.int16]

RATE = SAMPLE_RATE
LEAD_S = 0.5  # silence (or noise) before a command, as in a live stream
TAIL_S = 1.2  # after it, long enough for any endpointer
MIC_HISS_RMS = 20.0  # about -64 dBFS: a quiet USB microphone in a quiet room
NOISY_TAIL_S = 3.5  # noise after the words: longer than the longest segment the engine keeps
LOUD = 0.02  # of the peak: quieter samples are not the speech's loud part
LEAD_COACH_S = 0.3  # silence before a coach sentence
COACH_TAIL_S = 0.8  # after it
ECHO_GAIN = 0.25  # the coach's voice reaches the microphone about 12 dB down (as in the demo)
BARGE_IN_AT_S = 0.6  # a barge-in command starts this far into the coach's sentence
# The microphone hears what the speaker was told to play this much later (output buffers):
# the recognizer's reference of the coach's audio runs ahead of the echo.
ECHO_DELAY_S = 0.1
ECHO_RT60_S = 0.4  # a furnished living room's reverberation time


def pcm16(audio: npt.ArrayLike) -> Pcm:
    """Samples rounded and clipped to 16 bits, after mixing or filtering."""
    return np.clip(np.round(np.asarray(audio)), -32768, 32767).astype(np.int16)


def resample(audio: npt.NDArray[np.float32], rate: int, to: int = RATE) -> Pcm:
    import soxr

    return pcm16(audio if rate == to else soxr.resample(audio, rate, to))


def read_wav(path: Path) -> Pcm:
    """Any 16-bit WAV (rate, channels) as 16 kHz mono int16."""
    from skill.hardware.wav import read_wav as read_mono

    data, rate = read_mono(path)
    return resample(data.astype(np.float32), rate)


def write_wav(path: Path, pcm: Pcm) -> None:
    from skill.hardware.wav import write_wav as write_mono

    path.parent.mkdir(parents=True, exist_ok=True)
    write_mono(path, pcm, RATE)


def cached(cache: Path, key: str, render: Callable[[], Pcm]) -> Pcm:
    """The WAV for `key` (everything that shapes the audio) from the cache, rendering it once."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    path = cache / f"{digest}.wav"
    if not path.is_file():
        write_wav(path, render())
    return read_wav(path)


def loud_span(pcm: Pcm, threshold: float = LOUD) -> tuple[int, int]:
    """[first, last + 1) of the samples above `threshold` of the peak (all of it when silent)."""
    level = np.abs(pcm.astype(np.float32))
    loud = np.flatnonzero(level > threshold * max(float(level.max()), 1.0))
    return (0, len(pcm)) if loud.size == 0 else (int(loud[0]), int(loud[-1]) + 1)


def trim(pcm: Pcm, threshold: float = LOUD) -> Pcm:
    """Cut leading/trailing near-silence so a clip's speech end is known exactly."""
    first, end = loud_span(pcm, threshold)
    return pcm[first:end]


def silence(seconds: float) -> Pcm:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def framed(speech: Pcm, lead: float = LEAD_S, tail: float = TAIL_S) -> tuple[Pcm, float]:
    """Speech with silence around it, and the stream time where the speech ends."""
    body = trim(speech)
    pcm = np.concatenate([silence(lead), body, silence(tail)])
    return pcm, lead + len(body) / RATE


def loud_power(pcm: npt.NDArray[np.int16] | npt.NDArray[np.float64]) -> float:
    """Mean power of the samples above LOUD of the peak (1.0 when there are none)."""
    speech = pcm.astype(np.float64)
    loud = speech[np.abs(speech) > LOUD * max(np.abs(speech).max(), 1.0)]
    return float(np.mean(loud**2)) if loud.size else 1.0


def mix(pcm: Pcm, noise: Pcm, snr_db: float, offset: int) -> Pcm:
    """Add noise so speech power / noise power = snr_db (speech power over its loud part)."""
    speech = pcm.astype(np.float64)
    p_speech = loud_power(speech)
    reps = int(np.ceil((offset + len(pcm)) / len(noise))) + 1
    segment = np.tile(noise, reps)[offset : offset + len(pcm)].astype(np.float64)
    p_noise = max(float(np.mean(segment**2)), 1e-9)
    gain = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return pcm16(speech + gain * segment)


def noisy(clip: Clip, noise: Pcm, snr_db: float, offset: int, condition: str) -> Clip:
    """The clip mixed with `noise` (from `offset`) at `snr_db`, as `name@condition`.

    The noise goes on for NOISY_TAIL_S after the words, as a room's does: a shorter tail let
    the end of the stream close a segment that the noise would have kept open."""
    tail = max(0, int((clip.speech_end_s + NOISY_TAIL_S) * RATE) - len(clip.pcm))
    pcm = mix(np.concatenate([clip.pcm, silence(tail / RATE)]), noise, snr_db, offset)
    return replace(clip, name=f"{clip.name}@{condition}", pcm=pcm, condition=condition)


def quieter(clip: Clip, drop_db: float, condition: str) -> Clip:
    """The clip `drop_db` quieter, as from a person farther from the microphone (10 dB: about
    three times the distance); hiss added afterwards stays the same."""
    pcm = pcm16(clip.pcm.astype(np.float64) * 10 ** (-drop_db / 20))
    return replace(clip, name=f"{clip.name}@{condition}", pcm=pcm, condition=condition)


def hiss(seed: str, samples: int, rms: float = MIC_HISS_RMS) -> npt.NDArray[np.float64]:
    """A microphone's own faint noise, the same for the same `seed` on every run."""
    return np.random.default_rng(zlib.crc32(seed.encode())).normal(0.0, rms, samples)


def with_hiss(clip: Clip, rms: float = MIC_HISS_RMS, seed: str | None = None) -> Clip:
    """The clip over a microphone's hiss, seeded by `seed` (default: the clip's name).

    A real microphone never delivers digital silence. Measured without this: WebRTC's VAD
    took such hiss for speech now and then, and on it the old endpointer heard nothing."""
    noise = hiss(clip.name if seed is None else seed, len(clip.pcm), rms)
    return replace(clip, pcm=pcm16(clip.pcm + noise))


def room_echo(played: Pcm, rt60_s: float = ECHO_RT60_S) -> Pcm:
    """The played audio ECHO_GAIN down, through a room that rings for `rt60_s` (a direct
    path, then decaying noise: a synthetic impulse response, the same every run)."""
    n = int(rt60_s * RATE)
    rir = np.random.default_rng(7).normal(0.0, 1.0, n) * np.exp(-6.9 * np.arange(n) / n)
    rir[0] = 3.0
    rir *= ECHO_GAIN / np.sqrt(np.sum(rir**2))
    size = len(played) + n
    wet = np.fft.irfft(np.fft.rfft(played, size) * np.fft.rfft(rir, size), size)
    return pcm16(wet[: len(played)])


def played_early(echo: Pcm, delay_s: float = ECHO_DELAY_S) -> Pcm:
    """What the speaker was told to play, given the echo the microphone hears `delay_s` later."""
    n = int(delay_s * RATE)
    return np.concatenate([echo[n:], np.zeros(n, dtype=np.int16)])


def coach_clip(sentence: str, speech: Pcm) -> Clip:
    """The coach saying `sentence` as the microphone hears it (room_echo), ECHO_DELAY_S after
    the speaker was told to play it; nothing may be accepted from it."""
    stream, end = framed(speech, lead=LEAD_COACH_S, tail=COACH_TAIL_S)
    name = f"coach:{sentence[:40]}"
    clip = Clip(name, room_echo(stream), None, {}, "coach", "clean", end, coach_text=sentence)
    return replace(clip, coach_pcm=played_early(stream))


def barge_in_versions(
    commands: Sequence[Clip],
    coach: Sequence[Clip],
    words_of: Callable[[Clip], str],
    into_s: float = BARGE_IN_AT_S,
    as_loud_as_coach: bool = False,
) -> list[Clip]:
    """Each command (`words_of` it: what is said) spoken `into_s` into a coach sentence (its
    echo, from coach_clip) that goes on over all of it, after another sentence of the coach.

    The sentence before: in a session the person cuts into the coach's tenth sentence, not
    its first, and the engine has learnt the coach's echo in the room from the ones before
    (skill.speech_in.echo_reference). Without it each verdict hung on which clips the engine
    happened to hear before it: a change of the coach's sentence list moved the test
    corpus's stop and pause over the coach from 11 to 3 of 13.

    `as_loud_as_coach`: the words are scaled to the level the coach's voice is played at (so
    they reach the microphone ECHO_GAIN louder than its echo), as synthesized commands are
    by nature; a recording's own level says how its source set its gain, not how loud a
    person speaks. Sentences that contain the command's own words are skipped: there the
    echo gate blocks the command on purpose ("Say pause to rest" must not pause)."""
    from skill.speech_in.recognizer import stems

    out: list[Clip] = []
    for i, clip in enumerate(commands):
        words = trim(clip.pcm)
        fits = [
            c
            for c in coach
            if not stems(c.coach_text) & stems(words_of(clip))
            and c.speech_end_s - LEAD_COACH_S > into_s + len(words) / RATE
        ]
        if not fits:
            continue
        # (with one sentence that fits, the coach says it twice)
        over, before = fits[(i * 7) % len(fits)], fits[(i * 7 + 1) % len(fits)]
        assert over.coach_pcm is not None and before.coach_pcm is not None
        gain = 1.0
        if as_loud_as_coach:
            gain = float(np.sqrt(loud_power(over.coach_pcm) / loud_power(words)))
        mixed = np.concatenate([before.pcm, over.pcm]).astype(np.float64)  # the coach's echo
        start = len(before.pcm) + int((LEAD_COACH_S + into_s) * RATE)
        mixed[start : start + len(words)] += words * gain
        out.append(
            replace(
                clip,
                name=f"{clip.name}@{BARGE_IN}",
                pcm=pcm16(mixed),
                condition=BARGE_IN,
                speech_end_s=start / RATE + len(words) / RATE,
                coach_text=f"{before.coach_text} {over.coach_text}",
                coach_until_s=len(before.pcm) / RATE + over.speech_end_s,
                coach_pcm=np.concatenate([before.coach_pcm, over.coach_pcm]),
            )
        )
    return out
