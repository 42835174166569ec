"""The microphone: a sounddevice input stream at the device's own rate, resampled to 16 kHz.

USB microphones often offer only 44.1 or 48 kHz; asking PortAudio for 16 kHz either fails or
leaves ALSA's plug layer to resample poorly. So we open the device at its default rate and
resample with soxr's streaming resampler (state kept across blocks, no clicks at block edges).
Failures become `MicrophoneError` with a message a person can act on; a device that goes away
mid-stream calls `on_lost` so the service can retry with backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from skill.errors import MicrophoneError
from skill.speech_in.asr import CHUNK_S, SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger("stretch-coach.microphone")
OVERFLOW_LOG_S = 60.0  # dropped audio is logged at most this often

BUSY_HINT = (
    "another program holds the microphone; find it with `fuser -v /dev/snd/*` "
    "(or `lsof /dev/snd/*`), stop it"
)


def explain(err: Exception, device: str | int | None, where: str | None = None) -> str:
    """A PortAudio error as a sentence that says what to do; `where` is where the device
    was set (a flag or a config file, see config.setting_ref), so the fix is made there."""
    from skill.config import setting_ref

    text = str(err)
    name = "the default input" if device is None else f"input device {device!r}"
    setting = setting_ref("input_device", where)
    if "busy" in text.lower() or "-9985" in text:
        return f"{name} is busy: {BUSY_HINT}, or choose another device with {setting}"
    if _no_input(text):
        return (
            f"no microphone found ({text}); plug one in, check `arecord -l`, "
            f"or set {setting} (see `stretch-coach devices`)"
        )
    if "-9998" in text or "channels" in text.lower():
        return f"{name} has no input channels ({text}): is it a speaker? see `arecord -l`"
    return f"cannot open {name}: {text}"


def _no_input(text: str) -> bool:
    """Whether PortAudio found no input device at all. With no sound card the default
    device's index is -1, and sounddevice says only "Error querying device -1"."""
    lower = text.lower()
    signs = ("no default input", "-9996", "no input", "querying device -1")
    return any(sign in lower for sign in signs)


def input_rate(device: str | int | None, where: str | None = None) -> int:
    """The device's default sample rate (what it runs at without ALSA resampling)."""
    import sounddevice as sd

    try:
        info: Any = sd.query_devices(device, kind="input")
    except (ValueError, sd.PortAudioError) as err:
        raise MicrophoneError(explain(err, device, where)) from err
    if int(info["max_input_channels"]) < 1:
        raise MicrophoneError(f"{info['name']!r} has no input channels: see `arecord -l`")
    return int(info["default_samplerate"])


class Microphone:
    """Delivers 16 kHz mono int16 chunks to `on_chunk` (called on PortAudio's thread)."""

    def __init__(
        self,
        device: str | int | None = None,
        on_chunk: Callable[[npt.NDArray[np.int16]], None] | None = None,
        block_s: float = CHUNK_S,
        on_lost: Callable[[str], None] | None = None,
        device_from: str | None = None,
    ) -> None:
        self.device = device
        self.device_from = device_from  # where `device` was set, for the fix in messages
        self.on_chunk = on_chunk or (lambda chunk: None)
        self.on_lost = on_lost or (lambda detail: log.warning("microphone lost: %s", detail))
        self.block_s = block_s
        self.rate = 0
        self.lost: str | None = None  # why the stream ended, once it has
        self._stream: Any = None
        self._resampler: Any = None
        self._overflow_logged = -OVERFLOW_LOG_S

    def start(self) -> None:
        import sounddevice as sd
        import soxr

        self.rate = input_rate(self.device, self.device_from)
        self._resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="int16")
        self.lost = None
        try:
            self._stream = sd.InputStream(
                device=self.device,
                samplerate=self.rate,
                channels=1,
                dtype="int16",
                blocksize=round(self.rate * self.block_s),
                # The device's largest buffer: a CPU held back for a moment (a Pi busy
                # starting up) must not make the device drop what the person said.
                latency="high",
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as err:
            self._stream = None
            raise MicrophoneError(explain(err, self.device, self.device_from)) from err

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    def __enter__(self) -> Microphone:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def active(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def _callback(self, indata: Any, frames: int, _time: Any, status: Any) -> None:
        if status and status.input_overflow:
            now = time.monotonic()
            if now - self._overflow_logged >= OVERFLOW_LOG_S:
                self._overflow_logged = now
                log.warning("microphone overflow: audio was dropped (the service fell behind)")
        chunk = self._resampler.resample_chunk(indata[:, 0])
        if len(chunk):
            self.on_chunk(chunk)

    def _finished(self) -> None:
        """PortAudio ended the stream: by stop(), or because the device went away."""
        if self._stream is not None:  # not asked to stop
            self.lost = "the input stream ended (device unplugged or failed)"
            self.on_lost(self.lost)
