"""The CLI's one place for OS errors: a path the system refuses is one clear line, exit 1."""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

import pytest

import skill.cli.main as cli
from skill.cli import cmd_progress


@pytest.fixture
def state_is_a_file(xdg_home: Path) -> Path:
    """XDG dirs in tmp_path, with the state folder a file: every write under it fails."""
    state = xdg_home / "xdg_state_home" / "stretch-coach"
    state.parent.mkdir()
    state.write_text("a file where the state folder should be")
    return state


def run_raising(
    monkeypatch: pytest.MonkeyPatch, err: BaseException, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`stretch-coach history` with a handler that raises `err`: (exit code, stderr)."""

    def handler(args: argparse.Namespace) -> int:
        raise err

    monkeypatch.setattr(cmd_progress, "run_history", handler)
    code = cli.main(["history"])
    return code, capsys.readouterr().err


def test_an_os_error_is_one_line_naming_the_path_and_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = PermissionError(errno.EACCES, "Permission denied", "/srv/coach/history.jsonl")
    code, out = run_raising(monkeypatch, err, capsys)
    assert code == 1
    assert out == "stretch-coach: cannot use /srv/coach/history.jsonl: Permission denied\n"


def test_an_os_error_without_a_path_still_says_what_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = OSError(errno.EADDRINUSE, "Address already in use")
    code, out = run_raising(monkeypatch, err, capsys)
    assert code == 1 and out == "stretch-coach: Address already in use\n"


def test_not_a_directory_names_the_file_in_the_way(
    state_is_a_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = state_is_a_file / "web" / "sessions.json"
    err = NotADirectoryError(errno.ENOTDIR, "Not a directory", str(path))
    code, out = run_raising(monkeypatch, err, capsys)
    assert code == 1
    assert out == (
        f"stretch-coach: cannot use {path}: Not a directory ({state_is_a_file} is a file)\n"
    )


def test_a_broken_pipe_still_leaves_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_reader_gone", lambda: 141)  # it swaps stdout's descriptor
    code, out = run_raising(monkeypatch, BrokenPipeError(errno.EPIPE, "Broken pipe"), capsys)
    assert code == 141 and out == ""


def test_a_bug_is_still_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(args: argparse.Namespace) -> int:
        raise ValueError("a bug")

    monkeypatch.setattr(cmd_progress, "run_history", handler)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["history"])


@pytest.mark.parametrize("argv", [["web", "--qr"], ["web", "--forget"]])
def test_the_phone_page_with_the_state_folder_a_file_says_so(
    state_is_a_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """QA: a NotADirectoryError traceback."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"stretch-coach: cannot use {state_is_a_file}/web")
    assert err.endswith(f"Not a directory ({state_is_a_file} is a file)\n")
    assert state_is_a_file.read_text() == "a file where the state folder should be"


@pytest.mark.parametrize("argv", [["history"], ["status"]])
def test_history_and_status_with_the_state_folder_a_file_give_no_traceback(
    state_is_a_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    cli.main(argv)  # an OSError escaping would fail the test
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert str(state_is_a_file) in out + err
