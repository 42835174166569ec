"""The coaching state machine: events in, actions out, time only from an injected clock.

It never sleeps and touches no device, so tests drive a 20-minute routine on a virtual
clock in milliseconds, and the service, the demo and `show --simulate` share one
behaviour. It walks the routine's plan (skill.core.plan) beat by beat: a spoken beat ends
when the speech layer reports SpeechDone, a timed beat when the clock passes its end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from skill.core import phrases
from skill.core.events import (
    Action,
    Command,
    DeviceProblem,
    Event,
    LedState,
    Log,
    PlayCue,
    RecordSession,
    SaveProgress,
    SetLed,
    SetVolume,
    Speak,
    SpeechDone,
    StopSpeech,
    Tick,
)
from skill.core.exercise import Exercise, Library, Routine, find_routine
from skill.core.history import count
from skill.core.plan import (
    RELEASE,
    Beat,
    Plan,
    Segment,
    SpeechTimer,
    build_plan,
    estimate_speech_seconds,
    fill_side,
    move_count_text,
    props_request,
    routine_props,
    side_text,
    spoken_cautions,
)

Mode = Literal["idle", "running", "paused"]
Phase = Literal["none", "say", "lead", "timed", "ready"]
# A saved session's routine, pace, beat, remaining hold, start time, active seconds, save time.
_Place = tuple[Routine, float, int, float | None, float | None, float, float]
SNAPSHOT_VERSION = 1
EPS = 1e-6  # clock comparisons: a tick scheduled at a deadline must count as reaching it
HALFWAY_MIN_S = 20.0  # holds this long get "halfway there"
SPOKEN_COUNTDOWN_MIN_S = 8.0  # holds this long get "three, two, one"; shorter ones ticks
TICK_COUNTDOWN_MIN_S = 4.0
MOVE_COUNT_SLACK_S = 0.2  # a moving rep's count is spoken only if it fits in the rep
SPEECH_WATCHDOG_S = 30.0  # a SpeechDone this overdue was lost: go on rather than hang
READY_REMINDER_S = 30.0  # while waiting for the props: remind this often
# During a hold, rest or moving set, where the person is is saved this often: a power cut
# (no SIGTERM, no save at stop) then costs at most this much of it on "resume".
SAVE_EVERY_S = 10.0
# "quieter" stops here: at 0 the coach is silent, and the person cannot tell why.
MIN_VOLUME = 0.2
WHAT_TIMED = {"hold": "hold", "move": "rep", "rest": "rest", "gap": "break"}
SpeakKind = Literal["instruction", "ack", "count", "cue", "info"]


@dataclass(frozen=True)
class PlayerSettings:
    default_routine: str | None = None  # None: the library's default
    resume_window_hours: float = 12.0
    pace: float = 1.0
    volume: float = 0.8  # the speaker's volume at start (Settings.volume)
    volume_step: float = 0.2
    led_interval_s: float = 0.5
    speech_seconds: SpeechTimer = estimate_speech_seconds  # for plans and time left
    has_button: bool = True  # False: never tell the person to use it
    wake_word: bool = False  # commands follow a wake word: "Say the wake word, then ready"


@dataclass(frozen=True)
class _Cue:
    """Something said or played when `remaining` seconds of a timed beat are left."""

    key: str
    remaining: float
    action: Action


@dataclass
class _Session:
    routine: Routine
    started_at: float
    resumed: bool
    completed: set[int] = field(default_factory=set)  # exercise segment indexes finished
    # Time spent stretching: running, not paused, not waiting for the props. The history's
    # minutes are this, not end minus start, which holds every break and an overnight gap
    # before a resume.
    active_s: float = 0.0
    counted_to: float | None = None  # the clock time active_s runs to; None: not counting
    # A hold or a moving rep has begun: before that (the intro, the props) nothing was done,
    # and there is no session to count in the history or the streak.
    exercised: bool = False


def clamp_pace(pace: float) -> float:
    """Snap to the quarter steps slower/faster use, so every intro phrase is pre-rendered."""
    snapped = round(pace / phrases.PACE_STEP) * phrases.PACE_STEP
    return min(phrases.PACE_MAX, max(phrases.PACE_MIN, snapped))


class Player:
    """Feed it events with `handle`; carry out the actions it returns, in order."""

    def __init__(
        self,
        library: Library,
        clock: Callable[[], float],
        settings: PlayerSettings | None = None,
        saved: Mapping[str, Any] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.library = library
        self.clock = clock
        self.wall = wall
        self.settings = settings or PlayerSettings()
        self.saved: Mapping[str, Any] | None = saved
        self._mode: Mode = "idle"
        self._phase: Phase = "none"  # within running: speaking, lead-in before a hold, timing
        self.pace = clamp_pace(self.settings.pace)
        self.volume = self.settings.volume  # the speaker's, followed here to know its limits
        self.plan: Plan | None = None
        self.index = 0
        self.last_routine = str(saved.get("routine", "")) if saved else ""
        self._uid = 0
        self._awaiting: int | None = None
        self._overdue_at = 0.0  # when a missing SpeechDone counts as lost
        self._end = 0.0
        self._total = 0.0
        self._held: float | None = None  # remaining seconds while paused or in a lead-in
        self._cues: list[_Cue] = []
        self._fired: set[str] = set()
        self._jump: tuple[int, float | None] | None = None  # after this beat, go there
        self._session: _Session | None = None
        self._led: LedState | None = None
        self._led_at = -1e9
        self._devices_down: set[str] = set()
        self._remind_at = 0.0  # waiting for the props: when to remind
        self._saved_clock = 0.0  # when the place was last saved (SAVE_EVERY_S)
        self._reorient = False  # the next opening names the exercise and its setup (resume)
        # _locate of one saved mapping at one pace: the page's view asks for what is
        # resumable ten times a second while idle, and locating builds the whole plan.
        self._located: tuple[Mapping[str, Any], float, _Place | str] | None = None

    # --- public state for the shell --------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def routine_id(self) -> str | None:
        return self.plan.routine.id if self.plan and self._mode != "idle" else None

    @property
    def beat(self) -> Beat | None:
        if self.plan is None or self._mode == "idle" or self.index >= len(self.plan.beats):
            return None
        return self.plan.beats[self.index]

    @property
    def heading_to(self) -> Beat | None:
        """The beat the player is on its way to (a resume, a repeat) while it says the words
        that lead into it; else None. A screen shows that rep, as the coach counts it."""
        if self._jump is None or self.plan is None or self._mode == "idle":
            return None
        return self.plan.beats[self._jump[0]]

    @property
    def remaining_hold(self) -> float | None:
        """Seconds left in the current timed beat (frozen while paused), else None."""
        beat = self.beat
        if beat is None or not beat.timed:
            return None
        if self._phase == "timed" and self._mode == "running":
            return max(0.0, self._end - self.clock())
        return self._held

    def next_deadline(self) -> float | None:
        """When the next cue or beat end falls due, so a shell or simulator can tick exactly."""
        if self._mode == "running" and self._phase == "ready":
            return self._remind_at
        if self._mode != "running" or self._phase != "timed":
            return None
        due = [self._end - c.remaining for c in self._cues if c.key not in self._fired]
        return min([self._end, self._saved_clock + SAVE_EVERY_S, *due])

    # --- events ----------------------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        self._count_active()
        out = self._dispatch(event)
        self._count_active()  # the event may have paused, resumed or begun a session
        return out

    def _dispatch(self, event: Event) -> list[Action]:
        match event:
            case Command():
                return self._command(event)
            case Tick():
                return self._tick()
            case SpeechDone(utterance_id=uid):
                return self._speech_done(uid)
            case DeviceProblem():
                return self._device(event)
        return []

    def _count_active(self) -> None:
        """Add the time since the last count to the session's active time, if it was
        coaching then; every change of mode happens inside handle, which counts around it."""
        session = self._session
        if session is None:
            return
        now = self.clock()
        if session.counted_to is not None:
            session.active_s += max(0.0, now - session.counted_to)
        coaching = self._mode == "running" and self._phase != "ready"
        session.counted_to = now if coaching else None
        beat = self.beat
        if self._phase == "timed" and beat is not None and beat.kind in ("hold", "move"):
            session.exercised = True

    def _active_s(self, session: _Session) -> float:
        """The session's active time up to now (without counting it in)."""
        running = 0.0 if session.counted_to is None else self.clock() - session.counted_to
        return round(session.active_s + max(0.0, running), 1)

    def _speech_done(self, uid: int) -> list[Action]:
        if self._mode != "running" or uid != self._awaiting:
            return []  # an acknowledgement, or speech that a stop or jump cut off
        self._awaiting = None
        if self._phase == "lead":
            return self._enter(self.index, self._held)
        if self._jump is not None:
            target, remaining = self._jump
            self._jump = None
            return self._enter(target, remaining)
        return self._advance()

    def _tick(self) -> list[Action]:
        if self._mode != "running":
            return []
        now = self.clock()
        if self._phase == "ready":
            return self._remind() if now >= self._remind_at - EPS else []
        if self._phase in ("say", "lead") and self._awaiting is not None:
            if now < self._overdue_at:
                return []
            lost = Log(f"speech {self._awaiting} never reported done; going on", "warning")
            return [lost, *self._speech_done(self._awaiting)]
        if self._phase != "timed":
            return []
        remaining = self._end - now
        out = self._due_cues(remaining)
        if remaining <= EPS:
            return out + self._advance()
        if now - self._led_at >= self.settings.led_interval_s - EPS:
            out += self._set_led(LedState.HOLDING, self._progress(remaining), force=True)
        if now - self._saved_clock >= SAVE_EVERY_S - EPS:
            out.append(self._save())
        return out

    def _due_cues(self, remaining: float) -> list[Action]:
        """Fire the latest due cue only: after a late tick, '1' beats a stale '3, 2'."""
        due = [c for c in self._cues if c.key not in self._fired and remaining <= c.remaining + EPS]
        self._fired.update(c.key for c in due)
        if not due or remaining <= EPS:
            return []  # the hold is over: a late count would only confuse
        return [min(due, key=lambda c: c.remaining).action]

    # --- walking the plan ------------------------------------------------------------------

    def _next_uid(self) -> int:
        self._uid += 1
        return self._uid

    def _speak(self, text: str, kind: SpeakKind = "ack", wait: bool = False) -> Speak:
        if wait:
            seconds = self.settings.speech_seconds(text)
            self._overdue_at = self.clock() + 2 * seconds + SPEECH_WATCHDOG_S
        text = phrases.addressed(text, self.settings.wake_word)
        return Speak(text, self._next_uid(), wait=wait, kind=kind)

    def _advance(self) -> list[Action]:
        assert self.plan is not None
        here = self.plan.segment_of(self.index)
        nxt = self.index + 1
        if here.kind == "exercise" and self._session and self._rep_ahead(nxt, here) is None:
            self._session.completed.add(here.index)  # its last rep is over: the rest may follow
        return self._enter(nxt)

    def _enter(self, index: int, remaining: float | None = None) -> list[Action]:
        """Start beat `index` (a timed one with `remaining` seconds if given)."""
        assert self.plan is not None
        out: list[Action] = []
        while index < len(self.plan.beats):
            beat = self.plan.beats[index]
            self.index = index
            if beat.kind == "ready":
                return out + self._start_ready()
            if not beat.timed:
                return out + self._start_say(beat)
            total = beat.seconds(self.pace)
            left = total if remaining is None else min(remaining, total)
            if left > EPS:
                return out + self._start_timed(beat, total, left, fresh=remaining is None)
            remaining = None
            index += 1
        return out + self._finish()

    def _start_say(self, beat: Beat) -> list[Action]:
        assert self.plan is not None
        out: list[Action] = [PlayCue(beat.cue)] if beat.cue else []
        speak = self._speak(self._words(beat), "instruction", wait=True)
        self._phase, self._awaiting, self._held = "say", speak.utterance_id, None
        out += [speak, *self._set_led(LedState.SPEAKING)]
        if self.index == self.plan.segment_of(self.index).start:
            out.append(self._save())
        return out

    def _words(self, beat: Beat) -> str:
        """What a spoken beat says. A segment entered on the way to a later rep (resume,
        repeat) opens counting that rep: rep 1's count would tell the person rep 1 begins."""
        assert self.plan is not None
        here = self.plan.segment_of(self.index)
        if self._jump is not None and self.index == here.start:
            whole, self._reorient = self._reorient, False
            return self.plan.opening(here.index, self.plan.beats[self._jump[0]].rep, whole)
        return fill_side(beat.text, beat.side)

    def _rep_ahead(self, index: int, here: Segment) -> int | None:
        """The hold or moving rep at or after beat `index` in its segment (None: past them)."""
        assert self.plan is not None
        reps = (i for i in range(index, here.end) if self.plan.beats[i].kind in ("hold", "move"))
        return next(reps, None)

    def _start_ready(self) -> list[Action]:
        """Wait, untimed, for ready, start or a short press: the props are being fetched."""
        self._phase, self._held = "ready", None
        self._remind_at = self.clock() + READY_REMINDER_S
        return [
            *self._set_led(LedState.READY),
            Log("waiting for the props: ready, start or a short press"),
        ]

    def _remind(self) -> list[Action]:
        beat = self.beat
        assert beat is not None
        self._remind_at = self.clock() + READY_REMINDER_S
        button = f" {phrases.READY_BUTTON}" if self.settings.has_button else ""
        return [self._speak(f"{beat.text}{button}", "info")]

    def _ask_for_props(self, before: str = "") -> Speak:
        """The intro's request again, while the coach waits: what to fetch, how to say ready."""
        assert self.plan is not None
        props = routine_props(self.library, self.plan.routine)
        button = [phrases.READY_BUTTON] if self.settings.has_button else []
        return self._speak(" ".join([before, props_request(props), *button]).strip(), "info")

    def _waiting_ready(self) -> bool:
        return self._mode == "running" and self._phase == "ready"

    def _props_being_asked(self) -> bool:
        """The intro asking for the props is being said, and the wait for them comes next."""
        nxt = self.index + 1
        return (
            self.plan is not None
            and self._mode == "running"
            and self._phase == "say"
            and nxt < len(self.plan.beats)
            and self.plan.beats[nxt].kind == "ready"
        )

    def _start_timed(self, beat: Beat, total: float, left: float, fresh: bool) -> list[Action]:
        now = self.clock()
        self._phase, self._held = "timed", None
        self._total, self._end = total, now + left
        self._time_cues(beat, left)
        out: list[Action] = []
        if beat.cue:
            out.append(PlayCue(beat.cue))
        if beat.kind == "move" and fresh:
            fits = self.settings.speech_seconds(beat.text) + MOVE_COUNT_SLACK_S <= total
            # A bare number may be left out under an answer; "Two. Cow." says what to do.
            kind: SpeakKind = "count" if beat.text == move_count_text(beat.rep, None) else "cue"
            out.append(self._speak(beat.text, kind) if fits else PlayCue("tick"))
        out += self._set_led(LedState.HOLDING, self._progress(left), force=True)
        out.append(Log(f"{beat.kind} {left:.1f} s: {self._where(beat)}", "debug"))
        if beat.kind in ("hold", "move", "rest"):
            out.append(self._save())
        return out

    def _time_cues(self, beat: Beat, left: float) -> None:
        """Place the beat's cues in a hold of `_total` seconds with `left` to go: those
        already passed are not said."""
        self._cues = self._cues_for(beat, self._total)
        self._fired = {c.key for c in self._cues if left <= c.remaining + EPS}

    def _cues_for(self, beat: Beat, total: float) -> list[_Cue]:
        if beat.kind != "hold":
            return []
        cues: list[_Cue] = []
        if total >= HALFWAY_MIN_S:
            cues.append(_Cue("half", total / 2, self._speak(phrases.HALFWAY, "cue")))
        for n in phrases.COUNTDOWN:
            if total >= SPOKEN_COUNTDOWN_MIN_S:
                cues.append(_Cue(f"count{n}", n, self._speak(phrases.countdown_text(n), "count")))
            elif total >= TICK_COUNTDOWN_MIN_S:
                cues.append(_Cue(f"count{n}", n, PlayCue("tick")))
        return cues

    def _where(self, beat: Beat) -> str:
        assert self.plan is not None
        if beat.step < 0:
            return self.plan.routine.name
        step = self.plan.routine.steps[beat.step]
        name = self.library.exercises[step.exercise_id].name
        side = f", {beat.side} side" if beat.side else ""
        rep = f", rep {beat.rep} of {beat.reps}" if beat.reps > 1 else ""
        return f"{name}{side}{rep}"

    def _progress(self, remaining: float) -> float:
        return 1.0 if self._total <= 0 else min(1.0, max(0.0, 1.0 - remaining / self._total))

    def _finish(self) -> list[Action]:
        out = self._end_session(finished=True)
        out.append(Log("routine finished"))
        return out

    def _end_session(self, finished: bool) -> list[Action]:
        out: list[Action] = []
        if self._session is not None and self._session.exercised:
            out.append(RecordSession(self._record(self._session, finished)))
        self._session = None
        self._mode, self._phase = "idle", "none"
        self._awaiting = self._jump = self._held = self.saved = None
        # "slower" in a routine was for that one (a restart forgot it anyway, so the next ran
        # at either pace); said while idle, it still sets the next routine's
        self.pace = clamp_pace(self.settings.pace)
        out.append(SaveProgress(None))
        return out + self._set_led(LedState.READY)

    def _steps_done(self, session: _Session) -> int:
        """The routine's steps whose every side and set is done (its last rep over)."""
        assert self.plan is not None
        by_step: dict[int, set[int]] = {}
        for seg in self.plan.exercise_segments():
            by_step.setdefault(seg.step, set()).add(seg.index)
        return sum(1 for segs in by_step.values() if segs <= session.completed)

    def _record(self, session: _Session, finished: bool) -> dict[str, Any]:
        # (only a session that reached a hold is recorded: _end_session)
        routine = session.routine
        return history_record(
            (routine.id, routine.name),
            (session.started_at, self.wall(), self._active_s(session)),
            (self._steps_done(session), len(routine.steps)),
            "finished" if finished else "stopped",
            resumed=session.resumed,
        )

    def snapshot(self) -> dict[str, Any] | None:
        """Where the person is, as plain JSON-able data (None when idle)."""
        if self.beat is None or self.plan is None or self._session is None:
            return None
        index, remaining = self.index, self.remaining_hold
        if self._jump is not None:  # on the way back to a place (resume, repeat): save that
            index, remaining = self._jump
        beat = self.plan.beats[index]
        return {
            "version": SNAPSHOT_VERSION,
            "routine": self.plan.routine.id,
            "step": beat.step,
            "exercise": self.plan.routine.steps[beat.step].exercise_id if beat.step >= 0 else None,
            "segment": beat.segment,
            "beat": index,
            "set": beat.set,
            "side": beat.side,
            "rep": beat.rep,
            "remaining": remaining if beat.timed else None,
            "pace": self.pace,
            "started_at": self._session.started_at,
            "active_s": self._active_s(self._session),
            "exercised": self._session.exercised,
            # for the history, should it never be resumed (interrupted_record)
            "steps_done": self._steps_done(self._session),
            "resumed": self._session.resumed,
            "saved_at": self.wall(),
        }

    def resumable(self) -> dict[str, Any] | None:
        """What the state file must hold when the service stops: the session in progress,
        else the saved one not yet resumed (stopping an idle service must not lose it)."""
        snap = self.snapshot()
        if snap is None and self.saved is not None:
            return dict(self.saved)
        return snap

    def _save(self) -> SaveProgress:
        snap = self.snapshot()
        self.saved = snap
        self._saved_clock = self.clock()
        return SaveProgress(snap)

    # --- LED -------------------------------------------------------------------------------

    def _led_for_state(self) -> SetLed:
        if self._mode == "idle":
            return SetLed(LedState.READY)
        if self._mode == "paused":
            return SetLed(LedState.PAUSED)
        if self._phase == "timed":
            return SetLed(LedState.HOLDING, self._progress(self._end - self.clock()))
        return SetLed(LedState.SPEAKING)

    def _set_led(
        self, state: LedState, progress: float | None = None, force: bool = False
    ) -> list[Action]:
        if state == self._led and not force:
            return []
        self._led = state
        self._led_at = self.clock()
        if "microphone" in self._devices_down:
            return []  # the error colour stays until the microphone is back
        return [SetLed(state, progress)]

    # --- commands --------------------------------------------------------------------------

    def _command(self, cmd: Command) -> list[Action]:
        """Run the command's handler; its log line comes last so StopSpeech can come first."""
        handler = getattr(self, f"_cmd_{cmd.name}")
        mode = self._mode
        out: list[Action] = list(handler(cmd))
        return [*out, Log(f"command {cmd.name} ({cmd.source}) in {mode}", "debug")]

    def _reply(self, text: str, kind: SpeakKind = "ack") -> list[Action]:
        return [self._speak(text, kind)]

    def _answer(self, text: str) -> list[Action]:
        """A reply to a question. During a hold or a moving set the clock waits for it, as
        for "Carrying on." after a break: a 24 s help list over cat-cow would otherwise
        leave its pose cues to come late and all at once, and a 2 s hold run to 7."""
        if self._mode != "running" or self._phase != "timed":
            return self._reply(text, "info")
        self._held = max(0.0, self._end - self.clock())
        return self._lead(text, "info")

    def _lead(self, text: str, kind: SpeakKind) -> list[Action]:
        """Say `text`, then go on with the timed beat from `_held` (phase "lead")."""
        lead = self._speak(text, kind, wait=True)
        self._phase, self._awaiting = "lead", lead.utterance_id
        return [lead, *self._set_led(LedState.SPEAKING)]

    def _routine_for(self, cmd: Command) -> Routine | None:
        query = cmd.args.get("routine", "").strip()
        if query:
            return self.library.routines.get(query) or find_routine(self.library, query)
        for rid in (self.last_routine, self.settings.default_routine, self.library.default_routine):
            if rid and rid in self.library.routines:
                return self.library.routines[rid]
        return next(iter(self.library.routines.values()), None)

    def _cmd_start(self, cmd: Command) -> list[Action]:
        if self._waiting_ready():
            other = self._routine_for(cmd) if cmd.args.get("routine") else None
            if other is None or self.plan is None or other.id == self.plan.routine.id:
                return self._advance()
            # Another routine named before this one began: nothing was done, so none is recorded.
            return [StopSpeech(), *self._begin(other, resumed=False), *self._enter(0)]
        if self._props_being_asked() and not cmd.args.get("routine"):
            return self._cmd_ready(cmd)  # a bare "start" is one of the words the wait takes
        if self._mode == "running":
            return self._reply(phrases.ALREADY_RUNNING)
        if self._mode == "paused":
            return self._reply(phrases.PAUSED_START)
        if cmd.source == "button" and not cmd.args and self.resumable_routine() is not None:
            return self._resume_saved()  # the one press there is: it must not lose the place
        routine = self._routine_for(cmd)
        if routine is None:
            listing = phrases.list_text(self.library)
            return self._reply(f"{phrases.UNKNOWN_ROUTINE} {listing}", "info")
        # A session "resume" would still pick up is not dropped in silence: it goes into the
        # history, and the person hears so (the button would have resumed it).
        replaced = self.resumable_routine() is not None
        closed = self._close_saved()
        out: list[Action] = [StopSpeech(), *closed]
        out += self._reply(phrases.STARTING_OVER) if replaced and closed else []
        return out + self._begin(routine, resumed=False) + self._enter(0)

    def _close_saved(self) -> list[Action]:
        """An interrupted session that a new one replaces goes into the history as stopped
        where it was saved, instead of vanishing with the state file it is replaced in."""
        saved, self.saved = self.saved, None
        return self._record_interrupted(saved) if saved else []

    def _record_interrupted(self, saved: Mapping[str, Any]) -> list[Action]:
        record = interrupted_record(saved, self.library)
        return [RecordSession(record)] if record else []

    def _begin(
        self,
        routine: Routine,
        resumed: bool,
        pace: float | None = None,
        started_at: float | None = None,
        active_s: float = 0.0,
    ) -> list[Action]:
        if pace is not None:
            self.pace = clamp_pace(pace)
        self.plan = build_plan(self.library, routine, self.pace, self.settings.speech_seconds)
        self._mode, self.last_routine, self._jump = "running", routine.id, None
        began = self.wall() if started_at is None else started_at
        # a resumed session was saved mid-exercise (or its intro: a small overcount)
        self._session = _Session(routine, began, resumed, active_s=active_s, exercised=resumed)
        return [Log(f"{'resuming' if resumed else 'starting'} routine {routine.id}")]

    def _cmd_stop(self, cmd: Command) -> list[Action]:
        if self._mode == "idle":
            return [StopSpeech(), *self._reply(phrases.IDLE_STOP)]
        out: list[Action] = [StopSpeech(), *self._reply(self._out_of_hold(phrases.ACKS["stop"]))]
        return out + self._end_session(finished=False) + [Log("routine stopped")]

    def _cmd_pause(self, cmd: Command) -> list[Action]:
        if self._waiting_ready() and cmd.source == "button":
            return self._advance()  # the short press that means "ready"
        if self._props_being_asked() and cmd.source == "button":
            return self._cmd_ready(cmd)  # pressed as the request ends "Or press the button once."
        if self._mode == "idle":
            return self._reply(phrases.NOTHING_RUNNING)
        if self._mode == "paused":
            return self._reply(phrases.ALREADY_ON_BREAK)
        if self._phase == "timed":
            self._held = max(0.0, self._end - self.clock())
        elif self._phase == "say":
            self._held = None
        self._mode, self._awaiting = "paused", None  # a pending jump survives the break
        out: list[Action] = [StopSpeech(), *self._set_led(LedState.PAUSED)]
        return out + self._reply(phrases.ACKS["pause"]) + [self._save()]

    def _cmd_resume(self, cmd: Command) -> list[Action]:
        if self._waiting_ready():
            return self._advance()
        if self._props_being_asked():
            return self._cmd_ready(cmd)  # "continue" is one of the words the wait takes
        if self._mode == "running":
            return self._reply(phrases.ALREADY_GOING)
        if self._mode == "idle":
            return self._resume_saved()
        self._mode = "running"
        beat = self.beat
        if beat is not None and beat.kind == "ready":
            # "Carrying on." and silence would hide that it still waits for "ready".
            return [*self._enter(self.index), self._ask_for_props()]
        if beat is None or not beat.timed or self._held is None:
            return self._reply(phrases.ACKS["resume"]) + self._enter(self.index)
        exercise = self._exercise()
        if beat.kind != "hold" or exercise is None:
            return self._lead(phrases.ACKS["resume"], "ack")
        named = side_text(beat.side, exercise) if beat.side and exercise.side_cue else ""
        return self._lead(phrases.resume_hold_text(exercise.kind, named), "ack")

    def _cmd_next(self, cmd: Command) -> list[Action]:
        if self._mode == "idle" or self.plan is None:
            return self._reply(phrases.NOTHING_RUNNING)
        here = self.plan.segment_of(self.index)
        if here.kind == "outro":
            return self._at_the_end()
        wait = self._props_wait_ahead(here)
        if wait is not None:
            # Past the intro's talk, not its list of props: the first exercise may need them.
            self._mode, self._awaiting, self._jump, self._held = "running", None, None, None
            ask = self._ask_for_props(phrases.ACKS["next"])
            return [StopSpeech(), *self._enter(wait), ask]
        target = self.plan.segments[min(here.index + 1, len(self.plan.segments) - 1)]
        start = target.start if target.index != here.index else len(self.plan.beats)
        return self._jump_to(self._out_of_hold(phrases.ACKS["next"]), start)

    def _props_wait_ahead(self, here: Segment) -> int | None:
        """The intro's wait for the props, while the words that ask for them are still to
        come or being said (or paused); None once it is reached or where there is none."""
        assert self.plan is not None
        if here.kind != "intro":
            return None
        ahead = range(self.index + 1, here.end)
        return next((i for i in ahead if self.plan.beats[i].kind == "ready"), None)

    def _out_of_hold(self, ack: str) -> str:
        """`ack`, after "Release." when a hold is cut short: the person is told to come out
        of it, as at its end."""
        beat = self.beat
        holding = self._mode == "running" and self._phase == "timed"
        return f"{RELEASE} {ack}" if holding and beat is not None and beat.kind == "hold" else ack

    def _cmd_back(self, cmd: Command) -> list[Action]:
        if self._mode == "idle" or self.plan is None:
            return self._reply(phrases.NOTHING_RUNNING)
        beat = self.plan.beats[self.index]
        here = self.plan.segment_of(self.index)
        if here.kind == "intro":
            return self._at_the_start()
        exercises = self.plan.exercise_segments()
        in_tail = here.kind == "exercise" and beat.rep == 0
        earlier = [s for s in exercises if s.index < here.index]
        if in_tail or not earlier:
            same = here if here.kind == "exercise" or not exercises else exercises[0]
            return self._jump_to(phrases.ACKS["back_same"], same.start)
        # Into another exercise: from its first side or set, which names it and says how to
        # get into position (its last side's words alone assume the person is there).
        target = earlier[-1]
        if target.step != here.step:
            target = next(s for s in exercises if s.step == target.step)
        return self._jump_to(phrases.ACKS["back"], target.start)

    def _at_the_start(self) -> list[Action]:
        """'Back' in the intro: nothing comes before it, so the intro goes on (after a break,
        from its start) and the wait for the props goes on, asking for them again."""
        assert self.plan is not None
        if self._mode == "running" and self._phase == "say":
            return self._reply(phrases.NOTHING_BEFORE)  # cutting the intro would only lose it
        if self.plan.beats[self.index].kind != "ready":
            return self._jump_to(phrases.NOTHING_BEFORE, self.index)
        self._mode, self._awaiting, self._held = "running", None, None
        return [StopSpeech(), *self._enter(self.index), self._ask_for_props(phrases.NOTHING_BEFORE)]

    def _at_the_end(self) -> list[Action]:
        """'Next' during the closing words: nothing comes after them, so they are said to
        the end (after a break, again), not cut off with "Skipping ahead."."""
        if self._mode == "running":
            return self._reply(phrases.NOTHING_AFTER)
        return self._jump_to(phrases.NOTHING_AFTER, self.index)

    def _cmd_repeat(self, cmd: Command) -> list[Action]:
        if self._mode == "idle" or self.plan is None:
            return self._reply(phrases.NOTHING_RUNNING)
        index, beat = self.index, self.plan.beats[self.index]
        here = self.plan.segment_of(index)
        ack = phrases.ACKS["repeat"]
        exercise = self._exercise()
        cautions = spoken_cautions(exercise) if exercise else []
        if cautions and " ".join(cautions) not in self.plan.beats[here.start].text:
            ack = " ".join([ack, *cautions])  # said again even where the segment does not
        said = max(i for i in range(here.start, index + 1) if self.plan.beats[i].kind == "say")
        moving = exercise is not None and exercise.reposition and beat.kind in ("say", "gap")
        if moving and self.plan.beats[said].cue == "hold_end" and said > here.start:
            # Between two positions (a towel roll's): how to move to the next one, again.
            return self._jump_to("", said)
        if here.kind == "exercise" and self._rep_ahead(index, here) is None:
            # In the rest or words after the last rep: say them again, not redo the set.
            return self._jump_to("", said)  # not "Once more.": nothing is done again
        then = None
        if beat.rep > 1 and index > here.start:  # this rep again, whole, after the instructions
            ahead = (i for i in range(here.start, here.end) if self.plan.beats[i].rep == beat.rep)
            rep = self._rep_ahead(next(ahead), here)
            then = None if rep is None else (rep, None)
        return self._jump_to(ack, here.start, then)

    def _jump_to(
        self, ack: str, index: int, then: tuple[int, float | None] | None = None
    ) -> list[Action]:
        """Cut what is said, answer, and enter beat `index` (on the way to `then`, if given)."""
        self._mode, self._awaiting, self._jump, self._held = "running", None, then, None
        return [StopSpeech(), *(self._reply(ack) if ack else []), *self._enter(index)]

    def _cmd_time_left(self, cmd: Command) -> list[Action]:
        if self._mode == "idle" or self.plan is None:
            return self._reply(phrases.NOTHING_RUNNING)
        beat = self.plan.beats[self.index]
        here = self.remaining_hold
        speech = self.settings.speech_seconds
        after = self.plan.seconds_from(self.index + 1, self.pace, speech)
        current = here if here is not None else self.plan.beat_seconds(beat, self.pace, speech)
        what = WHAT_TIMED.get(beat.kind) if here is not None else None
        if beat.kind == "move" and beat.reps <= 1:
            what = "exercise"  # a single movement is the whole exercise
        exercise = self._exercise_left(current) if what != "exercise" else None
        text = phrases.time_left_text(what, here, current + after, exercise)
        if self._mode == "paused":
            text = f"{phrases.PAUSED} {text}"  # else the time seems to be running out
        return self._answer(text)

    def _exercise_left(self, current: float) -> float | None:
        """Seconds left in the current exercise (its remaining reps, sides, sets, holds and
        rests), or None outside one or when no timed beat of it follows the current one (then
        the current beat's time is the exercise's, and saying both would only repeat it)."""
        assert self.plan is not None
        step = self.plan.beats[self.index].step
        if step < 0:
            return None
        end = self.index + 1
        while end < len(self.plan.beats) and self.plan.beats[end].step == step:
            end += 1
        later = self.plan.beats[self.index + 1 : end]
        if not any(b.timed for b in later):
            return None
        speech = self.settings.speech_seconds
        return current + sum(self.plan.beat_seconds(b, self.pace, speech) for b in later)

    def _cmd_help(self, cmd: Command) -> list[Action]:
        return self._answer(phrases.HELP)

    def _cmd_list(self, cmd: Command) -> list[Action]:
        return self._answer(phrases.list_text(self.library))

    def _cmd_slower(self, cmd: Command) -> list[Action]:
        return self._change_pace(+phrases.PACE_STEP, "slower", "slowest")

    def _cmd_faster(self, cmd: Command) -> list[Action]:
        return self._change_pace(-phrases.PACE_STEP, "faster", "fastest")

    def _change_pace(self, delta: float, ack: str, limit: str) -> list[Action]:
        new = clamp_pace(self.pace + delta)
        if abs(new - self.pace) < EPS:
            return self._reply(phrases.ACKS[limit])
        if ack == "faster" and self._holds_fixed(new):
            ack = "faster_rests"  # "shorter holds" would not be true of this exercise's
        beat, old, self.pace = self.beat, self.pace, new
        scale = 1.0  # of the beat's time left: as its whole time changes, floor included
        if beat is not None and beat.timed and beat.seconds(old) > 0:
            scale = beat.seconds(new) / beat.seconds(old)
        if self._mode == "running" and self._phase == "timed" and beat is not None:
            now = self.clock()
            self._total *= scale
            self._end = now + (self._end - now) * scale
            self._time_cues(beat, self._end - now)  # "Halfway there." at the new half
        elif self._held is not None:
            self._held *= scale
        return [*self._reply(phrases.ACKS[ack]), Log(f"pace {self.pace:.2f}")]

    def _holds_fixed(self, pace: float) -> bool:
        """The exercise being done is held (or its poses are called), and at `pace` its
        holds are no shorter: they are at the least its page gives."""
        beat = self.beat
        if self.plan is None or beat is None or beat.step < 0:
            return False
        timed = ("hold", "move")
        holds = [b for b in self.plan.beats if b.step == beat.step and b.kind in timed]
        return bool(holds) and all(b.seconds(pace) >= b.seconds(self.pace) - EPS for b in holds)

    def _exercise(self) -> Exercise | None:
        """The exercise being done now (None when idle, in the intro or the closing words)."""
        beat = self.beat
        if beat is None or beat.step < 0 or self.plan is None:
            return None
        return self.library.exercises[self.plan.routine.steps[beat.step].exercise_id]

    def _cmd_ready(self, cmd: Command) -> list[Action]:
        if self._waiting_ready():
            return self._advance()
        if self._props_being_asked():
            # Ready before the wait: the intro is said to its end (the safety line in it),
            # then what follows the wait begins at once.
            after_wait = self.index + 2
            self._jump = (after_wait, None)
            return [Log("ready while the props were being asked for: no wait")]
        if self._mode == "idle":
            return self._reply(phrases.NOTHING_RUNNING)
        if self._mode == "paused":
            return self._reply(phrases.ON_BREAK)
        return self._reply(phrases.UNDER_WAY)

    def _cmd_easier(self, cmd: Command) -> list[Action]:
        exercise = self._exercise()
        if exercise is None:
            return self._reply(phrases.NOT_IN_EXERCISE if self.plan else phrases.NOTHING_RUNNING)
        side = self.beat.side if self.beat else None
        if exercise.easier:
            return self._answer(fill_side(exercise.easier, side))
        no_easier = self._reply(phrases.NO_EASIER, "info")
        if self._holds_fixed(clamp_pace(self.pace - phrases.PACE_STEP)):
            return [*no_easier, *self._reply(phrases.NO_SHORTER, "info")]
        # No easier version: shorter holds, as "faster" gives them (not below the page's).
        return [*no_easier, *self._change_pace(-phrases.PACE_STEP, "faster", "fastest")]

    def _cmd_harder(self, cmd: Command) -> list[Action]:
        exercise = self._exercise()
        if exercise is None:
            return self._reply(phrases.NOT_IN_EXERCISE if self.plan else phrases.NOTHING_RUNNING)
        side = self.beat.side if self.beat else None
        text = fill_side(exercise.harder, side) if exercise.harder else phrases.NO_HARDER
        return self._answer(text)

    def _cmd_props(self, cmd: Command) -> list[Action]:
        running = self.plan is not None and self._mode != "idle"
        routine = self.plan.routine if self.plan and running else self._routine_for(cmd)
        if routine is None:
            return self._reply(phrases.NO_ROUTINES)
        props = routine_props(self.library, routine)
        return self._answer(phrases.needs_text(routine, props))

    def _cmd_louder(self, cmd: Command) -> list[Action]:
        return self._change_volume(self.settings.volume_step, "louder", "loudest")

    def _cmd_quieter(self, cmd: Command) -> list[Action]:
        return self._change_volume(-self.settings.volume_step, "quieter", "quietest")

    def _change_volume(self, step: float, done: str, at_limit: str) -> list[Action]:
        """Within MIN_VOLUME..1: "quieter" must never mute the coach, whose every reply
        would then be unheard, "Volume down." among them."""
        level = min(1.0, max(MIN_VOLUME, self.volume + step))
        if abs(level - self.volume) < EPS:
            return self._reply(phrases.ACKS[at_limit])
        delta, self.volume = level - self.volume, level
        return [SetVolume(round(delta, 6)), *self._reply(phrases.ACKS[done])]

    # --- resume after a restart ------------------------------------------------------------

    def resumable_routine(self) -> Routine | None:
        """The routine 'resume' would pick up now: a saved session that fits the library and
        is within the resume window, while nothing runs; else None."""
        if self._mode != "idle" or not self.saved:
            return None
        place = self._locate_saved(self.saved)
        if isinstance(place, str):
            return None
        routine, saved_at = place[0], place[-1]
        if self.wall() - saved_at > self.settings.resume_window_hours * 3600:
            return None
        return routine

    def _locate_saved(self, saved: Mapping[str, Any]) -> _Place | str:
        """_locate(saved), kept while the same mapping is saved and the pace is the same."""
        kept = self._located
        if kept is None or kept[0] is not saved or kept[1] != self.pace:
            kept = self._located = (saved, self.pace, self._locate(saved))
        return kept[2]

    def unfit_saved(self) -> str | None:
        """Why the saved session does not fit the library, as 'resume' would log it when it
        sets the file aside; None when it fits (or nothing is saved)."""
        place = self._locate_saved(self.saved) if self.saved else None
        return _unfit(place) if isinstance(place, str) else None

    def _resume_saved(self) -> list[Action]:
        saved, self.saved = self.saved, None
        if not saved:
            return self._reply(phrases.NOTHING_TO_CONTINUE)
        place = self._locate(saved)
        if isinstance(place, str):
            why = _unfit(place)
            out: list[Action] = [SaveProgress(None, set_aside=why)]
            return [*out, *self._reply(phrases.UNUSABLE_SESSION), Log(why, "warning")]
        routine, pace, target, remaining, started_at, active_s, saved_at = place
        if self.wall() - saved_at > self.settings.resume_window_hours * 3600:
            return [
                *self._record_interrupted(saved),
                SaveProgress(None),
                *self._reply(phrases.TOO_OLD),
                Log("saved session too old"),
            ]
        out = [StopSpeech(), *self._begin(routine, True, pace, started_at, active_s)]
        out += self._reply(phrases.welcome_back(routine))
        self._count_done_before(target)
        self._reorient = True  # after a night away, which exercise and how to get into it
        return out + self._go_back_to(target, remaining)

    def _count_done_before(self, target: int) -> None:
        """A resumed session's exercises before the saved place count as done, as they do
        in the record of one never resumed (interrupted_record)."""
        assert self.plan is not None and self._session is not None
        for seg in self.plan.exercise_segments():
            if seg.end <= target:
                self._session.completed.add(seg.index)

    def _go_back_to(self, target: int, remaining: float | None) -> list[Action]:
        """Enter a saved place through words that lead into it: a rep (or the gap or words
        before it) through the exercise's instructions, counting that rep, as the person must
        get back into position; a rest or gap after the holds through the words that began
        it ("Rest. Next: ..."), not the finished exercise's setup; the intro from its start.
        The jump is set before _enter, so the save it makes is the saved place."""
        assert self.plan is not None
        here = self.plan.segment_of(target)
        rep = self._rep_ahead(target, here) if here.kind == "exercise" else None
        if rep is not None:
            hold = rep == target and self.plan.beats[rep].kind == "hold"
            self._jump = (rep, remaining if hold else None)  # a moving rep again, counted
            return self._enter(here.start)
        said = max(i for i in range(here.start, target + 1) if self.plan.beats[i].kind == "say")
        if said != target:
            self._jump = (target, remaining)
        return self._enter(said)

    def _locate(self, saved: Mapping[str, Any]) -> _Place | str:
        """The saved routine, pace, beat, remaining hold, start time, active seconds and save
        time; else why not."""
        try:
            saved_at = _number(saved, "saved_at", None)
            if saved_at is None:  # not "too old": a damaged file is kept, never deleted
                return "it has no 'saved_at' (when it was saved)"
            rid = str(saved["routine"])
            if rid not in self.library.routines:
                return (
                    f"routine '{rid}' is not in the library (if it is your own, its file may "
                    "have been skipped: run `stretch-coach check`)"
                )
            routine = self.library.routines[rid]
            pace = _number(saved, "pace", self.pace)
            assert pace is not None
            started_at = _number(saved, "started_at", None)
            active_s = max(0.0, _number(saved, "active_s", 0.0) or 0.0)  # older files: none
            plan = build_plan(self.library, routine, clamp_pace(pace), self.settings.speech_seconds)
            index = saved["beat"]
            if isinstance(index, bool) or not isinstance(index, int):
                return f"'beat' is {index!r}, not a whole number"
            if not 0 <= index < len(plan.beats):
                return f"beat {index} is not in routine '{rid}' ({len(plan.beats)} beats)"
            beat = plan.beats[index]
            have = (beat.step, beat.side, beat.rep)
            want = (saved["step"], saved["side"], saved["rep"])
            moved = _relocate(plan, saved) if have != want else None
            if moved is not None:
                index, beat = moved, plan.beats[moved]
            elif have != want:
                return (
                    f"beat {index} of routine '{rid}' is step {have[0]}, side {have[1]}, "
                    f"rep {have[2]}; the session saved step {want[0]!r}, side {want[1]!r}, "
                    f"rep {want[2]!r} (the routine changed)"
                )
            remaining = _number(saved, "remaining", None)
        except KeyError as err:
            return f"it has no {err}"
        except ValueError as err:
            return str(err)
        held = remaining if beat.timed else None
        return routine, pace, index, held, started_at, active_s, saved_at

    # --- devices ---------------------------------------------------------------------------

    def _device(self, event: DeviceProblem) -> list[Action]:
        known_down = event.device in self._devices_down
        level: Literal["info", "warning"] = "info" if event.ok else "warning"
        out: list[Action] = [
            Log(f"{event.device} {'ok' if event.ok else 'lost'} {event.detail}", level)
        ]
        if event.ok == (not known_down):
            return out  # no change
        if not event.ok:
            self._devices_down.add(event.device)
            if event.device == "microphone":
                text = phrases.MIC_DOWN if self.settings.has_button else phrases.MIC_DOWN_NO_BUTTON
                return [*out, SetLed(LedState.ERROR), *self._reply(text, "info")]
            return out  # no speaker: the LED keeps coaching, speech timing is modelled
        self._devices_down.discard(event.device)
        text = phrases.MIC_UP if event.device == "microphone" else phrases.SPEAKER_UP
        led = self._led_for_state()
        self._led, self._led_at = led.state, self.clock()
        return [*out, led, *self._reply(text, "info")]


def _relocate(plan: Plan, saved: Mapping[str, Any]) -> int | None:
    """Where a session saved before the plan's beats changed (new cautions, gaps or a props
    wait) is now: the same exercise, set, side and rep, if the routine still has that
    exercise at that step. Saves without the exercise id are not guessed at."""
    step, exercise = saved.get("step"), saved.get("exercise")
    if not isinstance(step, int) or not 0 <= step < len(plan.routine.steps):
        return None
    if exercise is None or plan.routine.steps[step].exercise_id != exercise:
        return None
    place = (step, saved.get("set", 1), saved.get("side"), saved.get("rep"))
    timed = saved.get("remaining") is not None
    for i, beat in enumerate(plan.beats):
        kind_fits = beat.kind in ("hold", "move") if timed else beat.kind == "say"
        if (beat.step, beat.set, beat.side, beat.rep) == place and kind_fits:
            return i
    return None


def _unfit(why: str) -> str:
    return f"saved session does not fit the library: {why}"


def history_record(
    routine: tuple[str, str],
    times: tuple[float, float, float | None],
    steps: tuple[int, int | None],
    outcome: str,
    resumed: bool,
) -> dict[str, Any]:
    """One line of the history: the routine's (id, name), (started_at, ended_at, active_s:
    None when an older file did not keep it), (steps_done, steps_total: None when the
    routine is gone) and how it ended ("finished", "stopped", "interrupted")."""
    (rid, name), (started_at, ended_at, active_s), (done, total) = routine, times, steps
    record: dict[str, Any] = {
        "routine": rid,
        "name": name,
        "started_at": started_at,
        "ended_at": ended_at,
        "steps_done": done,
        "steps_total": total,
        "finished": outcome == "finished",
        "outcome": outcome,
        "resumed": resumed,
    }
    if active_s is not None:
        record["active_s"] = active_s
    return record


def interrupted_record(saved: Mapping[str, Any], library: Library) -> dict[str, Any] | None:
    """The history record of a saved session that was never resumed: stopped at its save
    time, the exercises before the saved one done. None when the file cannot say when."""
    try:
        saved_at = _number(saved, "saved_at", None)
        started_at = _number(saved, "started_at", saved_at)
        active_s = _number(saved, "active_s", None)
    except ValueError:
        return None
    if saved_at is None or started_at is None or saved.get("exercised") is False:
        return None  # no time to record it at, or nothing was done (older files: done)
    rid = str(saved.get("routine", "?"))
    routine = library.routines.get(rid)
    # What the player counted when it saved; older files: the steps before the saved one.
    done = count(saved, "steps_done")
    if done is None or done < 0:
        done = max(0, count(saved, "step") or 0)  # the intro's step is -1
    total = len(routine.steps) if routine else None
    return history_record(
        (rid, routine.name if routine else rid),
        (started_at, saved_at, active_s),
        (min(done, total) if total is not None else done, total),
        "interrupted",
        resumed=saved.get("resumed") is True,
    )


def _number(saved: Mapping[str, Any], key: str, default: float | None) -> float | None:
    """A saved number (or null, for the default); ValueError naming the key otherwise."""
    value = saved.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'{key}' is {value!r}, not a number")
    return float(value)
