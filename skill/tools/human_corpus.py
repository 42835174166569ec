"""The benchmark's human set: real people's recordings as the coach's microphone would hear them.

`../shared/audio/human/MANIFEST.csv` lists 426 clips of real people (four sources: CMU AN4,
Google Speech Commands, WUW phone calls, Asterisk prompts). `expected` is the command the
coach must act on (stop, repeat, help, pause) or `none`: then nothing may happen. A bare
"start" counts as neither right nor wrong (it is a command only where the engine's grammar
has one), so those clips are left out of both sets.

Every clip is built in each condition (CONDITIONS): as recorded, over the kitchen and the
exercise bike at 20 and 10 dB SNR, 10 dB quieter, and (stop and pause only) said 0.6 s into
the coach's echo. Every stream lies over a quiet microphone's hiss, seeded by the
recording's name, so two builds are identical. The coach's sentences are rendered with the
product's Piper voice without synthesis noise and cached on disk, keyed by the text, the
voice and the piper-tts version. The recordings are read where they are, never copied.
"""

from __future__ import annotations

import csv
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.core.intents import BARGE_IN_COMMANDS, FIXED_PHRASES
from skill.tools.asr_eval import BARGE_IN, Clip, Outcome, run_clip, summarize
from skill.tools.audio_mix import (
    LEAD_S,
    MIC_HISS_RMS,
    RATE,
    TAIL_S,
    barge_in_versions,
    cached,
    coach_clip,
    loud_span,
    noisy,
    quieter,
    read_wav,
    resample,
    silence,
    with_hiss,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.core.exercise import Library
    from skill.speech_in.asr import Engine
    from skill.speech_out.voice import Voice

REPO = Path(__file__).resolve().parents[2]
COACH_CACHE = REPO / ".cache" / "human-coach"  # rendered coach sentences (not the recordings)
CACHE_VERSION = "1"
HUMAN_DIR = Path("audio") / "human"
NOISE_DIR = Path("audio") / "noise"
NOISES = {"kitchen": "doing_the_dishes.wav", "bike": "exercise_bike.wav"}
# condition -> (noise, SNR dB) / (speech this many dB quieter)
NOISY = {
    "kitchen20db": ("kitchen", 20.0),
    "kitchen10db": ("kitchen", 10.0),
    "bike20db": ("bike", 20.0),
    "bike10db": ("bike", 10.0),
}
QUIETER = {"quieter10db": 10.0}
CONDITIONS = ("recorded", *NOISY, *QUIETER, BARGE_IN)
LEFT_OUT = frozenset({"start"})  # labels that are neither right nor wrong
# What `source_repo` contains -> the source's short name
SOURCES = (
    ("an4", "an4"),
    ("speech-commands", "speech_commands"),
    ("wuw", "wuw"),
    ("asterisk", "asterisk"),
)
COACH_SENTENCES = 8
COACH_CHARS = (50, 110)  # about 3 to 7 s spoken: room for a command 0.6 s in


@dataclass(frozen=True)
class Recording:
    """One manifest row. command None: nothing may be accepted."""

    name: str  # the file's stem, unique in the manifest
    path: Path
    label: str
    command: str | None
    kind: str  # command / short / sentence
    transcript: str
    source: str  # an4 / speech_commands / wuw / asterisk
    speaker: str
    seconds: float


@dataclass(frozen=True)
class HumanCorpus:
    positives: list[Clip]
    negatives: list[Clip]
    recordings: list[Recording]
    coach: list[str]  # the coach sentences the over_coach clips are spoken into


def unavailable(shared: Path) -> str | None:
    """Why the human set cannot be built from `shared`, or None when it can."""
    manifest = shared / HUMAN_DIR / "MANIFEST.csv"
    if not manifest.is_file():
        return f"needs the human recordings at {manifest.parent} (set STRETCH_COACH_SHARED)"
    missing = [n for n in NOISES.values() if not (shared / NOISE_DIR / n).is_file()]
    if missing:
        return f"needs the noise recordings {', '.join(missing)} in {shared / NOISE_DIR}"
    return None


def source_name(source_repo: str) -> str:
    """The short name of a manifest row's source ("github:cmusphinx/an4@..." -> "an4")."""
    lowered = source_repo.lower()
    for needle, name in SOURCES:
        if needle in lowered:
            return name
    return lowered.split(":")[-1].split("@")[0].split("=")[0].replace("/", "_") or "unknown"


def read_manifest(shared: Path) -> list[Recording]:
    """The manifest's rows in order, bare "start" left out."""
    return [rec for rec in manifest_rows(shared) if rec.label not in LEFT_OUT]


def manifest_rows(shared: Path) -> list[Recording]:
    """Every row of the manifest in order (read_manifest leaves out what counts for nothing)."""
    folder = shared / HUMAN_DIR
    with (folder / "MANIFEST.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        Recording(
            name=Path(row["path"]).stem,
            path=folder / row["path"],
            label=row["label"],
            command=None if row["expected"] == "none" else row["expected"],
            kind=row["kind"],
            transcript=row["transcript"],
            source=source_name(row["source_repo"]),
            speaker=row["speaker_hint"],
            seconds=float(row["seconds"]),
        )
        for row in rows
    ]


def recorded(rec: Recording, pcm: npt.NDArray[np.int16]) -> Clip:
    """The recording untouched, LEAD_S of quiet before and TAIL_S after (no hiss yet); the
    speech ends where its loud part does (the recording's own trailing quiet is not speech)."""
    import numpy as np

    stream = np.concatenate([silence(LEAD_S), pcm, silence(TAIL_S)])
    end = LEAD_S + loud_span(pcm)[1] / RATE
    return Clip(rec.name, stream, rec.command, {}, rec.source, "recorded", end)


def in_condition(clip: Clip, condition: str, noises: dict[str, npt.NDArray[np.int16]]) -> Clip:
    """A recorded clip in one of the conditions other than over_coach (no hiss yet)."""
    if condition == "recorded":
        return replace(clip, name=f"{clip.name}@recorded")
    if condition in NOISY:
        noise_name, snr = NOISY[condition]
        noise = noises[noise_name]
        offset = zlib.crc32(clip.name.encode()) % len(noise)
        return noisy(clip, noise, snr, offset, condition)
    if condition in QUIETER:
        return quieter(clip, QUIETER[condition], condition)
    raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")


def coach_sentences(library: Library, count: int = COACH_SENTENCES) -> list[str]:
    """An even sample of the coach's own sentences that are long enough for a command 0.6 s
    in and say none of the barge-in words (where the echo gate blocks them on purpose)."""
    from skill.core.phrases import all_phrases
    from skill.speech_in.recognizer import stems

    barge_in = stems(" ".join(p for p, c in FIXED_PHRASES.items() if c in BARGE_IN_COMMANDS))
    low, high = COACH_CHARS
    fits = sorted(s for s in all_phrases(library) if low <= len(s) <= high)
    fits = [s for s in fits if not stems(s) & barge_in]
    step = max(1, len(fits) // max(1, count))
    return fits[::step][:count]


def render_coach(voice: Voice, text: str) -> npt.NDArray[np.int16]:
    """The sentence in the product's voice at 16 kHz, without synthesis noise (deterministic)."""
    import numpy as np

    quiet = voice.variant(voice.length_scale, noise_scale=0.0, noise_w_scale=0.0)
    return resample(quiet.synthesize(text).astype(np.float32), voice.sample_rate)


def coach_clips(voice: Voice, sentences: Iterable[str], cache: Path = COACH_CACHE) -> list[Clip]:
    """The coach's sentences as the microphone hears them (skill.tools.audio_mix.coach_clip)."""
    from importlib.metadata import version

    piper = version("piper-tts")
    clips = []
    for text in sentences:
        key = f"{CACHE_VERSION}|{text}|piper-tts {piper}|{voice.key}|{voice.length_scale}|0|0"
        clips.append(coach_clip(text, cached(cache, key, partial(render_coach, voice, text))))
    return clips


def build(
    shared: Path,
    recordings: Sequence[Recording] | None = None,
    conditions: Sequence[str] = CONDITIONS,
    coach: Sequence[Clip] = (),
    hiss_rms: float = MIC_HISS_RMS,
) -> HumanCorpus:
    """Every recording (default: the whole manifest) in every condition, over the hiss.

    over_coach needs `coach` (coach_clips) and holds the stop and pause commands only; it
    has no negatives. Positives and negatives are in manifest order, condition by condition.
    """
    reason = unavailable(shared)
    if reason:
        raise FileNotFoundError(reason)
    recs = list(read_manifest(shared) if recordings is None else recordings)
    noises = {k: read_wav(shared / NOISE_DIR / v) for k, v in NOISES.items()}
    base = [recorded(rec, read_wav(rec.path)) for rec in recs]
    said = {rec.name: rec.transcript for rec in recs}
    clips: list[Clip] = []
    for condition in conditions:
        if condition == BARGE_IN:
            urgent = [c for c in base if c.command in BARGE_IN_COMMANDS]
            clips += barge_in_versions(urgent, coach, lambda c: said[c.name], as_loud_as_coach=True)
        else:
            clips += [in_condition(c, condition, noises) for c in base]
    # Seeded by the recording's name: every condition of a clip has the same hiss.
    hissed = [with_hiss(c, hiss_rms, seed=c.name.split("@")[0]) for c in clips]
    return HumanCorpus(
        positives=[c for c in hissed if c.command is not None],
        negatives=[c for c in hissed if c.command is None],
        recordings=recs,
        coach=[c.coach_text for c in coach],
    )


def command_sample(recordings: Sequence[Recording], negatives: int) -> list[Recording]:
    """Every command recording plus an even sample of `negatives` others (manifest order)."""
    commands = [r for r in recordings if r.command is not None]
    others = [r for r in recordings if r.command is None]
    step = max(1.0, len(others) / max(1, negatives))
    picked = {int(i * step) for i in range(min(negatives, len(others)))}
    return commands + [r for i, r in enumerate(others) if i in picked]


# --- the numbers -------------------------------------------------------------------------


def _section(positives: Sequence[Outcome], negatives: Sequence[Outcome]) -> dict[str, Any]:
    s = summarize(positives, negatives)
    hours = s["negative_audio_s"] / 3600
    return {
        "command_accuracy": s["command_accuracy"] if positives else None,
        "command_accuracy_by_command": s["command_accuracy_by_command"],
        "command_accuracy_by_source": s["command_accuracy_by_source"],
        "false_accepts": s["false_accepts"],
        "false_accepts_per_hour": round(s["false_accepts"] / hours, 2) if hours else None,
        "false_accepts_by_source": s["false_accepts_by_source"],
        "wrong_commands": s["wrong_commands"],
        "command_latency_ms_p50": s["command_latency_ms_p50"],
        "command_latency_ms_p95": s["command_latency_ms_p95"],
        "positives": s["positives"],
        "negatives": s["negatives"],
        "negative_hours": round(hours, 3),
        "audio_s": s["audio_s"],
        "asr_rtf": s["asr_rtf"],
        "false_accept_clips": s["false_accept_clips"],
        "wrong_command_clips": s["wrong_command_clips"],
    }


def human_summary(
    positives: Sequence[Outcome], negatives: Sequence[Outcome], wall_s: float | None = None
) -> dict[str, Any]:
    """Overall, per condition and per source: accuracy (and per command), false accepts (and
    per hour of the negatives' streamed audio), wrong commands, latency, and the clips that
    went wrong with what was heard (`name@condition -> heard`). `wall_s`: how long the run
    took, for the real-time factor on the wall clock (`wall_rtf`)."""
    overall = _section(positives, negatives)
    by_condition: dict[str, tuple[list[Outcome], list[Outcome]]] = defaultdict(lambda: ([], []))
    by_source: dict[str, tuple[list[Outcome], list[Outcome]]] = defaultdict(lambda: ([], []))
    for is_positive, outcomes in ((True, positives), (False, negatives)):
        for o in outcomes:
            by_condition[o.clip.condition][0 if is_positive else 1].append(o)
            by_source[o.clip.source][0 if is_positive else 1].append(o)
    order = {c: i for i, c in enumerate(CONDITIONS)}
    conditions = sorted(by_condition, key=lambda c: (order.get(c, len(order)), c))
    if wall_s is not None:
        overall["wall_s"] = round(wall_s, 1)
        overall["wall_rtf"] = round(wall_s / max(overall["audio_s"], 1e-9), 4)
    return {
        "overall": overall,
        "by_condition": {c: _section(*by_condition[c]) for c in conditions},
        "by_source": {
            src: {
                k: v
                for k, v in _section(*by_source[src]).items()
                if k in ("command_accuracy", "false_accepts", "positives", "negatives")
            }
            for src in sorted(by_source)
        },
        "false_accept_clips": overall["false_accept_clips"],
        "wrong_command_clips": overall["wrong_command_clips"],
    }


def human_metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The benchmark's flat `human_*` numbers from human_summary's result."""
    overall = summary["overall"]
    metrics: dict[str, float | None] = {"human_command_accuracy": overall["command_accuracy"]}
    for condition, section in summary["by_condition"].items():
        metrics[f"human_command_accuracy_{condition}"] = section["command_accuracy"]
    metrics |= {
        "human_false_accepts": overall["false_accepts"],
        "human_false_accepts_per_hour": overall["false_accepts_per_hour"],
        "human_wrong_commands": overall["wrong_commands"],
        "human_command_latency_ms_p50": overall["command_latency_ms_p50"],
        "human_command_latency_ms_p95": overall["command_latency_ms_p95"],
    }
    for command, accuracy in overall["command_accuracy_by_command"].items():
        metrics[f"human_{command}_accuracy"] = accuracy
    metrics |= {
        "human_positive_clips": overall["positives"],
        "human_negative_clips": overall["negatives"],
        "human_asr_rtf": overall["asr_rtf"],
    }
    return metrics


def evaluate(engine: Engine, corpus: HumanCorpus) -> dict[str, Any]:
    """Every clip through one engine (reset between clips), positives first; human_summary."""
    import time

    began = time.monotonic()
    positives = [run_clip(engine, c) for c in corpus.positives]
    negatives = [run_clip(engine, c) for c in corpus.negatives]
    return human_summary(positives, negatives, time.monotonic() - began)
