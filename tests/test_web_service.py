"""The phone page of a real `stretch-coach run` with no microphone and no speaker: the page is
then the only way to start, and its commands take the same path as voice and button."""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
from pathlib import Path

from skill.web.pairing import csrf_token
from skill.web.probe import PageProbe
from tests.test_service import Rig, ServiceProcess, service_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, token: str, body: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {
        "Cookie": f"coach_session={token}",
        "Origin": f"http://127.0.0.1:{port}",
        "X-CSRF-Token": csrf_token(token),
        "Content-Type": "application/json",
    }
    conn.request("POST", "/api/command", json.dumps(body), headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_page_starts_and_stops_a_routine_without_microphone_or_speaker(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"web_bind: 127.0.0.1\nweb_port: {port}\n")
    rig = Rig(tmp_path / "rig", microphone=False)
    argv = [sys.executable, "-m", "skill", "run", "--no-gpio", "--config", str(config)]
    argv += ["--input-device", "mic", "--output-device", "no-such-speaker"]
    svc = ServiceProcess(argv, service_env(rig.folder, rig.device))
    rig.processes.append(svc)
    try:
        svc.wait_for(r"ERROR speaker: ", timeout=60)
        ready, _ = svc.wait_for(r"INFO ready: no microphone yet", timeout=60)
        # The page starts after READY (the voice first), and says when it serves.
        loopback = rf"web: open http://127\.0\.0\.1:{port}/ in a browser on this machine"
        serving, _ = svc.wait_for(loopback, timeout=60)
        assert serving > ready
        page = PageProbe(rig.folder / "state" / "stretch-coach" / "web", port)
        page.start()
        assert post(port, page.token, {"name": "start", "routine": "quick_stretch"}) == 202
        svc.wait_for(r"command start from web")
        svc.wait_for(r"state idle -> running")
        deadline = time.monotonic() + 10
        while page.first_view(0.0, lambda v: v["mode"] == "running") is None:
            assert time.monotonic() < deadline, f"no running view: {page.problem}\n{svc.log}"
            time.sleep(0.05)
        assert post(port, page.token, {"name": "stop"}) == 202
        svc.wait_for(r"state running -> idle")
        code, _ = svc.stop()
        assert code == 0, svc.log
    finally:
        rig.close()
    # stopped before its first hold: nothing was done, so no session (and no streak day)
    assert not (rig.folder / "state" / "stretch-coach" / "history.jsonl").exists()
    assert "routine stopped" in svc.log
