"""`stretch-coach web`: the address, a QR link that pairs once, and --forget."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skill.cli.main import main
from skill.web import address
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


QR_BLOCKS = re.compile("[\u2580\u2584\u2588]")  # what segno draws a compact QR code with


def web_output(home: Path, capsys: pytest.CaptureFixture[str], bind: str, *flags: str) -> str:
    """What `web` prints with the page bound to `bind` on port 9123."""
    config = home / "c.yaml"
    config.write_text(f"web_bind: '{bind}'\nweb_port: 9123\n")
    assert main(["web", *flags, "--config", str(config)]) == 0
    return capsys.readouterr().out


def test_address_uses_the_configured_port_and_qr_link_pairs_once(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = web_output(home, capsys, "192.168.1.20", "--qr")
    assert "open http://192.168.1.20:9123/ on a phone on this network" in out
    assert QR_BLOCKS.search(out)
    token = re.search(r"#code=([\w-]+)", out).group(1)  # type: ignore[union-attr]
    assert store(home).use_qr_token(token)
    assert not store(home).use_qr_token(token)


@pytest.mark.parametrize("bind", ["127.0.0.1", "::1", "localhost"])
def test_a_loopback_bind_says_only_this_machine_reaches_the_page(
    home: Path, capsys: pytest.CaptureFixture[str], bind: str
) -> None:
    """QA: web_bind 127.0.0.1 printed "open http://127.0.0.1:PORT/ on a phone on the same
    network", which no phone can."""
    out = web_output(home, capsys, bind)
    assert "on a phone on" not in out and "same network" not in out
    assert "this machine only" in out and "set web_bind to 0.0.0.0" in out


def test_qr_of_a_loopback_address_is_not_drawn_but_its_link_pairs_this_machine(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = web_output(home, capsys, "127.0.0.1", "--qr")
    assert not QR_BLOCKS.search(out) and "no QR code: a phone cannot open" in out
    token = re.search(r"http://127\.0\.0\.1:9123/#code=([\w-]+)", out).group(1)  # type: ignore[union-attr]
    assert store(home).use_qr_token(token)


def test_the_sentence_says_who_can_open_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """One sentence for `stretch-coach web` and the service's log ("web: open ...")."""
    monkeypatch.setattr(address, "lan_address", lambda: "192.168.1.20")
    url = address.page_url("0.0.0.0", 8321)
    assert address.where_to_open("0.0.0.0", url) == (
        "open http://192.168.1.20:8321/ on a phone on this network to pair it"
    )
    for bind in ("127.0.0.1", "127.0.1.1", "::1", "localhost"):
        said = address.where_to_open(bind, address.page_url(bind, 8321))
        assert said.startswith("open http://") and "this machine only" in said, said
    assert "on a phone" in address.where_to_open("::", address.page_url("::", 8321))
    monkeypatch.setattr(address, "lan_address", lambda: "127.0.0.1")  # not on any network
    said = address.where_to_open("0.0.0.0", address.page_url("0.0.0.0", 8321))
    assert "no network address" in said and "web_bind" not in said


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
