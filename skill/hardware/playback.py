"""One sounddevice output stream fed by a writer thread from a queue of clips.

Why a writer thread with blocking writes and small blocks: `stop()` and volume changes take
effect at the next block (10 ms), and on stop the stream is aborted, which discards what
the device still buffers. The writer paces itself by the monotonic clock and never runs
more than LEAD_S ahead of real time: an ALSA `null`/`file` device accepts data instantly,
and on real hardware the same rule keeps the buffered (not yet stoppable) audio short.
When the queue is empty the stream is stopped and the thread sleeps on a condition.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skill.errors import AudioDeviceError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

BLOCK_S = 0.01  # stop and volume changes take effect at the next block (module docstring)
LEAD_S = 0.08  # at most this much audio is handed over ahead of real time
# A clip is resampled in pieces this long, as blocks need them: a long sentence is never
# converted whole before its first block plays.
IN_CHUNK_S = 0.05


def device_hint(where: str | None = None) -> str:
    """The fix, made where the speaker was chosen (a flag or a config file, see
    config.setting_ref)."""
    from skill.config import setting_ref

    return f"set {setting_ref('output_device', where)} to one listed by `stretch-coach devices`"


def describe_open_error(device: str | int | None, err: Exception, where: str | None = None) -> str:
    name = "the default speaker" if device is None else f"speaker {device!r}"
    text = str(err)
    hint = device_hint(where)
    if "busy" in text.lower() or "unavailable" in text.lower():
        return (
            f"{name} is busy: another program holds it ({text}). Close that program "
            f"(e.g. another stretch-coach, a media player), or {hint}"
        )
    lowered = text.lower()
    if any(w in lowered for w in ("no output device", "matching", "invalid", "querying device")):
        return f"{name} was not found ({text}); {hint}"
    return f"cannot open {name}: {text}; {hint}"


@dataclass
class _Clip:
    clip_id: int
    samples: npt.NDArray[np.float32]  # mono, -1..1, at in_rate
    in_rate: int
    pos: int = 0
    started: bool = False
    resampler: Any = None
    out: Any = None  # resampled samples not yet written
    done_reading: bool = False


@dataclass
class _State:
    queue: deque[_Clip] = field(default_factory=deque)
    current: _Clip | None = None
    pending: list[tuple[float, int]] = field(default_factory=list)  # (ends at, clip id)
    cut: list[int] = field(default_factory=list)  # dropped by stop(), not yet reported
    stop_requested: bool = False
    closing: bool = False


ClipDone = Callable[[int, bool], None]  # clip id, True when played to the end
ClipStart = Callable[[int], None]  # clip id, first block handed to the device


class AudioOutput:
    """Plays mono int16 clips in order; reports each clip's start and end."""

    def __init__(
        self,
        device: str | int | None = None,
        rate: int | None = None,
        volume: float = 1.0,
        on_clip_done: ClipDone | None = None,
        on_clip_start: ClipStart | None = None,
        on_problem: Callable[[str], None] | None = None,
        device_from: str | None = None,
    ) -> None:
        self.device = device
        self.device_from = device_from  # where `device` was set, for the fix in messages
        self.on_clip_done = on_clip_done
        self.on_clip_start = on_clip_start
        self.on_problem = on_problem
        self._volume = min(max(volume, 0.0), 1.0)
        self._cond = threading.Condition()
        self._state = _State()
        self._stream = self._open(rate)
        self.rate = int(self._stream.samplerate)
        self.channels = int(self._stream.channels)
        self._active = False
        self._t0 = 0.0
        self._written = 0
        self._thread = threading.Thread(target=self._run, name="audio-out", daemon=True)
        self._thread.start()

    # --- public API (any thread) ---

    def play(self, pcm: npt.NDArray[np.int16], rate: int, clip_id: int) -> None:
        import numpy as np

        samples = np.asarray(pcm, dtype=np.float32).reshape(-1) / 32768.0
        with self._cond:
            self._state.queue.append(_Clip(clip_id, samples, rate))
            self._cond.notify()

    def stop(self) -> None:
        """Cut off the playing clip and drop the queue; takes effect within one block.

        The queue is emptied here, at once, so a clip played right after `stop()` survives.
        """
        with self._cond:
            s = self._state
            s.cut += [cid for _, cid in s.pending] + [c.clip_id for c in s.queue]
            s.pending.clear()
            s.queue.clear()
            s.stop_requested = True
            self._cond.notify()

    @property
    def volume(self) -> float:
        return self._volume

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 1.0)

    def change_volume(self, delta: float) -> float:
        self.set_volume(self._volume + delta)
        return self._volume

    @property
    def busy(self) -> bool:
        s = self._state
        return bool(s.queue or s.current or s.pending)

    def reopen_idle(self, refresh: Callable[[], None]) -> bool:
        """Run `refresh` (re-initialising PortAudio) and reopen the stream, only while idle.

        PortAudio lists devices once; a microphone plugged in later is only found after a
        re-initialisation, which closes every stream. False when audio is playing: try later.
        """
        with self._cond:
            s = self._state
            if self._active or s.current or s.queue or s.pending or s.closing:
                return False
            self._stream.close()
            refresh()
            self._stream = self._new_stream(self.rate, self.channels)
            return True

    def close(self) -> None:
        with self._cond:
            self._state.closing = True
            self._state.stop_requested = True
            self._cond.notify()
        self._thread.join(timeout=2)
        self._stream.close()

    def __enter__(self) -> AudioOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- device ---

    def _open(self, rate: int | None) -> Any:
        import sounddevice as sd

        try:
            info = sd.query_devices(self.device, "output")
            samplerate = rate or int(info["default_samplerate"])
            channels = 1 if int(info["max_output_channels"]) >= 1 else 2
            return self._new_stream(samplerate, channels)
        except (sd.PortAudioError, ValueError) as err:
            raise AudioDeviceError(describe_open_error(self.device, err, self.device_from)) from err

    def _new_stream(self, samplerate: int, channels: int) -> Any:
        import sounddevice as sd

        try:
            return sd.OutputStream(
                samplerate=samplerate,
                channels=channels,
                dtype="int16",
                device=self.device,
                latency=LEAD_S,
            )
        except sd.PortAudioError:
            if channels == 2:
                raise
            return sd.OutputStream(  # some cards only take stereo
                samplerate=samplerate,
                channels=2,
                dtype="int16",
                device=self.device,
                latency=LEAD_S,
            )

    # --- writer thread ---

    def _run(self) -> None:
        while True:
            with self._cond:
                self._wait_for_work()
                state = self._state
                if state.stop_requested:
                    cut = self._take_all(queued=state.closing)
                    state.stop_requested = False
                    closing = state.closing
                else:
                    cut, closing = [], False
                    if state.current is None and state.queue:
                        state.current = state.queue.popleft()
            if cut or closing:
                self._abort()
                self._report(cut, completed=False)
                if closing:
                    return
                continue
            self._report(self._due(), completed=True)
            self._step()

    def _wait_for_work(self) -> None:
        """Sleep (no polling) until there is something to write, report or stop."""
        s = self._state
        while True:
            if s.stop_requested or s.current or s.queue:
                if not s.stop_requested and self._active and self._ahead() > LEAD_S:
                    self._cond.wait(self._ahead() - LEAD_S)  # pacing; stop() wakes us
                return
            if s.pending:
                wait = s.pending[0][0] - time.monotonic()
                if wait <= 0:
                    return
                self._cond.wait(wait)
                continue
            if self._active:
                self._cond.release()
                try:
                    self._stream.stop()  # idle: let the device drain, then no callbacks
                finally:
                    self._cond.acquire()
                self._active = False
                continue
            self._cond.wait()

    def _ahead(self) -> float:
        return self._written / self.rate - (time.monotonic() - self._t0)

    def _take_all(self, queued: bool = True) -> list[int]:
        """Ids to report as cut: the one playing, plus (when `queued`) all waiting ones."""
        s = self._state
        ids, s.cut = s.cut, []
        ids += [s.current.clip_id] if s.current else []
        s.current = None
        if queued:
            ids += [cid for _, cid in s.pending] + [c.clip_id for c in s.queue]
            s.pending.clear()
            s.queue.clear()
        return ids

    def _due(self) -> list[int]:
        now = time.monotonic()
        with self._cond:
            due = [cid for end, cid in self._state.pending if end <= now]
            self._state.pending = [(e, c) for e, c in self._state.pending if e > now]
        return due

    def _report(self, ids: list[int], completed: bool) -> None:
        for clip_id in ids:
            if self.on_clip_done:
                try:
                    self.on_clip_done(clip_id, completed)
                except Exception:
                    log.exception("clip-done callback failed")

    def _abort(self) -> None:
        if self._active:
            try:
                self._stream.abort()  # discards what the device still buffers
            except Exception as err:
                log.warning("aborting the output stream failed: %s", err)
            self._active = False

    def _step(self) -> None:
        """Write one block of the current clip, or retire it when it has no more samples."""
        clip = self._state.current
        if clip is None or (self._active and self._ahead() > LEAD_S):
            return
        block = self._next_block(clip, round(BLOCK_S * self.rate))
        if block is None:
            end = self._t0 + self._written / self.rate if self._active else time.monotonic()
            with self._cond:
                self._state.current = None
                self._state.pending.append((end, clip.clip_id))
            return
        self._write(block)
        if not clip.started:
            clip.started = True
            if self.on_clip_start:
                self.on_clip_start(clip.clip_id)

    def _next_block(self, clip: _Clip, n: int) -> npt.NDArray[np.float32] | None:
        import numpy as np

        if clip.out is None:
            clip.out = np.zeros(0, dtype=np.float32)
            if clip.in_rate != self.rate:
                import soxr

                clip.resampler = soxr.ResampleStream(clip.in_rate, self.rate, 1, dtype="float32")
        chunk = round(IN_CHUNK_S * clip.in_rate)
        while len(clip.out) < n and not clip.done_reading:
            piece = clip.samples[clip.pos : clip.pos + chunk]
            clip.pos += len(piece)
            last = clip.pos >= len(clip.samples)
            if clip.resampler is not None:
                piece = clip.resampler.resample_chunk(piece, last=last)
            clip.out = np.concatenate([clip.out, piece])
            clip.done_reading = last
        if len(clip.out) == 0:
            return None
        block, clip.out = clip.out[:n], clip.out[n:]
        return block

    def _write(self, block: npt.NDArray[np.float32]) -> None:
        import numpy as np

        if not self._active:
            self._stream.start()
            self._active = True
            self._t0 = time.monotonic()
            self._written = 0
        elif self._ahead() < 0:  # we fell behind (underrun): do not count lost time as credit
            self._t0 = time.monotonic() - self._written / self.rate
        scaled = np.clip(block * (self._volume * 32767.0), -32767, 32767).astype(np.int16)
        frames = np.repeat(scaled[:, None], self.channels, axis=1)
        try:
            self._stream.write(frames)
        except Exception as err:  # device unplugged mid-phrase: report, cut, reopen later
            self._device_failed(err)
            return
        self._written += len(block)

    def _device_failed(self, err: Exception) -> None:
        message = f"speaker failed: {err}; {device_hint(self.device_from)}"
        log.error("%s", message)
        with self._cond:
            cut = self._take_all()
        self._active = False
        try:
            self._stream.close()
            self._stream = self._new_stream(self.rate, self.channels)
        except Exception as reopen_err:
            log.error("reopening the speaker failed: %s", reopen_err)
        self._report(cut, completed=False)
        if self.on_problem:
            self.on_problem(message)
