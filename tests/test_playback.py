"""Playback through the real sounddevice/PortAudio path into an ALSA `file` device.

sounddevice reads ALSA_CONFIG_PATH when first imported, and other test modules may import it
first in this pytest process, so the scenarios run in one child process with the test device.
"""

from __future__ import annotations

from typing import Any

import pytest

from skill.hardware.playback import describe_open_error
from skill.tools.file_audio import make_device
from tests.subprocess_scenarios import run_scenarios

SCENARIOS = r"""
import json, sys, threading, time
import numpy as np
from skill.hardware.playback import AudioOutput, AudioDeviceError
from skill.speech_out.voice import load_voice

speaker_file = sys.argv[1]
def captured():
    return np.fromfile(speaker_file, dtype=np.int16)

voice = load_voice()
pcm = voice.synthesize("Lie on your back and bend your knees. Breathe slowly.")
out = {"phrase_s": len(pcm) / voice.sample_rate}
events = []
done = threading.Event()
def on_done(cid, completed):
    events.append([cid, completed])
    done.set()

with AudioOutput(on_clip_done=on_done) as player:
    out["rate"] = player.rate
    t0 = time.monotonic()
    player.play(pcm, voice.sample_rate, 1)
    done.wait(20)
    out["full_wall_s"] = time.monotonic() - t0
    time.sleep(0.3)  # let ALSA flush its last period to the file
    full = captured()
    out["full_captured"] = len(full)
    out["full_rms"] = float(np.sqrt(np.mean(full.astype(float) ** 2)))

    done.clear()
    player.play(pcm, voice.sample_rate, 2)
    player.play(pcm, voice.sample_rate, 3)
    time.sleep(0.8)
    t_stop = time.monotonic()
    player.stop()
    while len(events) < 3 and time.monotonic() - t_stop < 2:
        time.sleep(0.005)
    out["stop_report_ms"] = (time.monotonic() - t_stop) * 1000
    time.sleep(0.5)
    out["cut_captured"] = len(captured()) - len(full)

    done.clear()
    start = len(captured())
    t = np.arange(int(1.6 * 22050)) / 22050
    tone = (0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    player.play(tone, 22050, 4)
    time.sleep(0.7)
    player.set_volume(0.25)
    done.wait(5)
    time.sleep(0.3)
    out["tone"] = captured()[start:].tolist()
out["events"] = events

try:
    AudioOutput("no-such-speaker")
except AudioDeviceError as err:
    out["missing_error"] = str(err)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    device = make_device(tmp_path_factory.mktemp("alsa"), speaker_rate=48000)
    return run_scenarios(SCENARIOS, device, str(device.speaker))


def test_phrase_is_played_whole_at_the_device_rate(run: dict[str, Any]) -> None:
    captured_s = run["full_captured"] / 48000  # the file holds the device's 48 kHz
    assert captured_s == pytest.approx(run["phrase_s"], rel=0.08)
    assert run["full_rms"] > 1000  # speech, not silence
    assert [1, True] in run["events"]


def test_writer_paces_itself_by_the_clock(run: dict[str, Any]) -> None:
    # The null device accepts data instantly: finishing early would mean running ahead.
    assert run["full_wall_s"] >= 0.95 * run["phrase_s"]


def test_stop_cuts_the_phrase_and_drops_the_queue(run: dict[str, Any]) -> None:
    assert [2, False] in run["events"] and [3, False] in run["events"]
    cut_s = run["cut_captured"] / 48000
    assert 0.5 < cut_s < 0.8 + 0.25  # what played before stop, plus at most the lead
    assert cut_s < 0.5 * run["phrase_s"]
    assert run["stop_report_ms"] < 500


def test_volume_change_applies_to_the_next_blocks(run: dict[str, Any]) -> None:
    import numpy as np

    tone = np.array(run["tone"], dtype=float)
    before = np.abs(tone[int(0.2 * 48000) : int(0.5 * 48000)]).max()
    after = np.abs(tone[int(1.1 * 48000) : int(1.5 * 48000)]).max()
    assert before == pytest.approx(0.5 * 32767, rel=0.05)
    assert after / before == pytest.approx(0.25, rel=0.05)
    assert len(tone) / 48000 == pytest.approx(1.6, rel=0.08)


def test_missing_speaker_error_says_how_to_fix(run: dict[str, Any]) -> None:
    assert "no-such-speaker" in run["missing_error"]
    assert "stretch-coach devices" in run["missing_error"]


def test_busy_speaker_message_names_the_cause() -> None:
    err = Exception("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")
    message = describe_open_error("hw:1,0", err)
    assert "busy" in message and "another program" in message and "output_device" in message
    absent = describe_open_error(7, Exception("Error querying device 7"))
    assert "speaker 7 was not found" in absent and "stretch-coach devices" in absent
