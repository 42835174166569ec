"""Measures a speech engine the way the product uses it: streamed audio, first decision counts.

Each clip is fed in small chunks like a microphone would deliver it, with silence after the
speech. Latency runs from where the words end in the stream to when the engine has finished
the chunk that decided, on a real-time clock: a chunk is handled once it has arrived and the
engine is free, so a slow decode also delays the decisions after it. Missing a command and
inventing one are counted separately, because inventing one (a false accept) is the failure
that makes the coach unusable.

The coach's own sentences go through the echo gate the service uses (it knows what the
coach is saying and until when), because that is how the product hears them; what the
engine alone would have accepted is reported beside it, as `selftrigger_ungated_*`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skill.core.intents import BARGE_IN_COMMANDS
from skill.speech_in.asr import SAMPLE_RATE, Engine, Hearing

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CHUNK_S = 0.032  # what a sounddevice callback typically hands over
BARGE_IN = "over_coach"  # the condition of commands spoken while the coach talks


@dataclass(frozen=True)
class Clip:
    """One test stream. command None: nothing may be accepted. speech_end_s: where the words end."""

    name: str
    pcm: npt.NDArray[np.int16]
    command: str | None
    args: Mapping[str, str] = field(default_factory=dict)
    source: str = ""  # piper / espeak / human / noise / coach
    condition: str = "clean"  # clean / 20db / 10db (noise) / far10db / far20db / over_coach / noise
    speech_end_s: float = 0.0
    coach_text: str = ""  # what the speaker was playing from the clip's start
    coach_until_s: float | None = None  # when it stopped (None: at speech_end_s, its own words)
    coach_pcm: npt.NDArray[np.int16] | None = None  # what it played, from the clip's start


@dataclass(frozen=True)
class Outcome:
    clip: Clip
    accepted: list[Hearing]  # hearings that carried a command, after the echo gate
    latency_ms: float | None  # of the first accepted hearing
    cpu_s: float
    ungated: list[Hearing] = field(default_factory=list)  # what the engine alone accepted

    @property
    def first(self) -> Hearing | None:
        return self.accepted[0] if self.accepted else None

    @property
    def correct(self) -> bool:
        """The first command is the expected one, and nothing else was accepted after it."""
        if self.clip.command is None:
            return not self.accepted
        return bool(self.accepted) and all(_matches(h, self.clip) for h in self.accepted)


def _matches(hearing: Hearing, clip: Clip) -> bool:
    cmd = hearing.command
    return cmd is not None and cmd.name == clip.command and dict(cmd.args) == dict(clip.args)


def run_clip(engine: Engine, clip: Clip, chunk_s: float = CHUNK_S) -> Outcome:
    """Feed one clip to a freshly reset engine, chunk by chunk, then flush."""
    from skill.speech_in.recognizer import Listening

    engine.reset()
    listening = Listening(engine)
    playing = bool(clip.coach_text)  # the coach's sentence plays from the clip's start
    coach_until = clip.speech_end_s if clip.coach_until_s is None else clip.coach_until_s
    if playing:
        played = None if clip.coach_pcm is None else (clip.coach_pcm, SAMPLE_RATE)
        listening.coach(clip.coach_text, played, at_s=0.0)
    step = max(1, int(chunk_s * SAMPLE_RATE))
    accepted: list[Hearing] = []
    ungated: list[Hearing] = []
    latency: float | None = None
    busy_until = 0.0  # stream time when the engine finished the chunks given so far
    cpu0 = time.process_time()
    starts = range(0, len(clip.pcm), step)
    for start in [*starts, len(clip.pcm)]:  # the last pass flushes
        if playing and start / SAMPLE_RATE >= coach_until:
            listening.coach(None, at_s=coach_until)
            playing = False
        chunk = clip.pcm[start : start + step]
        t0 = time.perf_counter()
        hearings = engine.accept(chunk) if start < len(clip.pcm) else engine.flush()
        # Real time: a chunk is handled once it has arrived and the engine is free again,
        # so a slow decode also delays the decisions after it.
        arrived = (start + len(chunk)) / SAMPLE_RATE
        busy_until = max(arrived, busy_until) + time.perf_counter() - t0
        ungated += [h for h in hearings if h.command is not None]
        latency = _collect(listening.check(hearings), accepted, latency, clip, busy_until)
    return Outcome(clip, accepted, latency, time.process_time() - cpu0, ungated)


def _collect(
    hearings: Iterable[Hearing],
    into: list[Hearing],
    latency: float | None,
    clip: Clip,
    done_s: float,
) -> float | None:
    for hearing in hearings:
        if hearing.command is None:
            continue
        if not into:
            latency = (done_s - clip.speech_end_s) * 1000
        into.append(hearing)
    return latency


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 1)


def _accuracy(outcomes: Sequence[Outcome], key: Callable[[Clip], str]) -> dict[str, float]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        groups[key(o.clip)].append(o.correct)
    return {k: round(sum(v) / len(v), 3) for k, v in sorted(groups.items())}


def summarize(positives: Sequence[Outcome], negatives: Sequence[Outcome]) -> dict[str, Any]:
    """The benchmark numbers from per-clip outcomes."""
    latencies = [o.latency_ms for o in positives if o.correct and o.latency_ms is not None]
    urgent = [  # stop and pause: the commands that must not wait
        o.latency_ms
        for o in positives
        if o.correct and o.latency_ms is not None and o.clip.command in BARGE_IN_COMMANDS
    ]
    audio_s = sum(len(o.clip.pcm) for o in (*positives, *negatives)) / SAMPLE_RATE
    negative_s = sum(len(o.clip.pcm) for o in negatives) / SAMPLE_RATE
    cpu_s = sum(o.cpu_s for o in (*positives, *negatives))
    false = [o for o in negatives if o.accepted]
    self_false = [o for o in false if o.clip.source == "coach"]
    self_ungated = [o for o in negatives if o.clip.source == "coach" and o.ungated]
    wrong = [o for o in positives if o.accepted and not o.correct]
    barge_in = [o for o in positives if o.clip.condition == BARGE_IN]
    return {
        "command_accuracy": round(sum(o.correct for o in positives) / max(1, len(positives)), 3),
        "command_accuracy_by_condition": _accuracy(positives, lambda c: c.condition),
        "command_accuracy_by_source": _accuracy(positives, lambda c: c.source),
        "command_accuracy_by_source_condition": _accuracy(
            positives, lambda c: f"{c.source}/{c.condition}"
        ),
        "command_accuracy_by_command": _accuracy(positives, lambda c: c.command or ""),
        "positives": len(positives),
        "bargein_clips": len(barge_in),
        "bargein_accuracy": (
            round(sum(o.correct for o in barge_in) / len(barge_in), 3) if barge_in else None
        ),
        "wrong_commands": len(wrong),
        "negatives": len(negatives),
        "selftrigger_clips": sum(o.clip.source == "coach" for o in negatives),
        "false_accepts": len(false),
        "selftrigger_false_accepts": len(self_false),
        "false_accepts_by_source": {
            source: sum(o.clip.source == source for o in false)
            for source in sorted({o.clip.source for o in negatives})
        },
        "false_accept_clips": [f"{o.clip.name} -> {o.accepted[0].text}" for o in false],
        "selftrigger_ungated_false_accepts": len(self_ungated),
        "selftrigger_ungated_clips": [
            f"{o.clip.name} -> {o.ungated[0].text}" for o in self_ungated
        ],
        "wrong_command_clips": [f"{o.clip.name} -> {o.accepted[0].text}" for o in wrong],
        "command_latency_ms_p50": _percentile(latencies, 50),
        "command_latency_ms_p95": _percentile(latencies, 95),
        "stop_pause_latency_ms_p50": _percentile(urgent, 50),
        "stop_pause_latency_ms_p95": _percentile(urgent, 95),
        "asr_rtf": round(cpu_s / max(audio_s, 1e-9), 4),
        "audio_s": round(audio_s, 1),
        "negative_audio_s": round(negative_s, 1),
    }


def evaluate(
    engine_factory: Callable[[], Engine],
    positives: Sequence[Clip],
    negatives: Sequence[Clip],
    chunk_s: float = CHUNK_S,
) -> dict[str, Any]:
    """Run every clip through one engine (reset between clips) and summarize."""
    engine = engine_factory()
    pos = [run_clip(engine, c, chunk_s) for c in positives]
    neg = [run_clip(engine, c, chunk_s) for c in negatives]
    return summarize(pos, neg)
