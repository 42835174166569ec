"""Config files: defaults, layering, and a precise message for every kind of bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill import config
from skill.core.exercise import Library, Routine
from skill.library.loader import LoadResult


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
        ("volume: [1\n", ":2: YAML syntax error"),
        ("volume:\n\t0.5\n", ":2: YAML syntax error: a tab is used for indentation"),
        # Neither a date that is no date nor deep nesting may end in a traceback.
        ("volume: 2024-13-45\n", "YAML value cannot be read: month must be in 1..12"),
        ("volume: " + "[" * 5000 + "]" * 5000 + "\n", "YAML"),
        ("- a list\n", "expected 'key: value' lines"),
        (b"voice: \xff\xfe\n", "not UTF-8"),
        ("wake_word: ''\n", "key 'wake_word' is empty"),
        ("wake_word: '  '\n", "key 'wake_word' is empty"),
        ("default_routine: ''\n", "key 'default_routine' is empty"),
        # QA: an empty value ended "... not None".
        ("volume:\n", "key 'volume' is empty; give a number from 0.2 to 1.0, or leave the key"),
        ("button_pin:\n", "key 'button_pin' is empty; give a whole number from 0 to 27"),
        ("no_gpio:\n", "key 'no_gpio' is empty; give true/false, or leave the key out"),
        ("log_level:\n", "key 'log_level' is empty; give one of debug, info, warning, error"),
        ("default_routine:\n", "key 'default_routine' is empty; give text"),
    ],
)
def test_bad_file_names_file_key_and_allowed(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as err:
        config.load_settings(files=[path])
    assert str(path) in str(err.value)
    assert expected in str(err.value)
    assert "None" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "found"),
    [("- volume: 0.5\n", "a list"), ("0.5\n", "the number 0.5"), ("volume\n", "text 'volume'")],
)
def test_a_file_that_is_no_mapping_says_what_it_is_in_plain_words(
    tmp_path: Path, text: str, found: str
) -> None:
    """QA: a config that was a YAML list gave "found YamlSeq", the reader's own type name."""
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as err:
        config.load_settings(files=[path])
    assert str(err.value) == f"{path}: expected 'key: value' lines, found {found}"


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


def _library(*ids: str) -> Library:
    """Routines with no steps, named as spoken: 'upper_back' is 'upper back'."""
    routines = {i: Routine(i, i.replace("_", " "), "", ()) for i in ids}
    return Library(routines=routines)


def _choose(name: str, library: Library, where: str = "x.yaml") -> config.DefaultRoutine:
    return config.choose_default_routine(name, where, LoadResult(library, ()))


def test_a_default_routine_not_in_the_library_suggests_the_closest() -> None:
    """A name that is no routine is warned about, and the library's default is used: one
    mistake there must not stop the coach (QA: a restart loop under systemd)."""
    library = _library("upper_back", "lower_back", "quick_stretch")
    assert _choose("upper_back", library) == config.DefaultRoutine("upper_back")
    choice = _choose("uper_back", library)
    assert choice.id == "upper_back"
    assert choice.warning.startswith("x.yaml: key 'default_routine' is 'uper_back'")
    assert "Did you mean 'upper_back'?" in choice.warning
    assert "lower_back, quick_stretch" in choice.warning
    assert choice.warning.endswith("; using upper back until it is fixed")
    choice = _choose("nonsense", library, "command line")
    assert "Did you mean" not in choice.warning and "command line" in choice.warning


@pytest.mark.parametrize("name", ["lower back", "Lower-Back", "the lower back routine"])
def test_a_default_routine_may_be_named_as_show_and_voice_name_it(name: str) -> None:
    """QA: 'default_routine: lower back' was "not a routine", though `show lower back` works."""
    library = _library("upper_back", "lower_back")
    assert _choose(name, library) == config.DefaultRoutine("lower_back")


def test_model_and_voice_paths_mean_what_the_person_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: 'model: ~/models/m' gave "no Vosk model at ~/models/m" although it was there, and
    a relative path was looked for in the service's working folder (/var/lib/stretch-coach)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "etc"
    folder.mkdir()
    file = write(folder, "model: ~/models/m\nvoice: voices/v.onnx\n")
    settings = config.load_settings(files=[file])
    assert settings.model == str(tmp_path / "home" / "models" / "m")
    assert settings.voice == str(folder / "voices" / "v.onnx")
    flags = config.load_settings(files=[], overrides={"model": "~/m2"})
    assert flags.model == str(tmp_path / "home" / "m2")


def test_a_folder_or_a_broken_link_where_the_config_belongs_is_named(tmp_path: Path) -> None:
    """QA: a config.yaml that was a folder was skipped in silence: every setting default."""
    folder = tmp_path / "config.yaml"
    folder.mkdir()
    with pytest.raises(config.ConfigError, match="a folder where the config file belongs"):
        config.load_settings(files=[folder])
    with pytest.raises(config.ConfigError, match="a folder; --config takes a YAML file"):
        config.load_settings(files=[], explicit=folder)
    link = tmp_path / "linked.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(config.ConfigError, match="which does not exist"):
        config.load_settings(files=[link])


def test_one_pin_for_the_button_and_the_led_is_refused(tmp_path: Path) -> None:
    """QA: led_pin 17 was accepted, then gpiozero called the button pin busy "by another
    program or a device-tree overlay" and both were dropped."""
    file = write(tmp_path, "led_pin: 17\n")
    with pytest.raises(
        config.ConfigError, match=r"config.yaml: button_pin and led_pin are both 17"
    ):
        config.load_settings(files=[file])
    assert config.load_settings(files=[file], overrides={"no_gpio": True}).led_pin == 17


@pytest.mark.parametrize(
    ("bind", "ok"),
    [
        ("0.0.0.0", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("192.168.1.20", True),
        ("localhost", True),
        ("coach-pi.local", True),
        ("not an address", False),
        ("999.1.1.1", False),
        ("http://192.168.1.20", False),
    ],
)
def test_web_bind_must_be_an_address(tmp_path: Path, bind: str, ok: bool) -> None:
    """QA: 'web_bind: not an address' was accepted; web printed http://not an address:8399/."""
    file = write(tmp_path, f"web_bind: '{bind}'\n")
    if ok:
        assert config.load_settings(files=[file]).web_bind == bind
    else:
        with pytest.raises(config.ConfigError, match="not an address"):
            config.load_settings(files=[file])


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    """QA: 'volume: 0.3' then 'volume: 0.9' silently took the second; the person had
    edited the first."""
    file = write(tmp_path, "volume: 0.3\nled_pin: 23\nvolume: 0.9\n")
    with pytest.raises(
        config.ConfigError, match=r"config.yaml: line 3: key 'volume' is given twice"
    ):
        config.load_settings(files=[file])


def test_an_empty_flag_says_to_leave_the_flag_out() -> None:
    with pytest.raises(config.ConfigError, match="leave the flag out"):
        config.load_settings(files=[], overrides={"wake_word": " "})


def test_a_config_that_is_not_utf8_names_the_line_and_what_to_do(tmp_path: Path) -> None:
    """QA: '(invalid continuation byte)' with no line, where routine files name the line."""
    path = tmp_path / "config.yaml"
    path.write_bytes(b"volume: 0.5\nwake_word: caf\xe9\n")
    with pytest.raises(config.ConfigError) as err:
        config.load_settings(files=[path])
    assert str(err.value) == f"{path}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_a_misindented_config_says_so_in_plain_words(tmp_path: Path) -> None:
    path = write(tmp_path, "volume: 0.5\n  log_level: debug\n")
    with pytest.raises(config.ConfigError) as err:
        config.load_settings(files=[path])
    assert f"{path}:2:" in str(err.value) and "check the indentation on line 2" in str(err.value)
