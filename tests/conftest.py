"""Shared fixtures: the read-only recordings and seed pages in ../shared, and test audio devices."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Modules whose tests run the real engines, Piper, audio devices or the service as a
# subprocess: seconds each. They are marked slow, so `make check` (-m "not slow") is the
# in-process tier a developer runs often; `make test` runs everything.
REAL_PATH_MODULES = frozenset(
    {
        "test_asr_human",
        "test_asr_sphinx",
        "test_asr_vosk",
        "test_microphone",
        "test_phrase_cache",
        "test_playback",
        "test_recognize_cli",
        "test_recognize_live",
        "test_service",
        "test_service_e2e",
        "test_setup",
        "test_speaker",
        "test_speech_corpus",
        "test_systemd",
        "test_voice",
        "test_wake_word",
        "test_web_browser",
        "test_web_service",
    }
)
SHARED = Path(os.environ.get("STRETCH_COACH_SHARED", REPO.parent / "shared"))


@pytest.fixture
def xdg_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The person's folders in tmp_path (XDG_DATA_HOME is tmp_path/xdg_data_home, and so on;
    the systemd folder variables unset): no config of theirs, empty state, data and cache."""
    for var in ("STATE_DIRECTORY", "CONFIGURATION_DIRECTORY", "CACHE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    return tmp_path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository; tests that need it skip, saying why, when it is absent."""
    if not (SHARED / "audio" / "MANIFEST.csv").is_file():
        pytest.skip(f"needs the shared recordings and seed pages at {SHARED} (not present here)")
    return SHARED


@pytest.fixture(scope="session")
def audio_manifest(shared_dir: Path) -> list[dict[str, str]]:
    """Rows of ../shared/audio/MANIFEST.csv: path, kind (command/speech/noise), label, ..."""
    with (shared_dir / "audio" / "MANIFEST.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in REAL_PATH_MODULES:
            item.add_marker(pytest.mark.slow)
