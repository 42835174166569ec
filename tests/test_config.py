"""Config files: defaults, layering, and a precise message for every kind of bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill import config


def write(tmp_path: Path, text: str | bytes, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_no_files_gives_documented_defaults() -> None:
    settings = config.load_settings(files=[])
    assert settings == config.DEFAULTS
    assert settings.button_pin == 17 and settings.led_pin == 18


def test_later_files_and_flags_override_earlier(tmp_path: Path) -> None:
    system = write(tmp_path, "volume: 0.3\nled_pin: 12\n", "system.yaml")
    user = write(tmp_path, "volume: 0.5\n", "user.yaml")
    settings = config.load_settings(files=[system, user], overrides={"led_pin": 13})
    assert (settings.volume, settings.led_pin) == (0.5, 13)


def test_none_override_keeps_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, "input_device: hw:1,0\n")
    settings = config.load_settings(files=[path], overrides={"input_device": None})
    assert settings.input_device == "hw:1,0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("volum: 0.5\n", "unknown key 'volum'. Did you mean 'volume'?"),
        ("volume: loud\n", "key 'volume' must be a number"),
        ("volume: 3\n", "key 'volume' is 3; allowed: 0.2 to 1.0"),
        ("no_gpio: 1\n", "key 'no_gpio' must be true/false"),
        ("log_level: chatty\n", "allowed: debug, info, warning, error"),
        ("volume: [1\n", ":2: not valid YAML"),
        ("- a list\n", "expected 'key: value' lines"),
        (b"voice: \xff\xfe\n", "not UTF-8"),
        ("wake_word: ''\n", "key 'wake_word' is empty"),
        ("wake_word: '  '\n", "key 'wake_word' is empty"),
        ("default_routine: ''\n", "key 'default_routine' is empty"),
    ],
)
def test_bad_file_names_file_key_and_allowed(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as err:
        config.load_settings(files=[path])
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="not found"):
        config.load_settings(files=[], explicit=tmp_path / "nope.yaml")


def test_empty_file_is_fine(tmp_path: Path) -> None:
    assert config.load_settings(files=[write(tmp_path, "")]) == config.DEFAULTS


def test_describe_lists_every_key_and_parses_back(tmp_path: Path) -> None:
    text = config.describe()
    path = write(tmp_path, text)
    assert config.load_settings(files=[path]) == config.DEFAULTS
    for name in config.Settings.__dataclass_fields__:
        assert f"\n{name}:" in text


def test_origins_say_where_each_key_was_last_set(tmp_path: Path) -> None:
    system = write(tmp_path, "default_routine: lower_back\n", "system.yaml")
    user = write(tmp_path, "default_routine: uper_back\nvolume: 0.5\n", "user.yaml")
    origins: dict[str, str] = {}
    config.load_settings(files=[system, user], overrides={"volume": 0.4}, origins=origins)
    assert origins == {"default_routine": str(user), "volume": "command line"}


def test_a_default_routine_not_in_the_library_suggests_the_closest() -> None:
    routines = ["upper_back", "lower_back", "quick_stretch"]
    config.check_routine("upper_back", routines, "x.yaml")  # fine: no error
    with pytest.raises(config.ConfigError) as err:
        config.check_routine("uper_back", routines, "x.yaml")
    text = str(err.value)
    assert text.startswith("x.yaml: key 'default_routine' is 'uper_back'")
    assert "Did you mean 'upper_back'?" in text and "lower_back, quick_stretch" in text
    with pytest.raises(config.ConfigError) as err:
        config.check_routine("nonsense", routines, "command line")
    assert "Did you mean" not in str(err.value) and "command line" in str(err.value)
