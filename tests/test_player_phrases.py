"""Every sentence the player says is in all_phrases (so the cache can pre-render it)."""

from __future__ import annotations

import pytest
from test_player_support import real_library, start, tiny_library

from skill.core.events import COMMANDS, Command, DeviceProblem, Speak
from skill.core.exercise import Library
from skill.core.phrases import all_phrases, split_sentences
from skill.core.player import PlayerSettings
from skill.core.simulate import Simulation


def _libraries() -> list[Library]:
    real = real_library()
    return [tiny_library()] + ([real] if real is not None else [])


def _said(sim: Simulation) -> set[str]:
    """Sentences spoken, without the time-left answers (their numbers are live)."""
    texts = [a.text for a in sim.actions if isinstance(a, Speak)]
    return {s for t in texts if "left in the routine" not in t for s in split_sentences(t)}


def test_split_sentences_is_deterministic_and_trims() -> None:
    assert split_sentences("  Lift your arm.  Hold it!  Ready? go ") == [
        "Lift your arm.",
        "Hold it!",
        "Ready?",
        "go",
    ]
    assert split_sentences("") == []
    assert split_sentences("Three.") == ["Three."]


@pytest.mark.parametrize("library", _libraries(), ids=lambda lib: f"{len(lib.routines)}routines")
def test_a_plain_run_of_every_routine_says_only_listed_sentences(library: Library) -> None:
    phrases = all_phrases(library)
    for routine_id in library.routines:
        sim = Simulation(library, tick=None)
        start(sim, routine_id)
        sim.run()
        missing = _said(sim) - phrases
        assert not missing, f"{routine_id}: not in all_phrases: {sorted(missing)[:5]}"


@pytest.mark.parametrize("wake", [False, True], ids=["no-wake-word", "wake-word"])
@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_says_only_listed_sentences(name: str, wake: bool) -> None:
    library = tiny_library()
    phrases = all_phrases(library, wake=wake)
    for when in (1.0, 40.0, 75.0, 120.0):
        sim = Simulation(library, PlayerSettings(wake_word=wake), tick=None)
        sim.send(Command(name))  # while idle
        start(sim, "other_one")
        sim.advance_to(when)
        for _ in range(4):  # repeated, to reach limits (slowest pace, last part)
            sim.send(Command(name))
        sim.send(DeviceProblem("microphone", ok=False))
        sim.send(DeviceProblem("microphone", ok=True))
        sim.send(DeviceProblem("speaker", ok=False))
        sim.send(DeviceProblem("speaker", ok=True))
        sim.advance_to(when + 30)
        sim.send(Command("resume"))
        sim.run()
        missing = _said(sim) - phrases
        assert not missing, f"{name} at {when}: not in all_phrases: {sorted(missing)[:5]}"


def test_resume_after_restart_says_only_listed_sentences() -> None:
    library = tiny_library()
    first = Simulation(library, tick=None)
    start(first)
    first.advance_to(50.0)
    first.send(Command("pause"))
    snap = first.player.saved
    assert snap is not None
    again = Simulation(library, tick=None, saved=dict(snap), wall_start=first.wall_start + 60)
    again.send(Command("resume"))
    again.run()
    assert _said(again) <= all_phrases(library)


def test_behind_a_wake_word_the_coach_asks_for_it_and_never_says_it() -> None:
    """QA: with wake_word: hey jarvis the coach said "Say ready when you have it", and a bare
    "ready" was refused. And it must not say the phrase itself: Piper saying "say hey jarvis,
    resume" woke the detector (0.997-0.999), which then let any word through after it."""
    from skill.core import phrases
    from skill.speech_in.wake_word import TRAINED

    library = tiny_library()
    sim = Simulation(library, PlayerSettings(wake_word=True), tick=None)
    sim.send(Command("start"))
    sim.send(Command("pause"))
    said = " ".join(a.text for a in sim.actions if isinstance(a, Speak))
    assert "Say the wake word, then resume" in said
    assert "Say resume" not in said
    routine = library.routines["tiny"]
    offer = phrases.resume_offer(routine, listening=True, button=True, wake_word="hey jarvis")
    assert "say the wake word, then resume" in offer.lower() and "jarvis" not in offer.lower()
    everything = " ".join(all_phrases(library, wake=True)).lower()
    assert not [p for p in TRAINED if p in everything]
    assert "You can say, each after the wake word: " in phrases.addressed(phrases.HELP, True)
