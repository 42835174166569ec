"""`stretch-coach bench`: the numbers behind the product's goals, measured on this machine.

Each group returns plain numbers; goals are printed beside them and never asserted, because a
slow CI box or a busy Pi says nothing about correctness. Groups that need something absent
(the repository's speech corpus, the shared recordings) are skipped with the reason.
The asr group leads with real people's recordings (skill.tools.human_corpus, `human_*`), then the
repository's synthetic corpus. `--cpu-quota SHARE` runs the service and a part of the human
set again in a child process held to that share of one core by a cgroup (`pi_*`).
Heavy libraries are imported inside the groups: the audio device must be chosen (ALSA config
in the environment) before sounddevice is first imported.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.speech_in.asr import SAMPLE_RATE
from skill.speech_in.wake_word import TRAINED
from skill.tools import bench_wake

if TYPE_CHECKING:
    from skill.config import Settings
    from skill.core.exercise import Library
    from skill.speech_out.voice import Voice
    from skill.tools.file_audio import FileAudioDevice

GROUPS = ("player", "tts", "asr", "service")
QUICK_GROUPS = ("player", "tts", "service")
PLAYER_ROUTINE = "full_back"
SERVICE_COMMAND = "Start quick stretch."
COMMAND_GAP_S = 0.5  # silence before and after the spoken command
# The service opens the microphone at 48 kHz. At any other rate, ALSA's plug converts the
# file plugin's capture wrongly (a 16 kHz file read at 48 kHz came back mostly zeros), and
# the command was never heard.
SERVICE_MIC_RATE = 48000
SERVICE_LISTEN_S = 10.0  # service kept listening (and then coaching) before its peak is read
SERVICE_READY_TIMEOUT_S = 120.0
SERVICE_STOP_TIMEOUT_S = 30.0
FILE_DEVICE_ENV = "STRETCH_COACH_BENCH_FILE_DEVICE"
REPO = Path(__file__).resolve().parents[2]
CORPUS_CACHE = REPO / ".cache" / "test-audio"  # shared with the speech tests: warm after one run
# Without --full the asr group stops after this long: the clips run in an order where every
# prefix is an even sample of the corpus, so the numbers hold for the whole, less precisely.
ASR_BUDGET_S = 180.0

# metric -> (comparison, goal); shown beside the measured number, never enforced.
GOALS: dict[str, tuple[str, float]] = {
    "tts_first_audio_ms_cached": ("<=", 20.0),
    "tts_cache_hit_rate": (">=", 1.0),
    "command_latency_ms_p95": ("<=", 300.0),
    "asr_rtf": ("<=", 0.05),
    "false_accepts": ("<=", 0.0),
    "selftrigger_false_accepts": ("<=", 0.0),
    "near_miss_false_accepts": ("<=", 0.0),
    "wrong_commands": ("<=", 0.0),
    "startup_ms": ("<=", 3000.0),
    "service_peak_rss_mb": ("<=", 300.0),
    "web_update_latency_ms": ("<=", 1000.0),
    "human_command_accuracy_recorded": (">=", 0.9),
    "human_command_accuracy_kitchen20db": (">=", 0.8),
    "human_command_accuracy_bike20db": (">=", 0.8),
    "human_command_accuracy_kitchen10db": (">=", 0.5),
    "human_command_accuracy_bike10db": (">=", 0.5),
    "human_false_accepts": ("<=", 0.0),
    "human_false_accepts_per_hour": ("<=", 0.0),
    "human_wrong_commands": ("<=", 0.0),
    "human_stop_accuracy": (">=", 0.9),
    "pi_startup_ms": ("<=", 3000.0),
    "pi_service_command_latency_ms": ("<=", 500.0),
    "pi_human_command_latency_ms_p95": ("<=", 500.0),
    "pi_asr_rtf": ("<=", 1.0),
    "pi_asr_keeps_up": (">=", 1.0),
}
for _model in TRAINED.values():
    GOALS[f"wake_false_wakes_{_model}"] = ("<=", 0.0)
    GOALS[f"wake_detected_{_model}"] = (">=", 0.95)

Metrics = dict[str, float]


@dataclass
class GroupResult:
    """One group's numbers, what the reader should know about them, or why it did not run."""

    name: str
    metrics: Metrics = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)  # JSON only: e.g. every breakdown


@dataclass
class Context:
    """What the groups share: settings, library, one voice (loaded once) and scratch space."""

    settings: Settings
    library: Library
    scratch: Path
    full: bool = False
    file_device: bool = False  # ALSA points at a file-backed device (no sound card)
    device_note: str = ""
    _voice: Voice | None = None

    def voice(self) -> Voice:
        if self._voice is None:
            from skill.service import wiring

            self._voice = wiring.open_voice(self.settings)
        return self._voice


# --- goals and formatting (pure) -----------------------------------------------------------


def goal_text(metric: str) -> str:
    goal = GOALS.get(metric)
    return "" if goal is None else f"{goal[0]} {goal[1]:g}"


def meets_goal(metric: str, value: float) -> bool | None:
    """True/False against the goal, None when the metric has no goal or no value."""
    goal = GOALS.get(metric)
    if goal is None or math.isnan(value):
        return None
    op, target = goal
    return value <= target if op == "<=" else value >= target


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}"


def render_table(results: Sequence[GroupResult]) -> str:
    """A readable table: metric, value, goal and whether this run met it."""
    lines = [f"{'group':<8} {'metric':<36} {'value':>10}  {'goal':<8} "]
    for result in results:
        if result.skipped:
            lines.append(f"{result.name:<8} skipped: {result.skipped}")
            continue
        for metric, value in result.metrics.items():
            met = meets_goal(metric, value)
            verdict = "" if met is None else ("met" if met else "MISSED")
            lines.append(
                f"{result.name:<8} {metric:<36} {_fmt(value):>10}  {goal_text(metric):<8} {verdict}"
            )
        lines.append(f"{result.name:<8} (took {result.seconds:.1f} s)")
    notes = [f"- [{r.name}] {n}" for r in results for n in r.notes]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def to_json(results: Sequence[GroupResult]) -> dict[str, Any]:
    """One object: metrics (numbers; null when not measurable), goals, notes, skipped groups,
    and each group's details (the full breakdowns behind its numbers)."""
    metrics = {k: (None if math.isnan(v) else v) for r in results for k, v in r.metrics.items()}
    return {
        "metrics": metrics,
        "goals": {k: goal_text(k) for k in metrics if k in GOALS},
        "met": {k: meets_goal(k, v) for r in results for k, v in r.metrics.items() if k in GOALS},
        "notes": {r.name: r.notes for r in results if r.notes},
        "skipped": {r.name: r.skipped for r in results if r.skipped},
        "seconds": {r.name: round(r.seconds, 2) for r in results},
        "details": {r.name: r.details for r in results if r.details},
    }


# --- audio device --------------------------------------------------------------------------


def has_sound_card() -> bool:
    """A playback device exists (checked without importing PortAudio)."""
    return any(Path("/dev/snd").glob("pcmC*D*p"))


def choose_audio_device(scratch: Path) -> tuple[FileAudioDevice | None, str]:
    """No sound card (or asked to): point ALSA at a file-backed device, before PortAudio loads."""
    from skill.tools.file_audio import make_device

    asked = os.environ.get(FILE_DEVICE_ENV) == "1"
    if not asked and has_sound_card():
        return None, "audio: the real default output device (played at volume 0)"
    why = f"{FILE_DEVICE_ENV}=1" if asked else "no sound card"
    if "sounddevice" in sys.modules:
        return None, f"audio: {why}, but sounddevice was already loaded; using whatever ALSA has"
    device = make_device(scratch / "bench-device")
    os.environ.update(device.env())
    return device, f"audio: {why}: an ALSA file-backed device (playback goes to a temp file)"


# --- player --------------------------------------------------------------------------------


def bench_player(ctx: Context) -> GroupResult:
    from skill.core.simulate import bench_simulate

    if PLAYER_ROUTINE not in ctx.library.routines:
        return GroupResult("player", skipped=f"routine {PLAYER_ROUTINE!r} is not loaded")
    raw = bench_simulate(ctx.library, PLAYER_ROUTINE)
    return GroupResult(
        "player",
        {
            f"player_{PLAYER_ROUTINE}_virtual_s": round(raw["virtual_s"], 1),
            f"player_{PLAYER_ROUTINE}_wall_ms": round(raw["wall_s"] * 1000, 1),
            "player_speedup": round(raw["speedup"]),
        },
        [f"simulated {PLAYER_ROUTINE} with 0.1 s ticks, best of 3"],
    )


# --- speech out ----------------------------------------------------------------------------


def spoken_sentences(library: Library) -> list[str]:
    """Every sentence said (with repeats) in a no-command simulated run of every routine."""
    from skill.core.events import Command
    from skill.core.phrases import split_sentences
    from skill.core.simulate import Simulation

    said: list[str] = []
    for routine_id in library.routines:
        sim = Simulation(library)
        sim.run([(0.0, Command("start", {"routine": routine_id}, source="cli"))])
        said += [s for text in sim.spoken() for s in split_sentences(text)]
    return said


def user_cache_hit_rate(ctx: Context, voice: Voice, sentences: Sequence[str]) -> float:
    """Hit rate against the person's own phrase cache, without creating it when absent."""
    from skill.service import wiring
    from skill.speech_out.phrase_cache import default_dir
    from skill.tools.bench_tts import tts_cache_hit_rate

    if not default_dir().is_dir():
        return 0.0 if sentences else 1.0
    cache = wiring.open_phrase_cache(ctx.settings, voice)
    return tts_cache_hit_rate(cache, sentences)["tts_cache_hit_rate"]


def bench_tts(ctx: Context) -> GroupResult:
    from skill.hardware.playback import AudioOutput
    from skill.service import wiring
    from skill.speech_out.phrase_cache import default_dir
    from skill.speech_out.speaker import Speaker
    from skill.tools.bench_tts import tts_first_audio, tts_rtf

    voice = ctx.voice()
    result = GroupResult("tts", notes=[ctx.device_note] if ctx.device_note else [])
    result.metrics |= tts_rtf(voice)
    folder = ctx.scratch / "tts-cache"
    cache = wiring.open_phrase_cache(ctx.settings, voice, folder)
    device = None if ctx.file_device else ctx.settings.output_device
    with AudioOutput(device, volume=0.0) as output:
        first = tts_first_audio(Speaker(voice, cache, output))
    result.metrics |= {k: round(v, 2) for k, v in first.items()}
    result.metrics["tts_rtf"] = round(result.metrics["tts_rtf"], 3)
    sentences = spoken_sentences(ctx.library)
    rate = user_cache_hit_rate(ctx, voice, sentences)
    result.metrics["tts_cache_hit_rate"] = round(rate, 4)
    result.notes.append(
        f"hit rate over {len(sentences)} sentences of a full run of every routine, "
        f"against {default_dir()} (voice {voice.key}, pace {voice.length_scale})"
    )
    if rate < 1.0:
        result.notes.append("phrases are missing from the cache: run `stretch-coach setup`")
    return result


# --- speech in -----------------------------------------------------------------------------


def shared_dir() -> Path:
    return Path(os.environ.get("STRETCH_COACH_SHARED", REPO.parent / "shared"))


def corpus_unavailable() -> str | None:
    """Why the synthetic corpus cannot be built here, or None when it can."""
    if not (shared_dir() / "audio" / "MANIFEST.csv").is_file():
        return f"needs the shared recordings at {shared_dir()} (set STRETCH_COACH_SHARED)"
    return None


# bench metric -> key in skill.tools.asr_eval.summarize's result
ASR_KEYS = {
    "command_accuracy": "command_accuracy",
    "false_accepts": "false_accepts",
    "selftrigger_false_accepts": "selftrigger_false_accepts",
    "selftrigger_ungated_false_accepts": "selftrigger_ungated_false_accepts",
    "wrong_commands": "wrong_commands",
    "bargein_accuracy": "bargein_accuracy",
    "command_latency_ms_p50": "command_latency_ms_p50",
    "command_latency_ms_p95": "command_latency_ms_p95",
    "stop_pause_latency_ms_p50": "stop_pause_latency_ms_p50",
    "stop_pause_latency_ms_p95": "stop_pause_latency_ms_p95",
    "asr_rtf": "asr_rtf",
    "asr_positive_clips": "positives",
    "asr_negative_clips": "negatives",
    "asr_selftrigger_clips": "selftrigger_clips",
    "asr_bargein_clips": "bargein_clips",
}


def spread(clips: Sequence[Any]) -> list[Any]:
    """The clips reordered so that any prefix is a fair sample of the whole list.

    The corpus is ordered phrase by voice by noise level. Visiting index i at the fractional
    part of i times the golden ratio (a low-discrepancy sequence) spreads every prefix evenly
    across the list, so each phrase, voice and condition shows up early.
    """
    golden = (math.sqrt(5) - 1) / 2
    order = sorted(range(len(clips)), key=lambda i: (i * golden) % 1.0)
    return [clips[i] for i in order]


def interleave(positives: Sequence[Any], negatives: Sequence[Any]) -> list[tuple[bool, Any]]:
    """(is_positive, clip) with both lists spread evenly through the run."""
    keyed = [(i / len(positives), 0, True, c) for i, c in enumerate(spread(positives))]
    keyed += [(i / len(negatives), 1, False, c) for i, c in enumerate(spread(negatives))]
    return [(positive, clip) for _, _, positive, clip in sorted(keyed, key=lambda k: k[:2])]


def run_outcomes(
    engine: Any,
    positives: Sequence[Any],
    negatives: Sequence[Any],
    budget_s: float | None,
    desc: str = "asr clips",
) -> tuple[list[Any], list[Any]]:
    """skill.tools.asr_eval's per-clip loop with a progress bar, stopping when the budget is spent.

    Returns the outcomes of the positives and of the negatives that ran. The order is a fair
    sample at every point, so a budget-cut run still measures every phrase, voice and condition.
    """
    from tqdm import tqdm

    from skill.tools.asr_eval import run_clip

    deadline = None if budget_s is None else time.monotonic() + budget_s
    pos: list[Any] = []
    neg: list[Any] = []
    # disable=None: a bar on a terminal only, not hundreds of redraws in a log or CI output
    clips = tqdm(interleave(positives, negatives), desc=desc, unit="clip", disable=None)
    for positive, clip in clips:
        if deadline is not None and time.monotonic() > deadline:
            break
        (pos if positive else neg).append(run_clip(engine, clip))
    return pos, neg


def run_engine(
    engine: Any, positives: Sequence[Any], negatives: Sequence[Any], budget_s: float | None
) -> tuple[dict[str, Any], int]:
    """run_outcomes summarized (skill.tools.asr_eval.summarize), and how many clips ran."""
    from skill.tools.asr_eval import summarize

    pos, neg = run_outcomes(engine, positives, negatives, budget_s)
    return summarize(pos, neg), len(pos) + len(neg)


def open_bench_engine(ctx: Context) -> Any:
    """The engine the service would use, from the settings."""
    from skill.service import wiring

    return wiring.open_recognizer(
        ctx.settings, ctx.library, logging.getLogger("stretch-coach.bench")
    )


def bench_asr(ctx: Context) -> GroupResult:
    """The human set first (human_*, always all of it), then the synthetic corpus."""
    engine = open_bench_engine(ctx)
    result = GroupResult("asr", notes=[f"engine {engine.name}"])
    human = measure_human(ctx, engine)
    if isinstance(human, str):
        result.notes.append(f"human set skipped: {human}")
    else:
        result.metrics |= human.metrics
        result.notes += human.notes
        result.details["human"] = human.details
    wake = measure_wake_words()
    result.metrics |= wake.metrics
    result.notes += wake.notes
    synthetic = measure_synthetic(ctx, engine)
    if synthetic.skipped:
        result.notes.append(f"synthetic corpus skipped: {synthetic.skipped}")
    else:
        result.metrics |= synthetic.metrics
        result.notes += synthetic.notes
        result.details["synthetic"] = synthetic.details
    if not result.metrics:
        reason = human if isinstance(human, str) else ""
        result.skipped = f"{reason}; {synthetic.skipped}" if reason else synthetic.skipped
    return result


def measure_wake_words() -> bench_wake.WakeFigures:
    """The trained wake words (skill.tools.bench_wake) on the human set and the corpus voices."""
    from skill.tools import human_corpus as hc

    shared = shared_dir()
    return bench_wake.measure(None if hc.unavailable(shared) else shared, CORPUS_CACHE)


def measure_synthetic(ctx: Context, engine: Any) -> GroupResult:
    """The synthetic corpus (skill.tools.speech_corpus), within the time budget."""
    from skill.tools.speech_corpus import build_corpus

    unavailable = corpus_unavailable()
    if unavailable:
        return GroupResult("asr", skipped=unavailable)
    corpus = build_corpus(CORPUS_CACHE, shared_dir(), ctx.library)
    budget = None if ctx.full else ASR_BUDGET_S
    began = time.monotonic()
    summary, ran = run_engine(engine, corpus.positives, corpus.negatives, budget)
    took = time.monotonic() - began
    total = len(corpus.positives) + len(corpus.negatives)
    share = f"all {total} clips" if ran == total else f"{ran} of {total} clips"
    if ran < total:
        share += f", an even sample, within the {ASR_BUDGET_S:g} s budget (--full runs all)"
    metrics = {name: _number(summary.get(key)) for name, key in ASR_KEYS.items()}
    notes = [
        f"synthetic corpus (skill.tools.speech_corpus): {summary.get('audio_s')} s of audio "
        f"streamed in 32 ms chunks, {share}, took {took:.0f} s",
        f"accuracy by condition {summary.get('command_accuracy_by_condition')}, "
        f"by source {summary.get('command_accuracy_by_source')}",
    ]
    notes += [f"false accept: {c}" for c in summary.get("false_accept_clips", [])]
    near = measure_near_misses(engine)
    metrics |= near.metrics
    notes += near.notes
    return GroupResult("asr", metrics, notes, details=summary)


def measure_near_misses(engine: Any) -> GroupResult:
    """Everyday words a sound or two from a command (speech_corpus.NEAR_MISSES), all of them."""
    from skill.tools.speech_corpus import near_miss_negatives

    clips = near_miss_negatives(CORPUS_CACHE)
    _, outcomes = run_outcomes(engine, [], clips, None, desc="near misses")
    acted = [o for o in outcomes if o.accepted]
    metrics = {"near_miss_false_accepts": float(len(acted)), "near_miss_clips": float(len(clips))}
    notes = [f"near miss acted on: {o.clip.name} -> {o.accepted[0].text}" for o in acted]
    return GroupResult("asr", metrics, notes)


# --- speech in: real people ------------------------------------------------------------------

HUMAN_PI_NEGATIVES = 60  # --cpu-quota: every command and this many non-commands, recorded


def measure_human(ctx: Context, engine: Any, subset: bool = False) -> GroupResult | str:
    """The human set (skill.tools.human_corpus) through `engine`, or why it cannot run.

    `subset`: every command and an even sample of HUMAN_PI_NEGATIVES non-commands, as
    recorded only (for a run under a CPU quota, which is several times slower)."""
    from skill.tools import human_corpus as hc
    from skill.tools.asr_eval import BARGE_IN

    shared = shared_dir()
    reason = hc.unavailable(shared)
    if reason:
        return reason
    rows = hc.manifest_rows(shared)
    recordings = [r for r in rows if r.label not in hc.LEFT_OUT]
    left_out = len(rows) - len(recordings)
    conditions: tuple[str, ...] = hc.CONDITIONS
    if subset:
        recordings = hc.command_sample(recordings, HUMAN_PI_NEGATIVES)
        conditions = ("recorded",)
    coach = []
    if BARGE_IN in conditions:
        coach = hc.coach_clips(ctx.voice(), hc.coach_sentences(ctx.library))
    corpus = hc.build(shared, recordings, conditions, coach)
    began = time.monotonic()
    pos, neg = run_outcomes(engine, corpus.positives, corpus.negatives, None, "human clips")
    summary = hc.human_summary(pos, neg, time.monotonic() - began)
    metrics = {k: _number(v) for k, v in hc.human_metrics(summary).items()}
    notes = human_notes(corpus, summary, left_out, shared)
    if subset:
        commands = sum(r.command is not None for r in recordings)
        notes.insert(
            0,
            f"a subset to keep the throttled run short: all {commands} command recordings "
            f"and an even sample of {len(recordings) - commands} non-commands, as recorded only",
        )
    return GroupResult("asr", metrics, notes, details=summary)


def human_notes(corpus: Any, summary: dict[str, Any], left_out: int, shared: Path) -> list[str]:
    """What the human numbers are made of, per condition and source, and what went wrong."""
    overall = summary["overall"]
    sources: dict[str, int] = {}
    for rec in corpus.recordings:
        sources[rec.source] = sources.get(rec.source, 0) + 1
    notes = [
        f"human set: {len(corpus.recordings)} recordings of real people in "
        f"{shared / 'audio' / 'human'} ({', '.join(f'{k} {v}' for k, v in sources.items())}; "
        f"{left_out} bare 'start' left out: neither right nor wrong), "
        f"{overall['positives']} command and {overall['negatives']} non-command streams in "
        f"{', '.join(summary['by_condition'])}; {overall['audio_s']} s of audio "
        f"({overall['negative_hours']} h of it non-commands) took {overall.get('wall_s')} s",
    ]
    if corpus.coach:
        notes.append(f"over_coach: stop and pause 0.6 s into {len(corpus.coach)} coach sentences")
    for condition, s in summary["by_condition"].items():
        notes.append(
            f"human {condition}: accuracy {s['command_accuracy']} of {s['positives']} "
            f"(by command {s['command_accuracy_by_command']}), false accepts "
            f"{s['false_accepts']} of {s['negatives']}, wrong {s['wrong_commands']}, latency "
            f"p50/p95 {s['command_latency_ms_p50']}/{s['command_latency_ms_p95']} ms"
        )
    for source, s in summary["by_source"].items():
        notes.append(
            f"human source {source}: accuracy {s['command_accuracy']} of {s['positives']} "
            f"command streams, false accepts {s['false_accepts']} of {s['negatives']}"
        )
    notes += [f"human false accept: {c}" for c in summary["false_accept_clips"]]
    notes += [f"human wrong command: {c}" for c in summary["wrong_command_clips"]]
    return notes


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


# --- service -------------------------------------------------------------------------------


def link_or_copy_tree(src: Path, dst: Path) -> int:
    """Seed `dst` with the files of `src` (hard links when possible); returns how many."""
    import shutil

    dst.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in src.glob("*.wav") if src.is_dir() else ():
        target = dst / path.name
        if target.exists():
            continue
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        count += 1
    return count


def service_cache_home() -> Path:
    """XDG_CACHE_HOME of the measured service: kept between runs, so warm after the first."""
    from skill import paths

    return paths.cache_dir() / "bench" / "xdg-cache"


def warm_service_cache(ctx: Context, cache_home: Path) -> str:
    """The service's phrase cache under `cache_home`, complete for the configured voice.

    Seeded from the person's own cache and completed like `setup` would, once: a service
    that renders phrases in the background while measured would not be the warm service.
    """
    from skill import paths
    from skill.core.phrases import all_phrases
    from skill.service import wiring
    from skill.speech_out.phrase_cache import default_dir

    folder = cache_home / paths.APP / "phrases"
    seeded = link_or_copy_tree(default_dir(), folder)
    voice = ctx.voice()
    cache = wiring.open_phrase_cache(ctx.settings, voice, folder)
    rendered = cache.render_missing(sorted(all_phrases(ctx.library)), voice.synthesize)
    return (
        f"warm phrase cache {folder} "
        f"({seeded} files taken from {default_dir()}, {rendered} rendered now)"
    )


def command_audio(voice: Voice, text: str = SERVICE_COMMAND, rate: int = SAMPLE_RATE) -> bytes:
    """A spoken command as raw S16_LE mono at `rate`, with COMMAND_GAP_S of pause around it,
    over a microphone's own faint noise (audio_mix.hiss): from digital silence alone the
    service's noise floor learned only speech and could cut the command short."""
    import numpy as np
    import soxr

    from skill.tools.audio_mix import hiss, pcm16

    speech = soxr.resample(voice.synthesize(text).astype(np.float32), voice.sample_rate, rate)
    gap = np.zeros(int(COMMAND_GAP_S * rate), dtype=np.float32)
    pcm = np.concatenate([gap, speech, gap]) + hiss(text, len(speech) + 2 * len(gap))
    return pcm16(pcm).tobytes()


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident memory) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def service_env(
    base: dict[str, str], device: FileAudioDevice, tmp: Path, cache_home: Path
) -> dict[str, str]:
    """The service's environment: file audio device, private state, the warm bench cache."""
    env = {k: v for k, v in base.items() if k not in SYSTEMD_DIRS}
    env |= device.env()
    env |= {
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_CACHE_HOME": str(cache_home),
        "NOTIFY_SOCKET": str(tmp / "notify"),
        "PYTHONUNBUFFERED": "1",
    }
    return env


SYSTEMD_DIRS = (
    "STATE_DIRECTORY",
    "CACHE_DIRECTORY",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "NOTIFY_SOCKET",
)


@dataclass
class ServiceRun:
    """A `stretch-coach run` child: its output lines (with arrival times) and notify messages."""

    proc: Any
    started: float
    lines: list[tuple[float, str]] = field(default_factory=list)

    def pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip()))

    def first(self, needle: str) -> float | None:
        return next((t for t, line in list(self.lines) if needle in line), None)

    def tail(self, n: int = 15) -> str:
        return "\n".join(line for _, line in self.lines[-n:])

    def wait_for(self, needle: str, deadline: float) -> float | None:
        """The time of the first line with `needle`, waiting until `deadline` (monotonic)."""
        while (seen := self.first(needle)) is None and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return self.first(needle)
            time.sleep(0.02)
        return seen


def wait_ready(sock: Any, run: ServiceRun, timeout: float) -> float | None:
    """Monotonic time of READY=1 on the notify socket, or None if the service never got ready."""
    deadline = run.started + timeout
    while time.monotonic() < deadline and run.proc.poll() is None:
        sock.settimeout(0.2)
        try:
            message = sock.recv(4096).decode(errors="replace")
        except TimeoutError:
            continue
        if "READY=1" in message.splitlines():
            return time.monotonic()
    return None


def measure_service(ctx: Context) -> GroupResult:
    import shutil
    import socket
    import subprocess
    import threading

    from skill.tools.file_audio import FifoMicrophone, make_device

    cache_home = service_cache_home()
    notes = [warm_service_cache(ctx, cache_home)]
    pcm = command_audio(ctx.voice(), rate=SERVICE_MIC_RATE)
    tmp = Path(tempfile.mkdtemp(prefix="sc-bench-"))  # short: a socket path has a 107-byte limit
    mic = FifoMicrophone(tmp / "mic.fifo", SERVICE_MIC_RATE)
    device = make_device(
        tmp / "device", mic=mic.path, mic_rate=SERVICE_MIC_RATE, speaker_rate=22050
    )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp / "notify"))
    # The file device is ALSA's "default": device names from the person's config do not exist.
    devices = ["--input-device", "default", "--output-device", "default"]
    page = open_page_config(tmp)
    argv = [sys.executable, "-m", "skill", "run", "--no-gpio", *devices, "--config", page[0]]
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        env=service_env(dict(os.environ), device, tmp, cache_home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run = ServiceRun(proc, started)
    threading.Thread(target=run.pump, name="service-output", daemon=True).start()
    try:
        return _drive_service(run, sock, mic, pcm, notes, page[1])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        mic.stop()
        _release_fifo(mic.path)
        sock.close()
        shutil.rmtree(tmp, ignore_errors=True)


def open_page_config(tmp: Path) -> tuple[str, Any]:
    """A config serving the phone page on a free local port, and a phone to keep it open."""
    import socket

    from skill.web.probe import PageProbe

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp / "config.yaml"
    config.write_text(f"web_bind: 127.0.0.1\nweb_port: {port}\n")
    return str(config), PageProbe(tmp / "state" / "stretch-coach" / "web", port)


def _drive_service(
    run: ServiceRun, sock: Any, mic: Any, pcm: bytes, notes: list[str], page: Any
) -> GroupResult:
    import signal
    import subprocess

    ready = wait_ready(sock, run, SERVICE_READY_TIMEOUT_S)
    if ready is None:
        return GroupResult(
            "service", notes=notes, skipped=f"the service never got ready:\n{run.tail()}"
        )
    metrics = {"startup_ms": round((ready - run.started) * 1000, 1)}
    log_ready = run.first("ready:")
    if log_ready is not None:
        notes.append(f"'ready:' log line {round((log_ready - run.started) * 1000)} ms after start")
    words_end = ready + mic.play(pcm) - COMMAND_GAP_S
    # The phone page starts after READY: open it (live stream, history, routines) once it
    # serves, while the command is being said.
    web_up = run.wait_for("web: open", ready + SERVICE_LISTEN_S)
    if web_up is not None:
        metrics["web_ready_ms"] = round((web_up - run.started) * 1000, 1)
    page.start()
    time.sleep(max(0.0, ready + SERVICE_LISTEN_S - time.monotonic()))
    metrics["service_peak_rss_mb"] = round(peak_rss_mb(run.proc.pid), 1)
    heard = run.first("command start")
    metrics["service_command_heard"] = 0.0 if heard is None else 1.0
    if heard is not None:
        metrics["service_command_latency_ms"] = round((heard - words_end) * 1000, 1)
    else:
        notes.append(f"the spoken 'start quick stretch' was not acted on; log:\n{run.tail(8)}")
    dropped = run.first("microphone overflow")
    if dropped is not None:
        notes.append(f"the microphone dropped audio {round(dropped - ready, 1)} s after READY")
    running = run.first("state idle -> running")
    # The view can beat the log line through its pipe: then the page was as quick as the log.
    shown = page.first_view(run.started, lambda v: v["mode"] == "running")
    if running is not None and shown is not None:
        metrics["web_update_latency_ms"] = round(max(0.0, shown - running) * 1000, 1)
    else:
        notes.append(f"the page never showed the routine running {page.problem}".strip())
    stop = time.monotonic()
    run.proc.send_signal(signal.SIGTERM)
    try:
        code: int | None = run.proc.wait(SERVICE_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        code = None
    metrics["shutdown_ms"] = (
        round((time.monotonic() - stop) * 1000, 1) if code is not None else float("nan")
    )
    if code != 0:
        notes.append(f"exit code {code} after SIGTERM:\n{run.tail()}")
    notes.append(
        "`run --no-gpio` on an ALSA file device whose microphone is a FIFO fed in real time; "
        "ready = READY=1 on a NOTIFY_SOCKET; peak = VmHWM after ~10 s of listening and coaching, "
        "with the phone page open; web_update_latency = log line 'running' to the page's view"
    )
    return GroupResult("service", metrics, notes)


def _release_fifo(path: Path) -> None:
    """Unblock a FIFO writer still waiting for a reader, so its thread sees the stop flag."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    time.sleep(0.05)
    os.close(fd)


def bench_service(ctx: Context) -> GroupResult:
    return measure_service(ctx)


# --- on a Pi's share of the CPU ----------------------------------------------------------------

PI_CHILD_TIMEOUT_S = 1800.0
PI_CHILD_FLAG = "--pi-child"  # hidden: `bench --pi-child GROUP` is the throttled child
PI_DROPPED = frozenset({"human_asr_rtf"})  # CPU time: the quota shows in wall time only


def bench_asr_subset(ctx: Context) -> GroupResult:
    """The human subset (measure_human subset=True) with its wall-clock real-time factor."""
    engine = open_bench_engine(ctx)
    human = measure_human(ctx, engine, subset=True)
    if isinstance(human, str):
        return GroupResult("asr", skipped=human)
    rtf = human.details["overall"]["wall_rtf"]
    human.metrics |= {"asr_rtf": rtf, "asr_keeps_up": 1.0 if rtf <= 1.0 else 0.0}
    human.notes.insert(0, f"engine {engine.name}")
    return human


PI_CHILD_RUNNERS: dict[str, Callable[[Context], GroupResult]] = {
    "service": bench_service,
    "asr": bench_asr_subset,
}


def pi_child(ctx: Context, group_dir: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    """In the child: move into the cpu group first, then the service and the human subset."""
    from skill.tools.cpu_quota import own_group

    (group_dir / "cgroup.procs").write_text(f"{os.getpid()}\n")
    placed = own_group()
    if placed is None or not placed.endswith(group_dir.name):
        raise RuntimeError(f"not in the cpu group {group_dir} after joining it: {placed}")
    report = to_json(run_groups(ctx, PI_CHILD_RUNNERS, progress, PI_CHILD_RUNNERS))
    report["cgroup"] = placed
    return report


def bench_pi(ctx: Context, share: float) -> GroupResult:
    """The service group and a part of the human set in a child held to `share` of one core
    by a cgroup; its numbers prefixed `pi_`. Skipped, saying why, where no quota can be set."""
    import json
    import subprocess

    from skill.tools.cpu_quota import QuotaError, find_controller, open_group

    where = find_controller()
    if isinstance(where, str):
        return GroupResult("pi", skipped=f"--cpu-quota {share:g}: {where}")
    # Rendered here at full speed: the child would otherwise render missing phrases under
    # the quota before it measures anything (`setup` does this once on a Pi).
    warmed = warm_service_cache(ctx, service_cache_home())
    try:
        group = open_group(share)
    except QuotaError as err:
        return GroupResult("pi", skipped=f"--cpu-quota {share:g}: {err}")
    result = GroupResult("pi", notes=[f"child process in {group.describe()}", warmed])
    try:
        argv = [sys.executable, "-m", "skill", "bench", PI_CHILD_FLAG, str(group.path)]
        child = subprocess.run(
            argv, stdout=subprocess.PIPE, text=True, timeout=PI_CHILD_TIMEOUT_S, check=False
        )
        throttled = group.throttled_s()
    finally:
        try:
            group.remove()
        except QuotaError as err:
            result.notes.append(str(err))
    if child.returncode != 0:
        result.skipped = f"the throttled child failed (exit {child.returncode}); see its stderr"
        return result
    report = json.loads(child.stdout.strip().splitlines()[-1])  # its last line: one object
    result.metrics["pi_cpu_share"] = share
    for name, value in report["metrics"].items():
        if name not in PI_DROPPED:
            result.metrics[f"pi_{name}"] = _number(value)
    if throttled is not None:
        result.metrics["pi_throttled_s"] = round(throttled, 1)
    result.notes.append(
        f"the child was in {report.get('cgroup')}; the service it starts and the measuring "
        "(FIFO microphone, log reader) share the quota; pi_asr_rtf is wall time over audio "
        "time (<= 1: it keeps up), pi_throttled_s the time the quota held it back"
    )
    result.notes += [f"{name}: {why}" for name, why in report["skipped"].items()]
    result.notes += [f"{name}: {n}" for name, notes in report["notes"].items() for n in notes]
    result.details = {"child": report, "cgroup": group.describe()}
    return result


RUNNERS: dict[str, Callable[[Context], GroupResult]] = {
    "player": bench_player,
    "tts": bench_tts,
    "asr": bench_asr,
    "service": bench_service,
}


def run_groups(
    ctx: Context,
    groups: Iterable[str],
    progress: Callable[[str], None],
    runners: Mapping[str, Callable[[Context], GroupResult]] | None = None,
) -> list[GroupResult]:
    """Run each group in order; a failing group is reported, the others still run."""
    results = []
    for name in groups:
        progress(f"bench: {name} ...")
        began = time.monotonic()
        try:
            result = (RUNNERS if runners is None else runners)[name](ctx)
        except Exception as err:  # one broken group must not hide the other numbers
            result = GroupResult(name, skipped=f"failed: {type(err).__name__}: {err}")
        result.seconds = time.monotonic() - began
        results.append(result)
    return results
