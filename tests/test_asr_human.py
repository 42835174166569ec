"""The fallback on real people's speech (../shared/audio/human): the numbers that matter most.

False accepts and wrong commands are counted over every non-command recording as recorded;
accuracy is a floor a margin below the measured run (skill.tools.human_corpus; the whole set in
every condition is `stretch-coach bench --only asr`). Measured 2026-12-04, PocketSphinx
5.1.1: as recorded 51 of 58 commands right, 0 wrong, 1 false accept of 357 (a phone-line
"voyager" heard as "quieter"; 56 before the verifier); over a kitchen or an exercise bike
at 20 dB SNR about half the commands, never a wrong one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skill.library.loader import load_library
from skill.speech_in.asr import Hearing
from skill.speech_in.asr_sphinx import SphinxEngine
from skill.speech_in.recognizer import recognize_pcm
from skill.speech_out.voice import load_voice
from skill.tools import human_corpus as hc
from skill.tools.asr_eval import BARGE_IN, run_clip
from skill.tools.audio_mix import hiss, pcm16, read_wav, silence

MIN_RECORDED = 0.7
MIN_STOP_RECORDED = 0.6
MAX_FALSE_ACCEPTS = 1  # measured 1 of 357: the phone-line "voyager"; the goal is 0
MIN_NOISY_20DB = 0.35
MIN_QUIETER = 0.7
# Measured 2026-12-06, "stop" over the kitchen and over the bike at 20 dB: 0.52 and 0.70 (0.48
# and 0.59 before the verifier expected stop and pause more often than English text has them).
MIN_STOP_NOISY_20DB = 0.57


@pytest.fixture(scope="module")
def engine() -> SphinxEngine:
    return SphinxEngine(load_library().library)


@pytest.fixture(scope="module")
def recorded(shared_dir: Path, engine: SphinxEngine) -> dict[str, Any]:
    return hc.evaluate(engine, hc.build(shared_dir, conditions=("recorded",)))


@pytest.fixture(scope="module")
def harder(shared_dir: Path, engine: SphinxEngine) -> dict[str, Any]:
    """Every command and an even sample of 60 non-commands, over noise and farther away."""
    sample = hc.command_sample(hc.read_manifest(shared_dir), 60)
    conditions = ("kitchen20db", "bike20db", "quieter10db")
    return hc.evaluate(engine, hc.build(shared_dir, sample, conditions=conditions))


def test_no_command_from_real_non_commands(recorded: dict[str, Any]) -> None:
    overall = recorded["overall"]
    assert overall["negatives"] >= 350
    assert overall["false_accepts"] <= MAX_FALSE_ACCEPTS, recorded["false_accept_clips"]
    assert overall["wrong_commands"] == 0, recorded["wrong_command_clips"]


def test_real_commands_are_heard(recorded: dict[str, Any]) -> None:
    overall = recorded["overall"]
    assert overall["positives"] >= 55
    assert overall["command_accuracy"] >= MIN_RECORDED, recorded["by_source"]
    assert overall["command_accuracy_by_command"]["stop"] >= MIN_STOP_RECORDED


def test_over_noise_and_farther_away_never_a_wrong_command(harder: dict[str, Any]) -> None:
    by = harder["by_condition"]
    assert harder["overall"]["wrong_commands"] == 0, harder["wrong_command_clips"]
    assert harder["overall"]["false_accepts"] <= MAX_FALSE_ACCEPTS, harder["false_accept_clips"]
    assert min(by["kitchen20db"]["command_accuracy"], by["bike20db"]["command_accuracy"]) >= (
        MIN_NOISY_20DB
    ), {c: s["command_accuracy"] for c, s in by.items()}
    assert by["quieter10db"]["command_accuracy"] >= MIN_QUIETER


def test_stop_is_heard_over_noise(harder: dict[str, Any]) -> None:
    """What must work mid-stretch, over a running dishwasher or exercise bike."""
    by = harder["by_condition"]
    stops = [by[c]["command_accuracy_by_command"]["stop"] for c in ("kitchen20db", "bike20db")]
    assert sum(stops) / len(stops) >= MIN_STOP_NOISY_20DB, stops


# Measured 2026-12-07: 20 of the 28 stops and pauses said over the coach were heard, none
# taken for the other (before the grammar's next guesses were consulted, a "stop" acted as
# "pause").
MIN_OVER_COACH = 0.6


def test_over_the_coach_stop_and_pause_are_never_taken_for_each_other(shared_dir: Path) -> None:
    """Over the coach the free decode is not asked; the grammar alone must not swap the
    two barge-in commands. A fresh engine: the result does not depend on the tests before."""
    library = load_library().library
    coach = hc.coach_clips(load_voice(), hc.coach_sentences(library))
    corpus = hc.build(shared_dir, conditions=(BARGE_IN,), coach=coach)
    summary = hc.evaluate(SphinxEngine(library), corpus)
    assert summary["overall"]["positives"] >= 25
    assert summary["overall"]["wrong_commands"] == 0, summary["wrong_command_clips"]
    assert summary["overall"]["command_accuracy"] >= MIN_OVER_COACH


# (silence before, after) in seconds: none, a little, and a second or two, off the 30 ms
# frames the endpointer works in.
FRAMINGS = ((0.0, 0.0), (0.3, 0.2), (1.013, 1.0), (2.0, 0.5))
# Measured 2026-12-06: 0 of these 88 (and of all 415) since sound after digital silence starts
# a new frame (skill.speech_in.framer); before, 1 of 88 (2 of 415) changed with where the frames
# fell: one frame's level crossed the noise floor's margin, and a "stop" merged with noise.


def changed_verdicts(
    shared_dir: Path,
    engine: SphinxEngine,
    versions: Callable[[str, np.ndarray], dict[str, np.ndarray]],
) -> dict[str, dict[str, str]]:
    """Every command recording and 30 non-commands whose verdict (the command acted on and
    its arguments, or none) differs between `versions(name, speech)` of it; the reason
    each version got."""
    changed = {}
    for rec in hc.command_sample(hc.read_manifest(shared_dir), 30):
        verdicts = {
            version: recognize_pcm(pcm, hc.RATE, engine)
            for version, pcm in versions(rec.name, read_wav(rec.path)).items()
        }
        if len({(v["command"], str(v["args"])) for v in verdicts.values()}) > 1:
            changed[rec.name] = {k: v["reason"] for k, v in verdicts.items()}
    return changed


def test_a_recording_gets_one_verdict_whatever_silence_frames_it(
    shared_dir: Path, engine: SphinxEngine
) -> None:
    """The same verdict with any silence around a recording. Before the cut was taken from
    the words, 12 of these 88 changed verdict with where the 30 ms frames fell."""

    def framings(_: str, speech: np.ndarray) -> dict[str, np.ndarray]:
        return {
            f"{lead}/{tail}": np.concatenate([silence(lead), speech, silence(tail)])
            for lead, tail in FRAMINGS
        }

    changed = changed_verdicts(shared_dir, engine, framings)
    assert not changed, changed


# A quiet microphone's hiss (-70 and -60 dBFS white noise) under a recording with a second of
# silence around it. Not yet invariant: the hiss lifts the room's floor, and where the words'
# soft ends stand or the free decode's guesses sit at their margin the verdict can turn.
# Measured 2026-12-07: 8 of these 88 changed, 7 of them only at -60 dBFS, where 4 fewer of
# the 58 commands were heard; no false accept in any.
HISS_RMS = (10.4, 32.8)  # -70 and -60 dBFS
MAX_CHANGED_BY_HISS = 10


def test_a_faint_hiss_seldom_changes_a_verdict(shared_dir: Path, engine: SphinxEngine) -> None:
    """Bare and over a faint hiss: a bound on how many verdicts change (the goal is none)."""

    def hissed(name: str, speech: np.ndarray) -> dict[str, np.ndarray]:
        padded = np.concatenate([silence(1.0), speech, silence(1.0)])
        over = {f"hiss {rms}": pcm16(padded + hiss(name, len(padded), rms)) for rms in HISS_RMS}
        return {"bare": speech, **over}

    changed = changed_verdicts(shared_dir, engine, hissed)
    assert len(changed) <= MAX_CHANGED_BY_HISS, changed


def test_skipping_the_phone_loop_when_the_free_decode_settles_it_changes_no_verdict(
    shared_dir: Path, engine: SphinxEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone loop's decode (about 40 % of a command's CPU) is left out when the free
    decode's best guess is the command itself, or none of its guesses supports it: on these
    88 recordings that is most accepted commands, and every verdict is the one the full
    pipeline gives. (Leaving it out whenever the free decode supports the command would let
    a weakly fitting "stop" through.)"""
    sample = hc.command_sample(hc.read_manifest(shared_dir), 30)
    streams = hc.build(shared_dir, sample, conditions=("recorded",))
    clips = streams.positives + streams.negatives

    def verdicts() -> dict[str, list[Hearing]]:
        out = {}
        for clip in clips:
            engine.forget_room()  # each clip as if alone: both runs hear it the same
            out[clip.name] = run_clip(engine, clip).accepted
        return out

    quick = verdicts()
    monkeypatch.setattr(engine, "_settled_without_loop", lambda *_: None)
    full = verdicts()
    differ = [name for name in quick if acted_on(quick[name]) != acted_on(full[name])]
    assert not differ, differ
    accepted = [h for heard in quick.values() for h in heard]
    skipped = [h for h in accepted if "free decode's best" in h.reason]
    assert len(skipped) >= len(accepted) / 2, [h.reason for h in accepted]


def acted_on(hearings: list[Hearing]) -> list[tuple[str, dict[str, str]]]:
    return [(h.command.name, dict(h.command.args)) for h in hearings if h.command]
