"""`stretch-coach run` (the home service) and `stretch-coach devices` (what audio it can use)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from skill.errors import UserError


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="the home service: listen, coach, obey the button")
    run.add_argument("--config", type=Path, help="a YAML config file (after /etc and ~/.config)")
    run.add_argument("--input-device", help="microphone name or index (see `devices`)")
    run.add_argument("--output-device", help="speaker name or index")
    run.add_argument("--model", help="Vosk model folder")
    run.add_argument("--voice", help="Piper voice .onnx file")
    run.add_argument(
        "--wake-word",
        help="wake phrase before each command: hey jarvis (best), okay nabu, alexa, hey mycroft",
    )
    run.add_argument("--default-routine", help="routine for a bare 'start' or a short press")
    run.add_argument("--no-gpio", action="store_true", default=None, help="no button and LED")
    run.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    run.add_argument(
        "--print-config", action="store_true", help="print every key with its default and exit"
    )
    run.set_defaults(func=run_service)
    devices = sub.add_parser("devices", help="list audio devices, as ALSA names them")
    devices.set_defaults(func=list_devices)


def _device(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.isdigit() else value


def settings_from(args: argparse.Namespace, origins: dict[str, str] | None = None) -> Any:
    """The merged settings; `origins` gets where each key was set (for later checks)."""
    from skill.config import load_settings

    overrides = {
        "input_device": _device(args.input_device),
        "output_device": _device(args.output_device),
        "model": args.model,
        "voice": args.voice,
        "wake_word": args.wake_word,
        "default_routine": args.default_routine,
        "no_gpio": args.no_gpio,
        "log_level": args.log_level,
    }
    return load_settings(explicit=args.config, overrides=overrides, origins=origins)


def run_service(args: argparse.Namespace) -> int:
    from skill.config import describe

    if args.print_config:
        print(describe(), end="")
        return 0
    origins: dict[str, str] = {}
    settings = settings_from(args, origins)
    from skill.service.service import Service, configure_logging

    log = configure_logging(settings.log_level)
    code = Service(settings, log, origins).run()
    # Native engines (onnxruntime, PortAudio, PocketSphinx) may still hold daemon threads;
    # leave without running their destructors so a stop is always quick and clean.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)


def list_devices(args: argparse.Namespace) -> int:
    """Each device with its index, channels and default rate; '>' / '<' mark the defaults."""
    import sounddevice as sd

    try:
        devices: Any = sd.query_devices()
    except sd.PortAudioError as err:
        raise UserError(f"cannot list audio devices: {err}") from err
    if not len(devices):
        print("no audio devices found: check `aplay -l` and `arecord -l`")
        return 1
    default_in, default_out = sd.default.device
    for index, dev in enumerate(devices):
        mark = (">" if index == default_in else " ") + ("<" if index == default_out else " ")
        print(
            f"{mark} {index:2d}  {dev['name']:<40} in {dev['max_input_channels']:>2}  "
            f"out {dev['max_output_channels']:>2}  {int(dev['default_samplerate'])} Hz"
        )
    print(
        "\n> default input, < default output; use the name or index as input_device/output_device"
    )
    return 0
