"""Shared fixtures: the read-only recordings and seed pages in ../shared, and test audio devices."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("STRETCH_COACH_SHARED", REPO.parent / "shared"))


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
