"""Runs a test scenario script in a child process whose ALSA config is a file device.

sounddevice reads the ALSA configuration when it is first imported, so playback tests run
their body in a fresh interpreter; the script prints one JSON line with what it measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from skill.tools.file_audio import FileAudioDevice

REPO = Path(__file__).resolve().parent.parent


def run_scenarios(script: str, device: FileAudioDevice, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={"PATH": "/usr/bin:/bin", **device.env()},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
