"""Where Stretch Coach keeps things: built-in exercises, user files, state, cache and models.

systemd hands a service its directories in $STATE_DIRECTORY / $CACHE_DIRECTORY /
$CONFIGURATION_DIRECTORY; a person running it by hand gets the XDG locations.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "stretch-coach"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def _systemd_dir(var: str) -> Path | None:
    """systemd may pass several colon-separated directories; the first is ours."""
    value = os.environ.get(var)
    return Path(value.split(":")[0]) if value else None


def builtin_exercises_dir() -> Path:
    """The shipped YAML: inside the wheel, or the repository's `exercises/` when editable."""
    packaged = Path(__file__).parent / "exercises"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "exercises"


def config_dir() -> Path:
    return _systemd_dir("CONFIGURATION_DIRECTORY") or _xdg("XDG_CONFIG_HOME", ".config") / APP


def user_routines_dir() -> Path:
    """User YAML files that add or override exercises and routines by id."""
    return config_dir() / "routines"


def state_dir() -> Path:
    return _systemd_dir("STATE_DIRECTORY") or _xdg("XDG_STATE_HOME", ".local/state") / APP


def cache_dir() -> Path:
    return _systemd_dir("CACHE_DIRECTORY") or _xdg("XDG_CACHE_HOME", ".cache") / APP


def data_dir() -> Path:
    """Downloaded models and voices live here (large, but not a cache: never evicted)."""
    return _systemd_dir("STATE_DIRECTORY") or _xdg("XDG_DATA_HOME", ".local/share") / APP
