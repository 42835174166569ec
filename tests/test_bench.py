"""`stretch-coach bench`: the cheap groups run for real and report every number they promise.

Numbers are machine-dependent, so nothing here compares a measurement with its goal; the
tests check that each metric is there and numeric, and that the reporting logic is right.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skill.cli.cmd_bench import chosen_groups
from skill.cli.main import main
from skill.tools import bench

REPO = Path(__file__).resolve().parent.parent
# Persistent, so the service group's warm phrase cache is rendered once per checkout (slow
# the first time: every phrase through Piper), not once per test run. Seeded from the phrases
# tests/test_service.py renders, when that ran first.
BENCH_CACHE = REPO / ".cache" / "bench-xdg"
SERVICE_TEST_PHRASES = REPO / ".cache" / "test-service-xdg" / "stretch-coach" / "phrases"

QUICK_METRICS = {
    "player_full_back_virtual_s",
    "player_full_back_wall_ms",
    "player_speedup",
    "tts_rtf",
    "tts_first_audio_ms_cached",
    "tts_first_audio_ms_uncached",
    "tts_cache_hit_rate",
    "startup_ms",
    "service_peak_rss_mb",
    "shutdown_ms",
    "service_command_heard",
    "service_command_latency_ms",
    "web_ready_ms",  # the phone page starts after READY, and serves
    "web_update_latency_ms",
}


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`stretch-coach bench --quick --json` in a fresh process, on a file-backed ALSA device."""
    home = tmp_path_factory.mktemp("bench-home")
    bench.link_or_copy_tree(SERVICE_TEST_PHRASES, BENCH_CACHE / "stretch-coach" / "phrases")
    env = dict(os.environ)
    env |= {
        "XDG_CACHE_HOME": str(BENCH_CACHE),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "STRETCH_COACH_BENCH_FILE_DEVICE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "skill", "bench", "--quick", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.slow  # runs the quick bench: the service as a subprocess
def test_quick_bench_reports_every_metric_as_a_number(quick_report: dict[str, Any]) -> None:
    assert quick_report["skipped"] == {}, quick_report["skipped"]
    metrics = quick_report["metrics"]
    assert not QUICK_METRICS - set(metrics), QUICK_METRICS - set(metrics)
    for name in QUICK_METRICS:
        value = metrics[name]
        assert isinstance(value, int | float) and not isinstance(value, bool), (name, value)
        assert math.isfinite(value) and value >= 0, (name, value)
    assert 0.0 <= metrics["tts_cache_hit_rate"] <= 1.0
    # It once read 0 unnoticed: the bench fed a 16 kHz FIFO that ALSA's plug turned to zeros.
    assert metrics["service_command_heard"] == 1.0
    assert set(quick_report["seconds"]) == set(bench.QUICK_GROUPS)


@pytest.mark.slow  # runs the quick bench: the service as a subprocess
def test_quick_bench_shows_each_goal_beside_its_number(quick_report: dict[str, Any]) -> None:
    goals = quick_report["goals"]
    for name in ("tts_first_audio_ms_cached", "tts_cache_hit_rate", "startup_ms"):
        assert goals[name] == bench.goal_text(name)
    assert goals["service_peak_rss_mb"] == "<= 300"
    met = quick_report["met"]
    assert met["startup_ms"] == (quick_report["metrics"]["startup_ms"] <= 3000)


def test_table_marks_missed_goals_and_skipped_groups() -> None:
    results = [
        bench.GroupResult("tts", {"tts_first_audio_ms_cached": 35.0, "tts_rtf": 0.4}),
        bench.GroupResult("service", {"startup_ms": 1200.0}),
        bench.GroupResult("asr", skipped="needs the shared recordings"),
    ]
    lines = bench.render_table(results).splitlines()
    cached = next(line for line in lines if "tts_first_audio_ms_cached" in line)
    startup = next(line for line in lines if "startup_ms" in line)
    rtf = next(line for line in lines if "tts_rtf" in line)
    assert "<= 20" in cached and cached.rstrip().endswith("MISSED")
    assert "<= 3000" in startup and startup.rstrip().endswith("met")
    assert not rtf.rstrip().endswith(("met", "MISSED"))
    assert any("asr" in line and "skipped: needs the shared recordings" in line for line in lines)


def test_unmeasurable_metric_is_null_in_json_not_a_goal_verdict() -> None:
    report = bench.to_json([bench.GroupResult("asr", {"command_latency_ms_p95": math.nan})])
    assert report["metrics"]["command_latency_ms_p95"] is None
    assert report["met"]["command_latency_ms_p95"] is None
    json.dumps(report, allow_nan=False)  # strict JSON: no NaN leaks out


def test_asr_group_says_why_it_cannot_run_without_recordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRETCH_COACH_SHARED", str(tmp_path))
    reason = bench.corpus_unavailable()
    assert reason is not None and str(tmp_path) in reason


def test_only_and_quick_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--only", "player"]) == 1
    assert "either --only or --quick" in capsys.readouterr().err


def test_asr_clip_order_makes_every_prefix_an_even_sample() -> None:
    """A budget-cut asr run must still cover each phrase's voices and both clip kinds."""
    positives = [f"p{i}" for i in range(60)]  # e.g. 10 phrases x 6 voices, phrase-major
    negatives = [f"n{i}" for i in range(20)]
    order = bench.interleave(positives, negatives)
    assert sorted(clip for _, clip in order) == sorted(positives + negatives)
    first = order[:20]
    assert sum(positive for positive, _ in first) == 15  # 3:1, as in the whole set
    phrases = {int(clip[1:]) // 6 for positive, clip in first if positive}
    assert phrases == set(range(10))  # every phrase, not just the first few


def test_human_goals_are_the_products() -> None:
    assert bench.goal_text("human_command_accuracy_recorded") == ">= 0.9"
    assert bench.goal_text("human_command_accuracy_kitchen20db") == ">= 0.8"
    assert bench.goal_text("human_command_accuracy_bike10db") == ">= 0.5"
    assert bench.goal_text("human_stop_accuracy") == ">= 0.9"
    for name in ("human_false_accepts", "human_false_accepts_per_hour", "human_wrong_commands"):
        assert bench.goal_text(name) == "<= 0"
    assert bench.goal_text("pi_startup_ms") == "<= 3000"
    assert bench.goal_text("pi_human_command_latency_ms_p95") == "<= 500"
    assert bench.meets_goal("pi_asr_rtf", 0.4) and not bench.meets_goal("pi_asr_rtf", 1.2)


def test_human_set_says_why_it_cannot_run_without_recordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRETCH_COACH_SHARED", str(tmp_path))
    reason = bench.measure_human(None, None)  # type: ignore[arg-type]  # never gets to use them
    assert isinstance(reason, str) and str(tmp_path) in reason


def test_json_carries_each_groups_details() -> None:
    result = bench.GroupResult("asr", {"human_false_accepts": 2.0}, details={"human": {"x": 1}})
    report = bench.to_json([result, bench.GroupResult("tts", {"tts_rtf": 0.1})])
    assert report["details"] == {"asr": {"human": {"x": 1}}}
    assert report["met"]["human_false_accepts"] is False


def test_cpu_quota_alone_runs_only_the_throttled_part() -> None:
    args = argparse.Namespace(only=None, quick=False, cpu_quota=0.2)
    assert chosen_groups(args) == []
    args.quick = True
    assert chosen_groups(args) == list(bench.QUICK_GROUPS)
