"""`stretch-coach recognize` and the running service give the same clips the same verdict.

The same audio goes both ways: as WAV files to `stretch-coach recognize --json`, and through
the ALSA file-backed microphone (a FIFO fed at real-time pace at 48 kHz, as a USB microphone
runs) to a real service. A person speaks after some quiet, not over the coach: each clip is
fed once the coach has been quiet for a while (its replies are not sent back into the
microphone, so the echo gate only sees when the coach talks). For a clip `recognize`
accepts, the service must act on the same command; for one it rejects, on none.
The clips: real people (stop, repeat, and words that are not commands, read where they
are in ../shared/audio/human) and the plain Piper voice; the commands chosen do not start a
routine, so every clip is heard by an idle coach whose replies are short.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from skill.hardware.wav import read_wav, write_wav
from skill.tools.speech_corpus import PiperRenderer, cached, resample
from tests.test_service import REPO, Rig, ServiceProcess, service_env

CLIPS = REPO / ".cache" / "test-audio"  # shared with the recognizer tests
MIC_RATE = 48000
HUMAN = SHARED / "audio" / "human" / "clips"
# Real people, as recorded: commands heard and missed, and words that are no command (some
# of them close to one: 'enabled' decodes as "start middle back" on the grammar).
HUMAN_CLIPS = (
    "an4_stop_001",
    "an4_stop_003",
    "an4_repeat_001",
    "gscv1_stop_001",
    "gscv1_stop_003",
    "an4_yes_001",
    "asterisk_enabled_001",
)
PIPER_PHRASES = ("Repeat.", "Stop.", "It might rain later today.")
QUIET_BEFORE_S = 1.3  # the coach silent this long before a clip (the gate's tail is 0.8 s)
DECIDED_S = 2.0  # after a clip has been fed, the service has decided (endpoint + decode)
# Of the whole set. A verdict near the boundary depends on where the words fall in the
# fallback's 30 ms frames, which a live stream cannot choose: recognize_files on
# gscv1_stop_001 shifted by 0-29 ms of leading silence accepts it at 5 of 20 shifts, the
# same with the microphone's 48 kHz round trip and after earlier clips. The plain Piper
# voice (without synthesis noise: the same audio on every clone) is rejected by both on
# "Repeat." and "Stop." (the free decode hears "that the to" and "got to"), so the accepted
# side rests on the three human commands. Measured 2026-12-06 from an empty cache, twice:
# 1 disagreement (gscv1_stop_001) and 0 of 10.
ALLOWED_DISAGREEMENTS = 2


@dataclass(frozen=True)
class Clip:
    name: str
    wav: Path  # what `recognize` reads
    mic: bytes  # the same audio as the microphone delivers it: S16_LE mono at MIC_RATE


def _mic_bytes(pcm: np.ndarray, rate: int) -> bytes:
    return resample(pcm.astype(np.float32), rate, MIC_RATE).tobytes()


def _piper(piper: PiperRenderer, phrase: str) -> np.ndarray:
    return cached(CLIPS, f"piper|{phrase}|1.0|0.0", lambda: piper(phrase))


def _clips(folder: Path) -> list[Clip]:
    clips = []
    for name in HUMAN_CLIPS:
        path = HUMAN / f"{name}.wav"
        pcm, rate = read_wav(path)
        clips.append(Clip(name, path, _mic_bytes(pcm, rate)))
    piper = PiperRenderer()
    for phrase in PIPER_PHRASES:
        pcm = _piper(piper, phrase)
        path = folder / f"piper-{phrase.rstrip('.').replace(' ', '-').lower()}.wav"
        write_wav(path, pcm, 16000)
        clips.append(Clip(path.stem, path, _mic_bytes(pcm, 16000)))
    return clips


def _recognized(clips: list[Clip], env: dict[str, str]) -> dict[str, str | None]:
    """`stretch-coach recognize --json` on every clip: the command it chose, or None."""
    argv = [sys.executable, "-m", "skill", "recognize", "--json", *(str(c.wav) for c in clips)]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    by_file = {row["file"]: row["command"] for row in rows}
    return {c.name: by_file[str(c.wav)] for c in clips}


class Listener:
    """The running service, fed one clip at a time, each after the coach fell quiet."""

    def __init__(self, rig: Rig, svc: ServiceProcess) -> None:
        self.rig, self.svc = rig, svc

    def wait_quiet(self, timeout: float = 30.0) -> None:
        self.rig.wait_quiet(QUIET_BEFORE_S, timeout, lambda: self.svc.log)

    def act_on(self, clip: Clip) -> tuple[str | None, list[str]]:
        """The command the service acted on for `clip` (None: none), and what it heard."""
        assert self.rig.feeder is not None
        start = len(self.svc.lines)
        feeding = self.rig.feeder.play(clip.mic)
        with contextlib.suppress(AssertionError):  # a hearing of nothing is not logged
            self.svc.wait_for(r" heard ", timeout=feeding + DECIDED_S, after=start)
        self.wait_quiet()  # its reply, if any, is over before the next clip
        lines = [text for _, text in self.svc.lines[start:]]
        acted = [ln.split("command ", 1)[1].split()[0] for ln in lines if " from voice" in ln]
        heard = [ln.split(" heard ", 1)[1] for ln in lines if " heard " in ln]
        if any("state idle -> running" in ln for ln in lines):  # a wrong start: end it
            self.svc.command("stop")
            self.svc.wait_for(r"state running -> idle", after=start)
        return (acted[0] if acted else None), heard


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path / "rig")
    yield made
    made.close()


def test_recognize_and_the_running_service_agree_on_the_same_clips(
    rig: Rig, tmp_path: Path, shared_dir: Path
) -> None:
    if not HUMAN.is_dir():
        pytest.skip(f"needs the human recordings at {HUMAN}")
    clips = _clips(tmp_path)
    env = service_env(rig.folder, rig.device)  # no Vosk model there: both use the fallback
    svc = rig.start()  # the real Service, PortAudio microphone; stdin stands for the button
    offline = _recognized(clips, env)
    svc.wait_for(r"INFO ready:", timeout=30)
    assert "PocketSphinx fallback" in svc.log, svc.log  # the engine `recognize` ran
    live = Listener(rig, svc)
    live.wait_quiet()
    rows = []
    for clip in clips:
        acted, heard = live.act_on(clip)
        rows.append((clip.name, offline[clip.name], acted, heard))
    code, _ = svc.stop()
    assert code == 0, svc.log
    report = "\n".join(f"{n:28} recognize={o!s:8} service={a!s:8} heard={h}" for n, o, a, h in rows)
    print(report)
    accepted = [r for r in rows if r[1] is not None]
    rejected = [r for r in rows if r[1] is None]
    assert len(accepted) >= 3 and len(rejected) >= 3, report  # both verdicts are tested
    disagree = [r for r in rows if r[1] != r[2]]
    assert len(disagree) <= ALLOWED_DISAGREEMENTS, f"{len(disagree)} of {len(rows)}:\n{report}"
