"""`stretch-coach demo`: a scripted person talks to the real coach, with no microphone needed.

The person's voice (Piper raised in pitch and tempo, see PersonVoice) and the coach's
own voice and cue tones leaking back (as a real room would) are mixed into one 16 kHz
microphone stream that goes through the service's listening step (real recognizer, echo
gate) in 20 ms chunks; the real player reacts, and its actions go through the service's
own ActionRouter: speech and cues into the room, volume changes, the LED, progress (to a
temporary state folder, never the person's) and the log. Only the clock, the microphone
and the speaker are the demo's. Time is virtual: `--fast` runs it as fast as the CPU
allows, otherwise it keeps real-time pace. Everything said by both is written to one WAV.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.config import DEFAULTS, Settings
from skill.core.events import (
    Action,
    Command,
    LedState,
    RecordSession,
    SaveProgress,
    SetLed,
    SpeechDone,
    Tick,
)
from skill.core.ticker import Ticker
from skill.errors import UserError
from skill.hardware.wav import write_wav
from skill.service import wiring
from skill.service.router import ProgressSink
from skill.speech_in.asr import CHUNK_S, SAMPLE_RATE
from skill.speech_in.recognizer import Listening

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.core.exercise import Routine
    from skill.core.player import Player
    from skill.library.loader import LoadResult
    from skill.speech_in.asr import Engine, Hearing
    from skill.speech_out.voice import Voice

    Pcm = npt.NDArray[np.int16]

MIC_RATE = SAMPLE_RATE
ECHO_GAIN = 0.25  # the coach's voice reaches the microphone about 12 dB down
HEAR_TIMEOUT_S = 5.0  # after this long unheard, the person says it again
MAX_TRIES = 3


@dataclass(frozen=True)
class Line:
    """Something the person says once the coach is in `state` for `after_s` seconds."""

    text: str
    expect: str  # the command it must produce
    state: str  # idle | waiting (for the props) | holding | paused
    after_s: float


# Wordings the PocketSphinx fallback hears reliably in this voice (measured 2026-12-01 at ten
# stream offsets: each 10 of 10, scores -2 to -19 against the -20 threshold). A flat "next"
# and "how long" sit at the threshold (about half heard); "stop", "skip" and "resume" 0 of 10.
# "louder" is there to show a volume change; it was not among those measured, and in this
# session it is heard at the second try. A flat "pause" and "hold on" are heard as "both" and
# "old on" (2026-12-06); "Pause!", said as a person would, is heard at once.
SCRIPT: tuple[Line, ...] = (
    Line("start upper back routine", "start", "idle", 1.0),
    Line("ready", "ready", "waiting", 1.5),
    Line("Pause!", "pause", "holding", 4.0),
    Line("continue", "resume", "paused", 3.0),
    Line("how long left", "time_left", "holding", 3.0),
    Line("louder", "louder", "holding", 3.0),
    Line("Next.", "next", "holding", 3.0),
    Line("I'm done", "stop", "holding", 3.0),
)


@dataclass
class Outcome:
    line: Line
    said_at: list[float] = field(default_factory=list)
    heard: str | None = None
    confidence: float = 0.0
    latency_ms: float | None = None
    acted: bool = False
    last_missed: int = 0  # the try last reported as missed


def describe_command(command: Command, routine_names: Mapping[str, str] | None = None) -> str:
    """A command as words, e.g. 'start upper back' or 'time left' (not a Python dict)."""
    words = [command.name.replace("_", " ")]
    for key, value in command.args.items():
        name = (routine_names or {}).get(value) if key == "routine" else None
        words.append(name or value.replace("_", " "))
    return " ".join(w for w in words if w)


@dataclass
class Track:
    """Audio placed on the virtual timeline: 16 kHz for the microphone, voice rate for the WAV."""

    rate: int
    clips: list[tuple[float, Pcm]] = field(default_factory=list)

    def add(self, start: float, pcm: Pcm) -> float:
        self.clips.append((start, pcm))
        return start + len(pcm) / self.rate

    def cut(self, at: float) -> None:
        """Silence everything after `at` (the coach was interrupted)."""
        kept = []
        for start, pcm in self.clips:
            if start >= at:
                continue
            keep = int((at - start) * self.rate)
            kept.append((start, pcm[:keep]))
        self.clips = kept

    def render(self, length_s: float) -> Pcm:
        import numpy as np

        out = np.zeros(int(length_s * self.rate) + 1, dtype=np.int32)
        for start, pcm in self.clips:
            i = int(start * self.rate)
            seg = pcm[: max(0, len(out) - i)]
            out[i : i + len(seg)] += seg
        return np.clip(out, -32768, 32767).astype(np.int16)


def resample(pcm: Pcm, rate: int, to: int) -> Pcm:
    import soxr

    return pcm if rate == to else soxr.resample(pcm, rate, to)


PERSON_PITCH = 1.5  # semitones above the coach: played faster, so a higher voice
# Words drawn out a little, as someone lying down speaks: at the coach's pace the fallback
# heard "Next." at 5 of 10 stream offsets, at 1.2 all ten, and every other demo line too.
PERSON_LENGTH = 1.2


class PersonVoice:
    """The person: Piper's model without sampling noise (so every run is the same), raised
    in pitch. espeak-ng would be a more different voice, but the PocketSphinx fallback does
    not understand it (measured: 0-1 of 14 command phrases)."""

    def __init__(self, coach: Voice) -> None:
        self.voice = coach.variant(length_scale=PERSON_LENGTH, noise_scale=0.0, noise_w_scale=0.0)

    def __call__(self, text: str) -> tuple[Pcm, int]:
        rate = round(self.voice.sample_rate * 2 ** (PERSON_PITCH / 12))
        return self.voice.synthesize(text), rate


class RoomSpeech:
    """The speaker of the demo's room (the router's SpeechSink): what the coach says and
    plays goes onto the session's timeline, where the microphone hears it as echo."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def say(self, text: str, utterance_id: int, timely: bool = False) -> None:
        self.session.speak(text, utterance_id, timely)

    def cue(self, name: str) -> None:
        self.session.cue(name)

    def stop(self) -> None:
        self.session.stop_speech()

    def change_volume(self, delta: float) -> None:
        self.session.change_volume(delta)

    @property
    def current_text(self) -> str:
        return self.session.coach_text() or ""

    @property
    def current_audio(self) -> tuple[Pcm, int] | None:
        return self.session.coach_audio()


class TranscriptLed:
    """The LED (the router's LedSink) as transcript lines; a heard-flash is not a state."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def show(self, action: SetLed) -> None:
        self.session.show_led(action.state)


class Session:
    """The virtual-time loop: microphone chunks in, player actions out through the service's
    router, both voices recorded."""

    def __init__(
        self,
        player: Player,
        engine: Engine,
        render: Callable[[str], tuple[Pcm, int]],
        report: Callable[[str], None],
        person: Callable[[str], tuple[Pcm, int]],
        script: tuple[Line, ...] = SCRIPT,
        realtime: bool = False,
        progress: ProgressSink | None = None,
        log: logging.Logger | None = None,
        volume: float = DEFAULTS.volume,
    ) -> None:

        self.player, self.engine, self.render, self.report = player, engine, render, report
        self.person = person
        self.listening = Listening(engine)
        self.start_volume = self.volume = volume
        self.progress = progress if progress is not None else _ScratchProgress()
        self.router = wiring.build_router(
            RoomSpeech(self),
            TranscriptLed(self),
            self.progress,
            log or logging.getLogger("stretch-coach.demo"),
        )
        self.realtime = realtime
        self.t = 0.0
        self.outcomes = [Outcome(line) for line in script]
        self.cursor = 0  # the line the person is working on
        self.mic_user = Track(MIC_RATE)
        self.mic_coach = Track(MIC_RATE)
        self.out_rate = 0
        self.wav_coach: Track | None = None
        self.wav_user: Track | None = None
        self.speaking: dict[int, tuple[float, str]] = {}  # uid -> (end time, text)
        self.counts: set[int] = set()  # utterances that are counts (speak)
        self.coach_free_at = 0.0
        self.coach_clips: list[tuple[float, Pcm]] = []  # (start, 16 kHz audio) of each sentence
        self.person_free_at = 0.0
        self.led = LedState.READY
        self.state_since = 0.0
        self.state = "idle"
        self.live: Any = None  # an AudioOutput when playing live (--play)
        self._live_ids = 0
        # Transcript lines wait here until the virtual clock reaches their time: speech queued
        # behind other speech is stamped when it will start, so it must not print before
        # what happens meanwhile (and is dropped if cut off before it starts).
        self._pending: list[tuple[float, int, str, str]] = []  # (time, order, kind, text)
        self._order = 0

    # --- the transcript ------------------------------------------------------------------

    def _line(self, kind: str, text: str, at: float | None = None) -> None:
        """A transcript line `[mm:ss.s] kind    : text`, printed once the clock reaches `at`."""
        t = self.t if at is None else at
        self._order += 1
        heapq.heappush(self._pending, (t, self._order, kind, f"{self._stamp(t)} {text}"))
        self._emit_due()

    def _emit_due(self, until: float | None = None) -> None:
        limit = self.t if until is None else until
        while self._pending and self._pending[0][0] <= limit + 1e-9:
            self.report(heapq.heappop(self._pending)[3])

    def flush_report(self) -> None:
        """Print every line still waiting (the session is over)."""
        self._emit_due(float("inf"))

    # --- the coach side ------------------------------------------------------------------

    def apply(self, actions: list[Action]) -> None:
        self.router.apply(actions)
        self._update_state()

    def show_led(self, state: LedState) -> None:
        if state is LedState.HEARD:
            return
        if state is not self.led:
            self._line("led", f"LED     : {state.value}")
        self.led = state

    def speak(self, text: str, utterance_id: int, timely: bool = False) -> None:
        """As the speaker does (skill.speech_out.speaker.Speaker.say): a count is not said
        while other speech is still to play."""
        busy = [uid for uid, (end, _) in self.speaking.items() if end > self.t]
        if timely and any(uid not in self.counts for uid in busy):
            self._line("coach", f"coach   : ({text} not said: still speaking)", at=self.t)
            return
        if timely:
            self.counts.add(utterance_id)
        pcm, rate = self.render(text)
        start, end = self._play(pcm, rate)
        self.coach_clips.append((start, resample(pcm, rate, MIC_RATE)))
        self.speaking[utterance_id] = (end, text)
        self._line("coach", f"coach   : {text}", at=start)

    def cue(self, name: str) -> None:
        """A cue tone, played after what the coach is saying, as the speaker queues it."""
        from skill.speech_out import tones

        rate = self.out_rate or MIC_RATE
        start, _ = self._play(tones.render(name, rate), rate)
        self._line("cue", f"cue     : {name.replace('_', ' ')}", at=start)

    def _play(self, pcm: Pcm, rate: int) -> tuple[float, float]:
        """Queue audio on the speaker at the current volume: into the room (the microphone's
        echo) and the WAV; returns when it starts and ends."""
        import numpy as np

        self._ensure_wav(rate)
        assert self.wav_coach is not None
        gain = self.volume / self.start_volume if self.start_volume > 0 else 1.0
        if gain != 1.0:
            pcm = np.clip(pcm.astype(np.float32) * gain, -32768, 32767).astype(np.int16)
        start = max(self.t, self.coach_free_at)
        end = self.mic_coach.add(start, resample(pcm, rate, MIC_RATE))
        self.wav_coach.add(start, resample(pcm, rate, self.out_rate))
        self.coach_free_at = end
        self._play_live(pcm, rate)
        return start, end

    def change_volume(self, delta: float) -> None:
        before, self.volume = self.volume, min(max(self.volume + delta, 0.0), 1.0)
        if self.live is not None:
            self.live.change_volume(delta)
        self._line("volume", f"volume  : {before:.0%} -> {self.volume:.0%}")

    def stop_speech(self) -> None:
        # Speech queued to start later is cut before a word of it sounds: not in the transcript.
        kept = [p for p in self._pending if not (p[2] == "coach" and p[0] >= self.t)]
        if len(kept) != len(self._pending):
            self._pending = kept
            heapq.heapify(self._pending)
        self.mic_coach.cut(self.t)
        if self.wav_coach is not None:
            self.wav_coach.cut(self.t)
        self.coach_free_at = self.t
        if self.live is not None:
            self.live.stop()
        for uid in list(self.speaking):
            self.speaking[uid] = (self.t, self.speaking[uid][1])

    def _play_live(self, pcm: Pcm, rate: int) -> None:
        if self.live is not None:
            self._live_ids += 1
            self.live.play(pcm, rate, self._live_ids)

    def _ensure_wav(self, rate: int) -> None:
        if self.wav_coach is None:
            self.out_rate = rate
            self.wav_coach, self.wav_user = Track(rate), Track(rate)

    def _finish_speech(self) -> None:
        for uid, (end, _) in sorted(self.speaking.items(), key=lambda kv: kv[1][0]):
            if end <= self.t:
                del self.speaking[uid]
                self.apply(self.player.handle(SpeechDone(uid)))

    def coach_audio(self) -> tuple[Pcm, int] | None:
        """The sentence sounding now, for the recognizer's echo check (None once cut off).

        Sentences follow one another, so the search stops at the first one already over:
        it runs every chunk and must not grow with the session."""
        for start, pcm in reversed(self.coach_clips):
            end = min(start + len(pcm) / MIC_RATE, self.coach_free_at)
            if end <= self.t:
                return None
            if start <= self.t:
                return pcm, MIC_RATE
        return None

    def coach_text(self) -> str | None:
        live = [text for end, text in self.speaking.values() if end > self.t]
        return live[0] if live else None

    def _update_state(self) -> None:
        p = self.player
        state: str = "holding" if p.mode == "running" and p.phase == "timed" else p.mode
        if p.mode == "running" and p.phase == "ready":
            state = "waiting"
        if p.beat is not None and p.beat.kind == "rest":
            state = "resting"
        if state != self.state:
            self.state, self.state_since = state, self.t

    # --- the person side -----------------------------------------------------------------

    def _person_turn(self) -> None:
        if self.cursor >= len(self.outcomes) or self.t < self.person_free_at:
            return
        outcome = self.outcomes[self.cursor]
        line = outcome.line
        if outcome.said_at:
            if self.t - outcome.said_at[-1] < HEAR_TIMEOUT_S:
                return
            if outcome.last_missed != len(outcome.said_at):
                outcome.last_missed = len(outcome.said_at)
                what = (
                    f"not heard within {HEAR_TIMEOUT_S:.0f} s"
                    if outcome.heard is None
                    else f"heard as {outcome.heard.replace('_', ' ')}, but nothing changed"
                )
                self._line("missed", f"missed  : {line.text!r} {what}")
            if len(outcome.said_at) >= MAX_TRIES:
                self._line("missed", f"(the coach did not react to {line.text!r})")
                self.cursor = len(self.outcomes)  # the rest of the script depends on it
                return
        ready = self.state == line.state and self.t - self.state_since >= line.after_s
        if not ready or self.coach_text() is not None:
            return
        pcm, rate = self.person(line.text)
        self._ensure_wav(rate)
        assert self.wav_user is not None
        start = self.t + 0.1
        end = self.mic_user.add(start, resample(pcm, rate, MIC_RATE))
        self.wav_user.add(start, resample(pcm, rate, self.out_rate))
        self._play_live(pcm, rate)
        outcome.said_at.append(end)
        self.person_free_at = end + 0.5
        again = " (again)" if len(outcome.said_at) > 1 else ""
        self._line("person", f"person  : {line.text!r}{again}", at=start)

    def _heard(self, checked: Hearing) -> None:
        """A hearing that went through the echo gate: reported, and acted on if a command."""
        if checked.command is None:
            if checked.text:
                self._line("ignored", f"ignored : {checked.text!r} ({checked.reason})")
            return
        command = checked.command
        outcome = self._current()
        if outcome is not None and command.name == outcome.line.expect and outcome.heard is None:
            outcome.heard = command.name
            outcome.confidence = checked.confidence
            outcome.latency_ms = max(0.0, (self.t - outcome.said_at[-1]) * 1000)
        names = {rid: r.name for rid, r in self.player.library.routines.items()}
        self._line(
            "heard",
            f"heard   : {describe_command(command, names)} "
            f"(confidence {checked.confidence:.2f}, {checked.engine})",
        )
        before = (self.player.mode, self.player.index, len(self.speaking))
        actions = self.player.handle(
            Command(command.name, command.args, "demo", checked.confidence, checked.text)
        )
        self.apply(actions)
        after = (self.player.mode, self.player.index, len(self.speaking))
        if outcome is not None and outcome.heard == command.name and before != after:
            outcome.acted = True
            self.cursor += 1

    def _current(self) -> Outcome | None:
        return self.outcomes[self.cursor] if self.cursor < len(self.outcomes) else None

    # --- the loop ------------------------------------------------------------------------

    def run(self, limit_s: float, on_step: Callable[[], None] | None = None) -> None:
        chunk = int(CHUNK_S * MIC_RATE)
        ticker = Ticker(lambda: self.t)
        wall0 = time.monotonic()
        done_at: float | None = None
        self.apply(self.player.handle(Tick()))
        while self.t < limit_s:
            self._emit_due()
            self._person_turn()
            mic = self._mic_chunk(chunk)
            heard = self.listening.hear(mic, self.coach_text(), self.coach_audio())
            self.t = self.listening.fed_s
            for hearing in heard:
                self._heard(hearing)
            self._finish_speech()
            if ticker.due():
                self.apply(self.player.handle(Tick()))
            if on_step is not None:
                on_step()
            if done_at is None and self.cursor >= len(self.outcomes):
                done_at = self.t
            if done_at is not None and self.t - done_at > 1.0 and not self.speaking:
                break
            if self.realtime:
                time.sleep(max(0.0, wall0 + self.t - time.monotonic()))
        self.flush_report()

    def _mic_chunk(self, n: int) -> Pcm:
        import numpy as np

        i = round(self.t * MIC_RATE)
        user = _slice(self.mic_user, i, n)
        coach = _slice(self.mic_coach, i, n)
        mixed = user.astype(np.float32) + ECHO_GAIN * coach.astype(np.float32)
        return np.clip(mixed, -32768, 32767).astype(np.int16)

    def _stamp(self, at: float | None = None) -> str:
        t = self.t if at is None else at
        return f"[{int(t // 60):02d}:{t % 60:04.1f}]"

    def mix(self) -> tuple[Pcm, int]:
        import numpy as np

        if self.wav_coach is None or self.wav_user is None:
            return np.zeros(0, dtype=np.int16), MIC_RATE
        both = self.wav_coach.render(self.t).astype(np.int32) + self.wav_user.render(self.t)
        return np.clip(both, -32768, 32767).astype(np.int16), self.out_rate


def _slice(track: Track, i: int, n: int) -> Pcm:
    """Samples i..i+n of a track (clips overlap rarely; they are summed when they do)."""
    import numpy as np

    out = np.zeros(n, dtype=np.int32)
    for start, pcm in track.clips:
        s = round(start * track.rate)
        lo, hi = max(i, s), min(i + n, s + len(pcm))
        if lo < hi:
            out[lo - i : hi - i] += pcm[lo - s : hi - s]
    return np.clip(out, -32768, 32767).astype(np.int16)


class _ScratchProgress:
    """Progress saved as the service saves it, but into a temporary state folder (removed
    with the session): the demo must never touch the person's own progress or history."""

    def __init__(self) -> None:
        import tempfile

        from skill.service.progress import ProgressStore

        self._folder = tempfile.TemporaryDirectory(prefix="stretch-coach-demo-")
        self.store = ProgressStore(Path(self._folder.name))

    def apply(self, action: SaveProgress | RecordSession) -> None:
        self.store.apply(action)


@dataclass
class DemoResult:
    outcomes: list[Outcome]
    seconds: float
    wall_s: float
    wav: Path | None
    engine: str

    @property
    def all_acted(self) -> bool:
        return all(o.acted for o in self.outcomes)

    def summary(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "session_s": round(self.seconds, 1),
            "wall_s": round(self.wall_s, 1),
            "commands": len(self.outcomes),
            "recognized": sum(o.heard is not None for o in self.outcomes),
            "acted_on": sum(o.acted for o in self.outcomes),
            "first_try": sum(o.acted and len(o.said_at) == 1 for o in self.outcomes),
            "wav": str(self.wav) if self.wav else None,
        }


def demo_routine(
    loaded: LoadResult,
    routine: str | None,
    configured_in: str | None,
    report: Callable[[str], None],
) -> Routine:
    """The routine the demo starts: the one named, else the configured default_routine (one
    that is no routine is reported and the library's default begins, as the service does)."""
    from skill.config import choose_default_routine
    from skill.core.exercise import find_routine

    library = loaded.library
    if configured_in is not None and routine is not None:
        choice = choose_default_routine(routine, configured_in, loaded)
        if choice.warning:
            report(f"warning: {choice.warning}")
        routine = choice.id
    chosen = find_routine(library, routine or library.default_routine)
    if chosen is None:
        why = loaded.why_missing(routine or "")
        if why:
            raise UserError(why)
        known = ", ".join(r.name for r in library.routines.values())
        raise UserError(f"no routine called {routine!r}; known routines: {known}")
    return chosen


def run_demo(
    routine: str | None = None,
    fast: bool = True,
    play: bool = False,
    out: Path | None = Path("demo-session.wav"),
    report: Callable[[str], None] = print,
    progress: bool = True,
    log: logging.Logger | None = None,
    settings: Settings = DEFAULTS,
    configured_in: str | None = None,
) -> DemoResult:
    """Play the scripted session through the real engines, built as the service builds them
    (the built-in settings by default: the script is said without a wake word); returns
    what was heard and done. `configured_in` is the config file that chose `routine`: one
    that is no routine is warned about and the library's default begins, as in the service."""
    from skill.core.player import Player
    from skill.speech_out.speaker import render

    log = log or logging.getLogger("stretch-coach.demo")
    loaded = wiring.load_routines(log)
    library = loaded.library
    chosen = demo_routine(loaded, routine, configured_in, report)
    from skill.core.plan import routine_props

    rest = [
        line for line in SCRIPT[1:] if line.state != "waiting" or routine_props(library, chosen)
    ]
    script = (Line(f"start {chosen.name} routine", "start", "idle", 1.0), *rest)
    voice = wiring.open_voice(settings)
    cache = wiring.open_phrase_cache(settings, voice)
    engine = wiring.open_recognizer(settings, library, log)
    clock = _VirtualClock()
    player = Player(library, clock=clock)
    session = Session(
        player,
        engine,
        lambda text: render(voice, cache, text),
        report,
        PersonVoice(voice),
        script,
        realtime=not fast,
        log=log,
        volume=settings.volume,
    )
    clock.session = session
    if play:
        from skill.hardware.playback import AudioOutput

        session.live = AudioOutput()
    wall0 = time.monotonic()
    bar = _progress_bar(len(script), progress)
    done = [0]

    def step() -> None:
        if session.cursor != done[0]:
            bar.update(session.cursor - done[0])
            done[0] = session.cursor

    def emit(text: str) -> None:
        if progress:
            with bar.external_write_mode():  # the bar steps aside for the line
                report(text)
        else:
            report(text)

    session.report = emit
    session.run(limit_s=240.0, on_step=step)
    bar.close()
    wav = None
    if out is not None:
        pcm, rate = session.mix()
        write_wav(out, pcm, rate)
        wav = out
    return DemoResult(session.outcomes, session.t, time.monotonic() - wall0, wav, engine.name)


class _VirtualClock:
    """The player's clock is the session's virtual time."""

    session: Session | None = None

    def __call__(self) -> float:
        return self.session.t if self.session is not None else 0.0


def _progress_bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="commands", unit="cmd", disable=not enabled, leave=False)
