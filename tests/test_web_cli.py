"""`stretch-coach web`: the address, a QR link that pairs once, and --forget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skill.cli.main import main
from skill.web.pairing import SessionStore


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("STATE_DIRECTORY", "CONFIGURATION_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def store(home: Path) -> SessionStore:
    return SessionStore(home / "state" / "stretch-coach" / "web")


def test_forget_unpairs_the_browsers_a_service_paired(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = store(home).add()
    assert main(["web", "--forget"]) == 0
    assert "forgot 1 paired browser" in capsys.readouterr().out
    assert not store(home).valid(token)


def test_address_uses_the_configured_port_and_qr_link_pairs_once(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = home / "c.yaml"
    config.write_text("web_bind: 127.0.0.1\nweb_port: 9123\n")
    assert main(["web", "--qr", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "open http://127.0.0.1:9123/" in out
    token = re.search(r"#code=([\w-]+)", out).group(1)  # type: ignore[union-attr]
    assert store(home).use_qr_token(token)
    assert not store(home).use_qr_token(token)


def test_page_turned_off_says_so(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = home / "c.yaml"
    config.write_text("web: false\n")
    assert main(["web", "--config", str(config)]) == 1
    assert "web: false" in capsys.readouterr().out


def test_a_bad_port_names_the_key_and_the_range(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = home / "c.yaml"
    config.write_text("web_port: 70000\n")
    assert main(["web", "--config", str(config)]) == 1
    assert "web_port" in capsys.readouterr().err
