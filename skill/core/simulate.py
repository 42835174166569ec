"""Run the player on a virtual clock: a scripted session, its timeline, instantly.

Speech is modelled as one playback queue (each utterance takes `speech_seconds(text)`,
StopSpeech cuts everything queued), ticks arrive every `tick` seconds, and the clock also
jumps to the player's own deadlines so holds end exactly on time. Tests, `show
--simulate` and the benchmarks all use this one loop.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from skill.core.events import (
    COMMANDS,
    Action,
    Command,
    Event,
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
from skill.core.exercise import Library
from skill.core.plan import SpeechTimer, estimate_speech_seconds
from skill.core.player import Player, PlayerSettings
from skill.core.ticker import TICK_S
from skill.errors import ScriptError

MAX_EVENTS = 2_000_000  # a runaway loop is a bug; fail loudly rather than hang a test


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened at virtual time `t`: an event in, or an action out."""

    t: float
    kind: str  # command, speech_done, say, cue, stop_speech, volume, led, save, record, log
    text: str
    item: Action | Event
    end: float | None = None  # when a Speak finishes playing


def _describe(item: Action | Event) -> tuple[str, str]:
    match item:
        case Command(name=name, args=args):
            return "command", " ".join([name, *args.values()])
        case SpeechDone(utterance_id=uid):
            return "speech_done", str(uid)
        case Speak(text=text, kind=kind):
            return "say", f"[{kind}] {text}"
        case PlayCue(name=name):
            return "cue", name
        case StopSpeech():
            return "stop_speech", ""
        case SetVolume(delta=delta):
            return "volume", f"{delta:+.2f}"
        case SetLed(state=state, progress=progress):
            return "led", state.value if progress is None else f"{state.value} {progress:.2f}"
        case SaveProgress(snapshot=snap, set_aside=why):
            if why:
                return "save", f"set aside: {why}"
            return "save", "cleared" if snap is None else f"beat {snap.get('beat')}"
        case RecordSession(record=record):
            return "record", str(dict(record))
        case Log(message=message, level=level):
            return "log", f"{level}: {message}"
    return "other", repr(item)


@dataclass
class Simulation:
    """A player plus a virtual clock and a modelled speech queue; drive it step by step."""

    library: Library
    settings: PlayerSettings = field(default_factory=PlayerSettings)
    speech_seconds: SpeechTimer = estimate_speech_seconds
    tick: float | None = TICK_S
    saved: dict[str, object] | None = None
    wall_start: float = 1_700_000_000.0
    # When the coach waits for the props, the person says "ready" this many seconds later
    # (None: never, to see the reminders).
    ready_after_s: float | None = 0.0

    def __post_init__(self) -> None:
        self.now = 0.0
        self.player = Player(
            self.library,
            clock=lambda: self.now,
            settings=self.settings,
            saved=self.saved,
            wall=lambda: self.wall_start + self.now,
        )
        self.timeline: list[TimelineEntry] = []
        self.actions: list[Action] = []
        self._busy_until = 0.0
        self._playing: list[tuple[float, int]] = []  # (end, utterance id), in playback order
        self._cut: list[int] = []
        self._next_tick = self.tick or 0.0
        self._events = 0
        self._ready_at: float | None = None

    # --- one event ---------------------------------------------------------------------

    def send(self, event: Event) -> list[Action]:
        """Deliver one event now; carry out the actions on the modelled speech queue."""
        self._events += 1
        if self._events > MAX_EVENTS:
            raise RuntimeError(f"simulation ran away at t={self.now:.1f} s")
        if not isinstance(event, Tick):
            self._note(event)
        actions = self.player.handle(event)
        for action in actions:
            self._apply(action)
        cut, self._cut = self._cut, []
        for uid in cut:
            self.send(SpeechDone(uid))  # the shell reports cut-off speech as done, too
        self._expect_ready()
        return actions

    def _expect_ready(self) -> None:
        waiting = self.player.mode == "running" and self.player.phase == "ready"
        if not waiting:
            self._ready_at = None
        elif self._ready_at is None and self.ready_after_s is not None:
            self._ready_at = self.now + self.ready_after_s

    def _note(self, item: Action | Event, end: float | None = None) -> None:
        kind, text = _describe(item)
        self.timeline.append(TimelineEntry(self.now, kind, text, item, end))

    def _apply(self, action: Action) -> None:
        self.actions.append(action)
        end = None
        if isinstance(action, Speak):
            end = max(self.now, self._busy_until) + self.speech_seconds(action.text)
            self._busy_until = end
            self._playing.append((end, action.utterance_id))
        elif isinstance(action, StopSpeech):
            self._cut += [uid for _, uid in self._playing]
            self._playing, self._busy_until = [], self.now
        self._note(action, end)

    # --- running the clock -------------------------------------------------------------

    def _next_time(self, script: Sequence[tuple[float, Command]], pos: int) -> float | None:
        times = [self._playing[0][0]] if self._playing else []
        deadline = self.player.next_deadline()
        if deadline is not None:
            times.append(max(deadline, self.now))
        if pos < len(script):
            times.append(max(script[pos][0], self.now))
        if self._ready_at is not None:
            times.append(max(self._ready_at, self.now))
        if self.tick and self.player.mode == "running":
            times.append(max(self._next_tick, self.now))
        return min(times) if times else None

    def run(self, script: Sequence[tuple[float, Command]] = (), until: float = 6 * 3600) -> None:
        """Play `script` (sorted by time) and let the session run until it ends or `until`."""
        pos = 0
        while True:
            t = self._next_time(script, pos)
            idle_done = self.player.mode != "running" and pos >= len(script) and not self._playing
            if t is None or t > until or idle_done:
                return
            self.now = t
            if self._playing and self._playing[0][0] <= t:
                _, uid = self._playing.pop(0)
                self.send(SpeechDone(uid))
            elif pos < len(script) and script[pos][0] <= t:
                self.send(script[pos][1])
                pos += 1
            elif self._ready_at is not None and self._ready_at <= t:
                self._ready_at = None
                self.send(Command("ready", source="cli"))
            elif (deadline := self.player.next_deadline()) is not None and deadline <= t:
                self.send(Tick())
            else:
                self.send(Tick())
                self._next_tick = t + (self.tick or 0.0)

    def advance_to(self, t: float) -> None:
        """Let virtual time run to `t` (events and ticks included), even when nothing is due."""
        self.run(until=t)
        self.now = max(self.now, t)

    def spoken(self) -> list[str]:
        return [a.text for a in self.actions if isinstance(a, Speak)]


def simulate(
    library: Library,
    routine_id: str,
    script: Sequence[tuple[float, Command]] = (),
    tick: float | None = TICK_S,
    speech_seconds: SpeechTimer = estimate_speech_seconds,
    settings: PlayerSettings | None = None,
) -> list[TimelineEntry]:
    """Start `routine_id` at t=0, apply the timed commands, return everything that happened."""
    sim = Simulation(library, settings or PlayerSettings(), speech_seconds, tick)
    start = (0.0, Command("start", {"routine": routine_id}, source="cli"))
    sim.run([start, *sorted(script, key=lambda item: item[0])])
    return sim.timeline


# --- scripts: "t=30 pause; t=45 resume; t=60 next" ------------------------------------------

_ITEM = re.compile(r"^t\s*=\s*(?P<time>[0-9:.]+)\s+(?P<rest>.+)$", re.IGNORECASE)
# A second "t=" inside an item: two entries run together, a ';' left out between them.
_NEXT_ITEM = re.compile(r"\st\s*=\s*[0-9]", re.IGNORECASE)


def _check_one_entry(item: str) -> None:
    """Name the entry after a missing ';', rather than read it as a routine name or fail
    on it as an argument."""
    found = _NEXT_ITEM.search(item)
    if found is None:
        return
    first, rest = item[: found.start()].strip(), item[found.start() :].strip()
    raise ScriptError(
        f"{item!r}: cannot read {rest!r} as part of {first!r}; separate entries with ';', "
        f"e.g. '{first}; {rest}'"
    )


def _parse_time(text: str, item: str) -> float:
    try:
        if ":" in text:
            minutes, seconds = text.split(":")
            value = int(minutes) * 60 + float(seconds)
        else:
            value = float(text)
    except ValueError:
        raise ScriptError(f"{item!r}: time {text!r} is not seconds (30) or m:ss (1:30)") from None
    return value


def _parse_command(words: str, item: str) -> Command:
    from skill.core.intents import FIXED_PHRASES, normalize

    tokens = words.strip().lower().replace("-", " ").split()
    name, args = tokens[0], tokens[1:]
    if name == "time" and args[:1] == ["left"]:
        name, args = "time_left", args[1:]
    phrase = normalize(words)
    if phrase in FIXED_PHRASES and name not in COMMANDS:  # as said: "what do i need"
        name, args = FIXED_PHRASES[phrase], []
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        known = ", ".join(COMMANDS)
        raise ScriptError(f"{item!r}: unknown command {name!r}.{hint} Known: {known}")
    if args and name != "start":
        raise ScriptError(f"{item!r}: only start takes a routine name, not {' '.join(args)!r}")
    routine = {"routine": " ".join(args)} if args else {}
    return Command(name, routine, source="cli")


def parse_script(text: str) -> list[tuple[float, Command]]:
    """Items separated by ';' or new lines, each 't=SECONDS COMMAND [routine]', sorted by time."""
    items: list[tuple[float, Command]] = []
    for raw in re.split(r"[;\n]", text):
        item = raw.strip()
        if not item:
            continue
        match = _ITEM.match(item)
        if not match:
            raise ScriptError(f"{item!r}: expected 't=SECONDS COMMAND', e.g. 't=30 pause'")
        _check_one_entry(item)
        items.append((_parse_time(match["time"], item), _parse_command(match["rest"], item)))
    return sorted(items, key=lambda pair: pair[0])


def bench_simulate(library: Library, routine_id: str, repeats: int = 3) -> dict[str, float]:
    """Seconds of wall time to simulate a routine with 0.1 s ticks (best of `repeats`)."""
    best = float("inf")
    virtual = 0.0
    for _ in range(repeats):
        began = time.perf_counter()
        timeline = simulate(library, routine_id)
        best = min(best, time.perf_counter() - began)
        virtual = timeline[-1].t if timeline else 0.0
    return {"virtual_s": virtual, "wall_s": best, "speedup": virtual / best if best else 0.0}
