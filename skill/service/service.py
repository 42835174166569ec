"""`stretch-coach run`: microphone -> recognizer -> player -> speech and LED, plus the button.

Threads only feed one queue of events; the main loop alone talks to the player, so the
pure state machine never sees two events at once. Every device can fail and come back:
the microphone is retried with backoff, a missing speaker falls back to LED-only coaching.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from skill import paths
from skill.config import Settings
from skill.core.events import (
    Announce,
    Command,
    DeviceProblem,
    Event,
    LedState,
    PlayCue,
    SetLed,
    Speak,
    SpeechDone,
    Tick,
)
from skill.core.phrases import resume_offer
from skill.core.player import Player, PlayerSettings
from skill.core.player_view import view_of
from skill.core.ticker import TICK_S, Ticker
from skill.service import wiring
from skill.service.progress import ProgressStore
from skill.service.router import SpeechSink
from skill.speech_in.asr import SAMPLE_RATE
from skill.speech_in.recognizer import Listening

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.hardware.gpio import ButtonLike, LedLike
    from skill.hardware.playback import AudioOutput
    from skill.library.loader import LoadResult
    from skill.speech_in.asr import Engine, Hearing
    from skill.web.server import WebServer

BACKOFF_S = (0.5, 1.0, 2.0, 4.0)  # microphone retry delays; capped so it returns within 5 s
# A microphone delivering more than FLOOD_RATIO times real time has failed. The grace
# absorbs catch-up bursts after the process stalled (buffered audio arrives at once);
# a dead ALSA file input replays about a thousand times real time, so it still trips at once.
FLOOD_RATIO = 5.0
FLOOD_GRACE_S = 3.0
FLOOD_WINDOW_S = 2.0  # the pace is judged over windows this long
FLOODING = "the microphone delivers audio faster than real time (device failed or input ended)"


def ready_message(
    listening: bool,
    button: bool,
    wake_word: str | None = None,
    web: bool = True,
    routine: str = "upper back",
) -> str:
    """The ready line, offering only the ways to start that there are; its example is the
    `routine` a bare start begins."""
    say = f"say '{wake_word + ', ' if wake_word else ''}start {routine} routine'"
    if listening and button:
        return f"ready: {say}, or press the button"
    if listening:
        return f"ready: {say}"
    if button:
        return "ready: press the button to start (no microphone yet: it is looked for again)"
    if web:
        # The phone page starts after this line, and its own line gives its address.
        return (
            "ready: no microphone yet (it is looked for again); start a routine from the phone page"
        )
    return (
        "ready: no microphone yet (it is looked for again), and the phone page is off "
        "(web: false): plug a microphone in to start a routine"
    )


def no_speaker_message(led: bool) -> str:
    """How coaching goes on without a speaker."""
    if led:
        return "coaching by LED only"
    return "the coach's words are only written to this log"


class SilentSpeech:
    """Coaching by LED when there is no speaker: speech 'ends' after its modelled duration."""

    def __init__(self, events: queue.Queue[Incoming]) -> None:
        self.events = events
        self._timers: dict[int, threading.Timer] = {}
        self.current_text = ""

    def say(self, text: str, utterance_id: int, timely: bool = False) -> None:
        from skill.core.plan import estimate_speech_seconds

        timer = threading.Timer(estimate_speech_seconds(text), self._done, (utterance_id,))
        timer.daemon = True
        self._timers[utterance_id] = timer
        timer.start()

    def _done(self, utterance_id: int) -> None:
        self._timers.pop(utterance_id, None)
        self.events.put(SpeechDone(utterance_id))

    def cue(self, name: str) -> None:
        """No speaker: a tone cannot be shown."""

    def stop(self) -> None:
        for uid, timer in list(self._timers.items()):
            timer.cancel()
            self._done(uid)

    def change_volume(self, delta: float) -> None:
        """No speaker: nothing to change."""

    @property
    def current_audio(self) -> None:
        """No speaker: nothing sounds, so there is no echo to tell from the person."""
        return None


class MicrophoneLike(Protocol):
    lost: str | None

    def stop(self) -> None: ...


MicOpener = Callable[[Callable[["npt.NDArray[np.int16]"], None]], MicrophoneLike]


@dataclass
class RateGuard:
    """Passes microphone audio on while it arrives at a plausible pace.

    A dead input can deliver instead of failing: ALSA's `file` plugin at the end of its
    input repeats its last buffer as fast as it is read, with no error. Without this guard
    that flood fills the listener's queue and pins the CPU; with it, it counts as lost.
    """

    forward: Callable[[npt.NDArray[np.int16]], None]
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)
    samples: int = 0
    flooding: bool = False

    def __call__(self, chunk: npt.NDArray[np.int16]) -> None:
        now = self.clock()
        if self.started < 0 or now - self.started > FLOOD_WINDOW_S:
            self.started, self.samples = now, 0  # a window: past quiet time is no credit
        self.samples += len(chunk)
        allowed = (now - self.started + FLOOD_GRACE_S) * SAMPLE_RATE * FLOOD_RATIO
        if self.flooding or self.samples > allowed:
            self.flooding = True
            return
        self.forward(chunk)


@dataclass
class MicSupervisor:
    """Keeps a microphone open: reports loss once, retries with capped backoff, reports return."""

    opener: MicOpener
    on_chunk: Callable[[npt.NDArray[np.int16]], None]
    on_event: Callable[[Event], None]
    log: logging.Logger
    stop_flag: threading.Event = field(default_factory=threading.Event)
    attempted: threading.Event = field(default_factory=threading.Event)
    is_open: bool = False

    def run(self) -> None:
        failures = 0
        while not self.stop_flag.is_set():
            guard = RateGuard(self.on_chunk)
            try:
                mic = self.opener(guard)
            except Exception as err:  # every open failure is reported the same way
                if failures == 0:
                    self.log.error("microphone: %s; retrying", err)
                    self.on_event(DeviceProblem("microphone", False, str(err)))
                self.attempted.set()
                self.stop_flag.wait(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])
                failures += 1
                continue
            if failures:
                self.log.info("microphone is back; listening again")
                self.on_event(DeviceProblem("microphone", True))
            failures, self.is_open = 0, True
            self.attempted.set()
            while not (self.stop_flag.is_set() or mic.lost or guard.flooding):
                self.stop_flag.wait(0.1)
            self.is_open = False
            lost = mic.lost or (FLOODING if guard.flooding else None)
            mic.stop()
            if lost and not self.stop_flag.is_set():
                self.log.error("microphone: %s; retrying", lost)
                self.on_event(DeviceProblem("microphone", False, lost))
                failures = 1


@dataclass(frozen=True)
class WebStarted:
    """The phone page is serving (started after READY: importing the web server took a
    third of the service's start-up CPU, and the voice must be first)."""

    server: WebServer
    url: str


@dataclass(frozen=True)
class WakeHeard:
    """The wake phrase was heard: the person is shown that the coach listens (a flash and a
    tick), as they would wait for a voice assistant's chime before the command."""


# What the main loop takes from its queue.
Incoming: TypeAlias = "Event | Announce | WakeHeard | WebStarted"


@dataclass
class Listener:
    """Runs the listening step on microphone audio and turns accepted hearings into commands."""

    listening: Listening
    coach_text: Callable[[], str]
    on_event: Callable[[Event | WakeHeard], None]
    log: logging.Logger
    coach_audio: Callable[[], Any] = lambda: None  # Speaker.current_audio
    chunks: queue.Queue[Any] = field(default_factory=queue.Queue)

    def run(self) -> None:
        while (chunk := self.chunks.get()) is not None:
            text = self.coach_text() or None
            try:
                heard = self.listening.hear(chunk, text, self.coach_audio())
            except Exception:
                # A decoder fault on one stretch of audio must not leave the coach deaf for
                # the rest of the session: that audio is dropped, listening goes on.
                self.log.exception("speech recognition failed on this audio; listening on")
                self.listening.engine.reset()
                continue
            for checked in heard:
                self.decide(checked)

    def decide(self, checked: Hearing) -> None:
        """Log what was heard and act on a command the gate let through."""
        if not checked.text and checked.command is None:
            return
        if checked.wake:
            self.log.info("heard the wake word %r: %s", checked.text, checked.reason)
            self.on_event(WakeHeard())
            return
        decision = f"-> {checked.command.name}" if checked.command else "ignored"
        self.log.info(
            "heard %r confidence %.2f (%s) %s%s",
            checked.text,
            checked.confidence,
            checked.engine,
            decision,
            f": {checked.reason}" if checked.reason else "",
        )
        if checked.command is not None:
            self.on_event(checked.command)


@dataclass(frozen=True)
class Devices:
    """The service's edges, given instead of opened (tests give fakes of these seams); each
    one left None is opened from the settings as `run` does."""

    gpio: tuple[ButtonLike, LedLike] | None = None
    speech: SpeechSink | None = None
    engine: Engine | None = None
    open_mic: MicOpener | None = None
    state_dir: Path | None = None


class Service:
    """Everything `stretch-coach run` wires together; `run()` is the main loop."""

    def __init__(
        self,
        settings: Settings,
        log: logging.Logger,
        origins: Mapping[str, str] | None = None,
        devices: Devices = Devices(),
    ) -> None:
        self.settings = settings
        self.origins = origins or {}  # where each setting came from (config.load_settings)
        self.log = log
        self.events: queue.Queue[Incoming] = queue.Queue()
        self.stopping = threading.Event()
        self.prerender_stop: threading.Event | None = None
        self.output: AudioOutput | None = None
        self._mic_tries = 0
        loaded = wiring.load_routines(self.log)
        self.library = loaded.library
        default_routine = self._default_routine(loaded)
        self.default_routine = default_routine if default_routine in self.library.routines else ""
        self.store = ProgressStore(devices.state_dir or paths.state_dir())
        # GPIO first: what the player says and the log promises depends on what is wired.
        self.button, self.led = devices.gpio or self._open_gpio()
        self.player = Player(
            self.library,
            clock=time.monotonic,
            settings=PlayerSettings(
                default_routine=default_routine,
                resume_window_hours=settings.resume_window_hours,
                volume=settings.volume,
                has_button=self.has_button,
                wake_word=bool(settings.wake_word),
            ),
            saved=self.store.load_saved(),
        )
        self.speech = devices.speech or self._open_speech()
        self.engine = devices.engine or wiring.open_recognizer(settings, self.library, log)
        self.listener = Listener(
            Listening(self.engine), self._coach_text, self.events.put, log, self._coach_audio
        )
        open_mic = devices.open_mic or self._open_mic
        self.mic = MicSupervisor(open_mic, self.listener.chunks.put, self.events.put, log)
        self.router = wiring.build_router(self.speech, self.led, self.store, log)
        self._announced = 0  # the service's own utterances count down, the player's up
        self.web: WebServer | None = None  # set by WebStarted, after READY (_start_web)

    # --- building ------------------------------------------------------------------------

    def _default_routine(self, loaded: LoadResult) -> str:
        """The id of the configured default_routine, which may be given as `show` takes it
        ("lower back"). One that names no routine that loaded (a mistake in its file, or in
        the name) is logged and the library's default is used: a restart would not mend it."""
        from skill.config import choose_default_routine

        where = self.origins.get("default_routine")
        choice = choose_default_routine(self.settings.default_routine, where, loaded)
        if choice.warning:
            self.log.warning("%s", choice.warning)
        return choice.id

    def _open_speech(self) -> SpeechSink:
        from skill.core.phrases import all_phrases
        from skill.hardware.playback import AudioDeviceError, AudioOutput
        from skill.speech_out.speaker import Speaker

        s = self.settings
        # Loaded when a sentence is not in the phrase cache (after setup, none of the
        # coach's): most of the start-up time on a Pi went into loading it.
        voice = wiring.open_voice(s, lazy=True)
        cache = wiring.open_phrase_cache(s, voice)
        try:
            output = AudioOutput(
                s.output_device,
                volume=s.volume,
                on_problem=self._speaker_problem,
                device_from=self.origins.get("output_device"),
            )
        except AudioDeviceError as err:
            self.log.error("speaker: %s; %s", err, no_speaker_message(self.has_led))
            self.events.put(DeviceProblem("speaker", False, str(err)))
            return SilentSpeech(self.events)
        speaker = Speaker(
            voice, cache, output, on_done=lambda uid: self.events.put(SpeechDone(uid))
        )
        missing = cache.missing(sorted(all_phrases(self.library, wake=bool(s.wake_word))))
        if missing:
            self.log.info("rendering %d phrases in the background", len(missing))
            _, self.prerender_stop = cache.start_background(
                missing, voice.synthesize, busy=speaker.synthesizing.is_set
            )
        self.output = output
        return speaker

    def _start_web(self) -> None:
        """The phone page in the background, unless turned off: the main loop takes it over
        (WebStarted), so that only the main loop ever touches the player."""
        if self.settings.web:
            threading.Thread(target=self._open_web, name="web-start", daemon=True).start()

    def _open_web(self) -> None:
        """Start the page; one that cannot start only logs why."""
        from skill.web.address import page_url
        from skill.web.pairing import SessionStore, spoken_code
        from skill.web.server import Coach, WebError, WebServer

        def announce(code: str) -> None:
            self.events.put(Announce(spoken_code(code), f"web: pairing code {code} (5 minutes)"))

        coach = Coach(
            submit=self.events.put,
            announce_code=announce,
            library=self.library,
            history=self.store.records,
            sessions=SessionStore(paths.state_dir() / "web"),
            default_routine=self.default_routine,
        )
        server = WebServer(coach, self.settings.web_bind, self.settings.web_port, self.log)
        try:
            server.start()
        except WebError as err:
            self.log.error("web: %s; coaching goes on without it", err)
            return
        self.events.put(WebStarted(server, page_url(self.settings.web_bind, server.port)))

    def _speaker_problem(self, message: str) -> None:
        self.log.error("speaker: %s", message)
        self.events.put(DeviceProblem("speaker", False, message))

    def _open_mic(self, on_chunk: Callable[[npt.NDArray[np.int16]], None]) -> MicrophoneLike:
        from skill.hardware.microphone import Microphone

        if self._mic_tries:
            self._refresh_devices()
        self._mic_tries += 1
        mic = Microphone(
            self.settings.input_device,
            on_chunk,
            on_lost=lambda _: None,
            device_from=self.origins.get("input_device"),
        )
        mic.start()
        self._mic_tries = 0
        return mic

    def _refresh_devices(self) -> None:
        """Let PortAudio see devices plugged in since it started (it lists them only once)."""
        import sounddevice as sd

        def reinitialise() -> None:
            sd._terminate()
            sd._initialize()

        if self.output is None:
            reinitialise()
        elif not self.output.reopen_idle(reinitialise):
            self.log.debug("speaker busy: devices are looked for again on the next try")

    def _open_gpio(self) -> tuple[ButtonLike, LedLike]:
        from skill.hardware.gpio import open_gpio

        # Each device that fails is logged and stood in for on its own (has_button and
        # has_led then say what is there); origins name the config file to fix.
        return open_gpio(
            self.settings,
            self.log,
            self.events.put,
            lambda: self.player.mode,  # read at each press: the player is built after this
            origins=self.origins,
        )

    @property
    def has_button(self) -> bool:
        from skill.hardware.gpio import NoButton

        return not isinstance(self.button, NoButton)

    @property
    def has_led(self) -> bool:
        from skill.hardware.gpio import NoLed

        return not isinstance(self.led, NoLed)

    def _coach_text(self) -> str:
        return self.speech.current_text

    def _coach_audio(self) -> tuple[npt.NDArray[np.int16], int] | None:
        return self.speech.current_audio

    # --- running -------------------------------------------------------------------------

    def run(self) -> int:
        """Listen and coach until SIGTERM/SIGINT; progress is saved and the LED is off on exit."""
        from skill.service import notify

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        threads = [
            threading.Thread(target=self.listener.run, name="listener", daemon=True),
            threading.Thread(target=self.mic.run, name="microphone", daemon=True),
        ]
        for thread in threads:
            thread.start()
        self.mic.attempted.wait(10)
        self.store.mark_running(os.getpid(), time.time())
        self.router.apply(self.player.handle(Tick()))
        self.led.set(LedState.READY if self.mic.is_open else LedState.ERROR)
        self.greet()
        notify.ready("listening" if self.mic.is_open else "waiting for a microphone")
        self._start_web()
        try:
            self._loop(notify.watchdog_interval())
        finally:
            self._shutdown()
        return 0

    def greet(self) -> None:
        """The ready line, then, once, the offer of an interrupted session still resumable."""
        wake_word = self.settings.wake_word
        # The default's name, not the last routine's: with a session to resume, saying
        # "start" and its name would begin it afresh.
        example = self.library.routines.get(self.default_routine or self.library.default_routine)
        name = example.name if example else "upper back"
        ready = ready_message(self.mic.is_open, self.has_button, wake_word, self.settings.web, name)
        self.log.info("%s", ready)
        routine = self.player.resumable_routine()
        if routine is not None:
            text = resume_offer(routine, self.mic.is_open, self.has_button, wake_word)
            self._announce(Announce(text, f"resumable: {text}"))

    def _loop(self, watchdog_s: float | None) -> None:
        from skill.service import notify

        ticker = Ticker(time.monotonic)
        next_ping = time.monotonic()
        while not self.stopping.is_set():
            try:
                event: Incoming = self.events.get(timeout=TICK_S)
            except queue.Empty:
                event = Tick()
            self._handle(event)
            if ticker.due():
                self._handle(Tick())
            now = time.monotonic()
            if watchdog_s and now >= next_ping:
                notify.watchdog()
                next_ping = now + watchdog_s / 2

    def _handle(self, event: Incoming) -> None:
        if isinstance(event, Announce):
            self._announce(event)
            return
        if isinstance(event, WebStarted):
            self._web_started(event)
            return
        if isinstance(event, WakeHeard):
            self.led.show(SetLed(LedState.HEARD))
            self.router.apply_one(PlayCue("tick"))
            return
        if isinstance(event, Command):
            self.log.info("command %s from %s", event.name, event.source)
            self.led.show(SetLed(LedState.HEARD))
        before = self.player.mode
        self.router.apply(self.player.handle(event))
        if self.player.mode != before:
            self.log.info("state %s -> %s", before, self.player.mode)
        if self.web is not None:
            self.web.publish(view_of(self.player))

    def _web_started(self, started: WebStarted) -> None:
        if self.stopping.is_set():  # it came up as the service was stopping
            started.server.stop()
            return
        self.web = started.server
        self.web.publish(view_of(self.player))
        from skill.web.address import where_to_open

        self.log.info("web: %s", where_to_open(self.settings.web_bind, started.url))

    def _announce(self, event: Announce) -> None:
        """Log and say it; a negative id, so the player never takes its end for its own."""
        self.log.info("%s", event.log)
        self._announced -= 1
        self.router.apply_one(Speak(event.text, self._announced, wait=False, kind="info"))

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.log.info("%s received: saving progress and stopping", signal.Signals(signum).name)
        self.stopping.set()

    def _shutdown(self) -> None:
        from skill.service import notify

        notify.stopping()
        if self.web is not None:
            self.web.stop()
        self.store.save(self.player.resumable())
        self.store.clear_running()
        self.mic.stop_flag.set()
        self.listener.chunks.put(None)
        if self.prerender_stop is not None:
            self.prerender_stop.set()
        self.speech.stop()
        self.led.set(LedState.OFF)
        for device in (self.led, self.button, self.output):
            if device is not None:
                device.close()
        trouble = self.store.trouble()
        if trouble is None:
            self.log.info("stopped; progress saved")
        else:
            self.log.error("stopped; progress could not be saved: %s", trouble)


def configure_logging(level: str) -> logging.Logger:
    """One line per event on stdout: journald adds the time, a terminal gets it here."""
    import sys

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return logging.getLogger("stretch-coach")
