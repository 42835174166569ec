"""Service settings: one dataclass, every key documented, loaded from YAML and CLI overrides.

Later files override earlier ones: /etc/stretch-coach/config.yaml, then
~/.config/stretch-coach/config.yaml (or $CONFIGURATION_DIRECTORY), then --config, then flags.
A bad key or value names the file, the key and what is allowed: a typo must never
silently fall back to a default on a device with no screen. default_routine alone falls back
(with a warning): the routine it names lives in the person's routine files, and one mistake
there must cost that routine, not the whole coach.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_type_hints

import yaml

from skill import paths
from skill.errors import ConfigError
from skill.yaml_lines import YamlTextError, closest, describe_value, parse_yaml_bytes

if TYPE_CHECKING:
    from skill.library.loader import LoadResult

SYSTEM_CONFIG = Path("/etc/stretch-coach/config.yaml")
# The speaking paces (Piper length scale) a setting and a voice may have: twice as fast or
# half as fast as the voice was trained is as far as speech stays easy to follow.
LENGTH_SCALE_RANGE = (0.5, 2.0)


def _key(default: Any, doc: str, **limits: Any) -> Any:
    return field(default=default, metadata={"doc": doc, **limits})


@dataclass(frozen=True)
class Settings:
    input_device: str | int | None = _key(
        None, "Microphone: ALSA/PortAudio name or index (`stretch-coach devices`); null = default."
    )
    output_device: str | int | None = _key(None, "Speaker: name or index; null = default.")
    model: str | None = _key(
        None,
        "Vosk model folder; null = the English model installed by `stretch-coach setup`, "
        "else the PocketSphinx fallback.",
    )
    voice: str | None = _key(None, "Piper voice .onnx file; null = built-in en_US-joe-medium.")
    length_scale: float = _key(
        1.1,
        "Speaking pace (Piper length scale): higher is slower.",
        lo=LENGTH_SCALE_RANGE[0],
        hi=LENGTH_SCALE_RANGE[1],
    )
    volume: float = _key(0.8, "Start volume, 0.2 to 1.0 (quieter is silent).", lo=0.2, hi=1.0)
    wake_word: str | None = _key(
        None,
        "Say this before each command: a trained wake phrase ('hey jarvis', best measured;"
        " 'okay nabu', 'alexa', 'hey mycroft'; for noisy homes), or any word the English Vosk model"
        " knows (e.g. 'coach'); null = none.",
        nonempty=True,
    )
    default_routine: str = _key(
        "upper_back",
        "Routine started by a bare 'start' or a short press: its id or spoken name"
        " ('lower_back' or 'lower back', as `stretch-coach list` shows them).",
        nonempty=True,
    )
    resume_window_hours: float = _key(
        12.0, "How long an interrupted routine can be resumed.", lo=0.0, hi=168.0
    )
    no_gpio: bool = _key(False, "Run without the button and LED.")
    button_pin: int = _key(17, "BCM pin of the button (wired to ground).", lo=0, hi=27)
    button_pull_up: bool = _key(True, "Internal pull-up (button between pin and ground).")
    led_pin: int = _key(18, "BCM pin of the LED (through a 330 ohm resistor).", lo=0, hi=27)
    led_active_high: bool = _key(True, "LED lights when the pin is high.")
    cache_cap_mb: int = _key(300, "Size cap of the spoken-phrase cache.", lo=20, hi=5000)
    log_level: str = _key("info", "Log detail.", choices=("debug", "info", "warning", "error"))
    web: bool = _key(True, "Serve the phone page (`stretch-coach web` prints its address).")
    web_bind: str = _key(
        "0.0.0.0",
        "Address the page listens on: 0.0.0.0 = the home network, 127.0.0.1 = this machine only.",
        nonempty=True,
        address=True,
    )
    web_port: int = _key(8321, "Port of the phone page.", lo=1, hi=65535)


DEFAULTS = Settings()


def _field_types() -> dict[str, tuple[type, ...]]:
    """The allowed Python types of each key, read from the annotations (one source of truth)."""
    types = {n: get_args(h) or (h,) for n, h in get_type_hints(Settings).items()}
    return {n: (*t, int) if float in t else t for n, t in types.items()}


def default_files() -> list[Path]:
    return [SYSTEM_CONFIG, paths.config_dir() / "config.yaml"]


def _type_name(types: tuple[type, ...]) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "text"}
    # A float key takes a whole number too; "a number" already says so.
    shown = [t for t in types if t is not type(None) and not (t is int and float in types)]
    parts = [names.get(t, "null") for t in shown]
    return " or ".join(parts) + (" or null" if type(None) in types else "")


def _expected(types: tuple[type, ...], meta: Mapping[str, Any]) -> str:
    """What a key takes, in words: 'a number from 0.2 to 1.0', 'one of debug, info'."""
    if "lo" in meta:
        return f"{_type_name(types)} from {meta['lo']} to {meta['hi']}"
    if "choices" in meta:
        return f"one of {', '.join(meta['choices'])}"
    return _type_name(types)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest known word, or '' when none is close."""
    close = closest(word, list(known))
    return f" Did you mean '{close}'?" if close else ""


def check_value(key: str, value: Any, where: str) -> Any:
    """Return the value converted to its field type, or raise ConfigError saying what is allowed."""
    known = {f.name: f for f in fields(Settings)}
    if key not in known:
        hint = did_you_mean(key, known)
        raise ConfigError(f"{where}: unknown key '{key}'.{hint} Known keys: {', '.join(known)}")
    types, meta = _field_types()[key], known[key].metadata
    if value is None and type(None) not in types:  # `volume:` with nothing after it
        default = yaml.safe_dump(known[key].default).splitlines()[0]
        raise ConfigError(
            f"{where}: key '{key}' is empty; give {_expected(types, meta)}, "
            f"or leave the key out for the default ({default})"
        )
    is_bool = isinstance(value, bool)
    if not isinstance(value, types) or (is_bool and bool not in types):
        raise ConfigError(f"{where}: key '{key}' must be {_type_name(types)}, not {value!r}")
    if isinstance(value, int | float) and not is_bool and "lo" in meta:
        if not meta["lo"] <= value <= meta["hi"]:
            raise ConfigError(
                f"{where}: key '{key}' is {value}; allowed: {meta['lo']} to {meta['hi']}"
            )
        return float(value) if float in types else value
    if meta.get("nonempty") and isinstance(value, str) and not value.strip():
        omit = "the flag" if where == "command line" else "the key"
        none = f", or leave {omit} out for none" if type(None) in types else ""
        raise ConfigError(f"{where}: key '{key}' is empty; give a word{none}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(
            f"{where}: key '{key}' is {value!r}; allowed: {', '.join(meta['choices'])}"
        )
    if meta.get("address") and isinstance(value, str) and not is_address(value):
        raise ConfigError(
            f"{where}: key '{key}' is {value!r}, not an address; allowed: an IP address of "
            "this machine (0.0.0.0 = every network, 127.0.0.1 = this machine only) or its name"
        )
    return value


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def is_address(value: str) -> bool:
    """An IP address, or a host name (labels of letters, digits and hyphens, not all digits:
    "999.1.1.1" is a mistyped address, not a name)."""
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    named = all(_HOST_LABEL.fullmatch(label) for label in labels)
    return named and not all(label.isdigit() for label in labels)


PATH_KEYS = ("model", "voice")


def _file_paths(values: dict[str, Any], path: Path) -> dict[str, Any]:
    """A file's model and voice paths as the person meant them: "~" is their home, and a
    relative path is beside the config file (the service runs in /var/lib/stretch-coach)."""
    out = dict(values)
    for key in PATH_KEYS:
        if isinstance(out.get(key), str):
            named = Path(out[key]).expanduser()
            out[key] = str(named if named.is_absolute() else path.parent / named)
    return out


def read_file(path: Path) -> dict[str, Any]:
    """Parse one YAML config file into checked key/values (the safe loader only)."""
    try:
        data, twice_given = parse_yaml_bytes(path.read_bytes())
    except YamlTextError as err:
        where = f"{path}:{err.line}" if err.line else str(path)
        raise ConfigError(f"{where}: {err.message}") from err
    if twice_given:
        # YAML keeps the last in silence, and the person edited the first.
        number, key = twice_given[0]
        raise ConfigError(f"{path}: line {number}: key '{key}' is given twice; keep one")
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected 'key: value' lines, found {describe_value(data)}")
    checked = {str(k): check_value(str(k), v, str(path)) for k, v in data.items()}
    return _file_paths(checked, path)


def load_settings(
    files: Sequence[Path] | None = None,
    explicit: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    origins: dict[str, str] | None = None,
) -> Settings:
    """Merge defaults, existing config files, an explicit --config file and CLI overrides.

    `origins`, when given, is filled with where each key was last set (a file or
    "command line"), so checks that need more than the config (the routine library)
    can still name the file.
    """
    settings = DEFAULTS
    where = origins if origins is not None else {}
    paths_read = [p for p in (files if files is not None else default_files()) if _readable(p)]
    if explicit is not None:
        if explicit.is_dir():
            raise ConfigError(f"{explicit}: a folder; --config takes a YAML file")
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: config file not found")
        paths_read.append(explicit)
    for path in paths_read:
        values = read_file(path)
        settings = replace(settings, **values)
        where.update(dict.fromkeys(values, str(path)))
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    checked = {k: check_value(k, v, "command line") for k, v in given.items()}
    checked.update({k: str(Path(v).expanduser()) for k, v in checked.items() if k in PATH_KEYS})
    where.update(dict.fromkeys(checked, "command line"))
    settings = replace(settings, **checked)
    _check_pins(settings, where)
    return settings


def setting_ref(key: str, where: str | None) -> str:
    """A setting as advice names it, where the person set it (a `load_settings` origin):
    the flag they gave, the config file that set it, or the config for a default."""
    if where == "command line":
        return "--" + key.replace("_", "-")
    return f"{key} in {where or 'config'}"


def _readable(path: Path) -> bool:
    """A config file to read; False when there is none. Something else in its place (a
    folder, a link to nothing) is a mistake to name, not a file to skip in silence."""
    if path.is_file():
        return True
    if path.is_dir():
        raise ConfigError(f"{path}: a folder where the config file belongs; move it aside")
    if path.is_symlink():
        raise ConfigError(f"{path}: a link to {path.readlink()}, which does not exist")
    return False


def _check_pins(settings: Settings, where: Mapping[str, str]) -> None:
    """One pin cannot be both the button and the LED (gpiozero would then call the pin busy,
    as if another program held it)."""
    if settings.no_gpio or settings.button_pin != settings.led_pin:
        return
    origin = where.get("led_pin") or where.get("button_pin") or "config"
    raise ConfigError(
        f"{origin}: button_pin and led_pin are both {settings.led_pin}; give them different "
        "pins (defaults: button 17, LED 18)"
    )


@dataclass(frozen=True)
class DefaultRoutine:
    """The routine a bare 'start' begins, and why it is not the configured one ('' when it is)."""

    id: str
    warning: str = ""


def choose_default_routine(name: str, where: str | None, loaded: LoadResult) -> DefaultRoutine:
    """The id of the routine default_routine names (its id, spoken name or an alias, as `show`
    and the voice take it: "lower back"). One that is no routine never stops the coach: the
    library's default is used instead, and the warning says why, naming the file of a routine
    skipped for a problem, or the routines there are."""
    from skill.core.exercise import find_routine

    library = loaded.library
    if where is None and name == DEFAULTS.default_routine:
        return DefaultRoutine(name)  # not chosen by the person: the library's own default
    found = library.routines.get(name) or find_routine(library, name)
    if found is not None:
        return DefaultRoutine(found.id)
    fallback = library.routines.get(library.default_routine)
    using = f"using {fallback.name if fallback else library.default_routine} until it is fixed"
    skipped = loaded.skipped_routine(name)
    if skipped is not None:
        return DefaultRoutine(
            library.default_routine,
            f"{where or 'config'}: default_routine {name!r} is in {skipped.place}, which has a "
            f"problem (see above); {using}",
        )
    known = sorted(library.routines)
    hint = did_you_mean(name, [*known, *(r.name for r in library.routines.values())])
    return DefaultRoutine(
        library.default_routine,
        f"{where or 'config'}: key 'default_routine' is {name!r}, not a routine.{hint} "
        f"Routines: {', '.join(known)}; {using}",
    )


def describe() -> str:
    """Every key with its default and meaning, as a commented YAML file."""
    lines = ["# Stretch Coach configuration (all keys optional; these are the defaults)."]
    for f in fields(Settings):
        lines.append(f"# {f.metadata['doc']}")
        lines.append(yaml.safe_dump({f.name: f.default}).strip())
    return "\n".join(lines) + "\n"
