"""Speaker end to end: real Piper voice, real phrase cache, real PortAudio into an ALSA file.

Runs in a child process so ALSA_CONFIG_PATH is set before sounddevice is first imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from skill.tools.file_audio import make_device
from tests.subprocess_scenarios import (
    REPO,
    run_scenarios,
)

TEXT = "Lie on your back. Pull your right knee gently to your chest."

SCENARIOS = r"""
import json, sys, threading, time
import numpy as np
from pathlib import Path
from skill.speech_out import tones
from skill.speech_out.phrase_cache import PhraseCache
from skill.core.phrases import split_sentences
from skill.hardware.playback import AudioOutput
from skill.speech_out.speaker import Speaker
from skill.speech_out.voice import load_voice
from skill.tools.bench_tts import first_audio_ms

speaker_file, cache_dir, text = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
def captured():
    return len(np.fromfile(speaker_file, dtype=np.int16)) / 48000

voice = load_voice()
cache = PhraseCache(cache_dir, voice.key, voice.length_scale, sample_rate=voice.sample_rate)
done, started = [], []
finished = threading.Event()
def on_done(uid):
    done.append(uid)
    finished.set()
out = {"sentences": split_sentences(text)}

with AudioOutput() as player:
    sp = Speaker(voice, cache, player, on_done=on_done, on_audio_start=started.append)
    out["uncached_before"] = cache.hit_rate(out["sentences"])
    sp.say(text, 7)
    while not started:
        time.sleep(0.01)
    out["speaking_text"] = sp.current_text
    pcm, rate = sp.current_audio
    first = cache.get(out["sentences"][0])
    out["speaking_audio"] = [bool(np.array_equal(pcm, first)), rate == voice.sample_rate]
    out["is_speaking"] = sp.is_speaking
    finished.wait(30)
    time.sleep(0.3)
    out["after_first"] = {
        "is_speaking": sp.is_speaking,
        "current_text": sp.current_text,
        "current_audio": sp.current_audio is None,
    }
    out["cached_after"] = cache.hit_rate(out["sentences"])
    out["expected_s"] = sum(len(cache.get(s)) for s in out["sentences"]) / voice.sample_rate
    out["first_s"] = captured()

    def no_synthesis(text):
        raise AssertionError(f"synthesized {text!r} again")
    voice.synthesize = no_synthesis  # the second time must come from the cache
    finished.clear()
    sp.say(text, 8)
    finished.wait(30)
    time.sleep(0.3)
    out["second_s"] = captured() - out["first_s"]

    before = captured()
    finished.clear()
    sp.say(text, 9)
    time.sleep(0.6)
    sp.stop()
    finished.wait(2)
    time.sleep(0.5)
    out["stopped_s"] = captured() - before

    before = captured()
    sp.cue("hold_start")
    time.sleep(0.8)
    out["cue_s"] = captured() - before
    out["cue_expected_s"] = len(tones.render("hold_start", 48000)) / 48000
    out["cached_first_audio_ms"] = first_audio_ms(sp, text, 11)
    time.sleep(0.3)

    del voice.synthesize  # the counts are new sentences
    def wait_done(uid):
        deadline = time.monotonic() + 30
        while uid not in done and time.monotonic() < deadline:
            time.sleep(0.01)
    before = captured()
    sp.say(text, 12)
    sp.say("Two.", 13, timely=True)  # a count due while the answer is still playing
    out["late_count_done_at_once"] = 13 in done and 12 not in done
    wait_done(12)
    time.sleep(0.3)
    out["answer_with_late_count_s"] = captured() - before
    before = captured()
    sp.say("Three.", 14, timely=True)
    sp.say("Four.", 15, timely=True)  # counts queue behind counts
    wait_done(15)
    time.sleep(0.3)
    out["counts_s"] = captured() - before
    counts = ("Three.", "Four.")
    out["counts_expected_s"] = sum(len(cache.get(s)) for s in counts) / voice.sample_rate
out["done"] = done
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    device = make_device(tmp_path_factory.mktemp("alsa"), speaker_rate=48000)
    cache = tmp_path_factory.mktemp("phrases")
    return run_scenarios(SCENARIOS, device, str(device.speaker), str(cache), TEXT)


def test_uncached_utterance_is_spoken_whole_and_cached(run: dict[str, Any]) -> None:
    assert len(run["sentences"]) == 2
    assert run["uncached_before"] == 0.0
    assert run["cached_after"] == 1.0
    assert run["first_s"] == pytest.approx(run["expected_s"], rel=0.1)


def test_what_is_being_said_is_known_while_speaking(run: dict[str, Any]) -> None:
    assert run["speaking_text"] == TEXT
    assert run["is_speaking"] is True
    assert run["after_first"] == {"is_speaking": False, "current_text": "", "current_audio": True}


def test_the_sentence_playing_is_known_for_the_echo_check(run: dict[str, Any]) -> None:
    """The fallback recognizer tells the person from the coach by what is played: the first
    sentence's audio, at the voice's rate."""
    assert run["speaking_audio"] == [True, True]


def test_cached_utterance_plays_without_synthesis(run: dict[str, Any]) -> None:
    assert run["second_s"] == pytest.approx(run["expected_s"], rel=0.1)
    assert 8 in run["done"]


def test_stop_cuts_speech_and_reports_it_done_once(run: dict[str, Any]) -> None:
    assert run["done"].count(9) == 1
    assert 0.3 < run["stopped_s"] < 0.6 + 0.3
    assert run["done"][:3] == [7, 8, 9]


def test_cue_tone_plays_and_is_not_an_utterance(run: dict[str, Any]) -> None:
    assert run["cue_s"] == pytest.approx(run["cue_expected_s"], abs=0.1)
    assert run["done"][:4] == [7, 8, 9, 11]  # the cue is not among them


def test_say_out_writes_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }
    cmd = [sys.executable, "-m", "skill", "say", "Hello there. Time to stretch.", "--out"]
    proc = subprocess.run(
        [*cmd, str(out), "--length-scale", "1.2"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 22050
        assert 1.5 < wav.getnframes() / 22050 < 6
    assert list((tmp_path / "cache" / "stretch-coach" / "phrases").glob("*.wav"))
    bad = subprocess.run(
        [*cmd, str(tmp_path / "x.mp3")], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "ending in .wav" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = subprocess.run(
        [*cmd[:-1], "--voice", str(tmp_path / "none.onnx")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "none.onnx" in missing.stderr
    assert os.path.exists(out)


def test_say_out_into_a_missing_folder_is_one_clear_message(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = tmp_path / "no" / "such" / "dir" / "x.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "skill", "say", "hi", "--out", str(out), "--no-cache"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == f"stretch-coach: cannot write {out}: No such file or directory\n"
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_count_due_while_other_speech_plays_is_left_out(run: dict[str, Any]) -> None:
    """An answer to "help" during a hold must not push the counts after it late: a count
    that would wait behind it is not said (and reported done at once), counts behind counts
    are."""
    assert run["late_count_done_at_once"] is True
    assert run["done"][4:] == [13, 12, 14, 15]
    assert run["answer_with_late_count_s"] == pytest.approx(run["expected_s"], rel=0.1)
    assert run["counts_s"] == pytest.approx(run["counts_expected_s"], rel=0.15)
