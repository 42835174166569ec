"""The service over real gpiozero mock pins: what it opens, offers and logs when one pin fails.

The rest of the service is faked as in test_service_inprocess.py; only the GPIO opening
(Service._open_gpio and skill.hardware.gpio.open_gpio) is real here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from gpiozero import LED, Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from skill.config import DEFAULTS
from skill.service.service import Devices, Service
from tests.test_service_inprocess import RecordingSpeech, ScriptedEngine


@pytest.fixture
def busy_led_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Mock pins, with GPIO18 held as a DAC HAT's I2S clock holds it; yields a home folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no personal routines
    for var in ("CONFIGURATION_DIRECTORY", "STATE_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    previous = Device.pin_factory
    Device.pin_factory = mock = MockFactory(pin_class=MockPWMPin)
    hat = LED(18)
    yield tmp_path
    hat.close()
    mock.reset()
    Device.pin_factory = previous


def _no_mic(_on_chunk: object) -> object:
    raise AssertionError("no microphone is opened here")


def _service(home: Path, origins: Mapping[str, str] | None = None) -> Service:
    devices = Devices(
        speech=RecordingSpeech(),
        engine=ScriptedEngine(),
        open_mic=_no_mic,  # type: ignore[arg-type]
        state_dir=home / "state",
    )
    settings = replace(DEFAULTS, web=False)
    return Service(settings, logging.getLogger("test"), origins, devices=devices)


def test_a_busy_led_pin_keeps_the_button_and_the_service_offers_it(
    busy_led_pin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="test")
    service = _service(busy_led_pin)
    try:
        assert service.has_button and not service.has_led
        assert service.player.settings.has_button  # the coach may tell the person to press it
        service.mic.is_open = False
        service.greet()
    finally:
        service.button.close()
        service.led.close()
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("ready: press the button") for line in lines), lines
    missing = [line for line in lines if "Running without" in line]
    assert len(missing) == 1 and "LED pin GPIO18 is busy" in missing[0], lines
    assert "the button and LED" not in missing[0], missing


def test_the_service_names_the_file_the_led_pin_came_from(
    busy_led_pin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="test")
    mine = str(busy_led_pin / "mine.yaml")
    service = _service(busy_led_pin, origins={"led_pin": mine})
    service.button.close()
    missing = next(r.getMessage() for r in caplog.records if "without the LED" in r.getMessage())
    assert f"`led_pin:` in {mine}" in missing and "/etc/" not in missing, missing
