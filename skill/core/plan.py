"""A routine flattened into beats: what is said, then how long to hold, rest or wait.

The player walks this list, `show` prints it and routine totals are summed from it, so
the time a routine announces is exactly the time the player takes (given the speech
time model). Timed beats keep their unscaled seconds; the pace is applied when played
(Beat.seconds: a hold never below the page's shortest).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from skill.core.exercise import Change, Dosage, Exercise, Kind, Library, Position, Routine

BeatKind = Literal["say", "hold", "move", "rest", "gap", "ready"]
SegmentKind = Literal["intro", "exercise", "outro"]
CueName = Literal["hold_start", "hold_end", "switch_sides", "tick"]
SpeechTimer = Callable[[str], float]

# The built-in voice (en_US-joe-medium) as the speaker plays it, measured over 250 of the
# coach's sentences: 0.224 s a word and 0.62 s a sentence (Piper's silence before and after
# each). At 2.4 words a second and 0.3 s, routines were timed 44 % long: "about 14 minutes"
# for a routine that took under 13.
WORDS_PER_SECOND = 4.5
SENTENCE_PAUSE_S = 0.6
# Time to move between holds, by the change of position the exercise data names: coming
# out and going again in place, shifting along a towel or the balls, switching arms or
# legs, rolling onto the other side, getting up from or down to the floor.
CHANGE_S: dict[Change, float] = {
    "same": 2.0,
    "shift": 5.0,
    "switch": 3.0,
    "roll_over": 6.0,
    "get_up": 10.0,
}
DEFAULT_REP_S = 3.0  # a moving rep with no timing in the data
SAFETY = "Move gently, and stop at once if anything hurts."
HOLD = "Hold."
RELEASE = "Release."
RELAX = "Relax."
SWITCH = "Switch sides."
ROLL_OVER = "Roll onto your other side."  # between sides lying on one side, not "Switch sides."
# Going back into the same hold after a release, by what the hold is: a stretch is eased
# back into, a strengthening lift (the T raise, bird dog) is lifted again.
AGAIN: dict[Kind, str] = {
    "stretch": "Back into the stretch.",
    "strength": "Lift and hold.",
}
REST = "Rest."
# A later position of an exercise done in several (along a towel roll) gone back into: the
# person is there already, and the first position's words would send them back to it.
STAY = "Stay where you are."
# The generic caution every exercise carries is said once, in the routine's safety line.
GENERIC_CAUTION = "Stop if anything hurts."
# Props spoken as things to fetch; a doorway or a wall corner is a place, not a prop. A towel
# roll is made while the coach waits for "ready", never in the instructions before a hold,
# whose clock starts as they end.
PROP_WORDS = {
    "towel": "a small towel",  # for the forehead or a leg: not the tied towel roll
    "towel roll": "an old towel tied in a tight roll",
    "pillow": "a pillow",
    "foam roll": "a foam roll",
    "chair": "a chair",
    "book": "a book",
    "tennis balls": "two tennis balls",
    "blanket": "a blanket",
}
PLACES = {
    "floor": "on the floor",
    "chair": "on a chair",
    "standing": "standing",
    "chair_or_standing": "sitting or standing",
    "doorway": "in a doorway",
    "wall": "at a wall corner",
}

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_NUMBER_WORDS = (*_ONES, *_TEENS, "twenty")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def number_word(n: int) -> str:
    """Small counts as words, so a TTS voice reads them the same way every time."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def split_sentences(text: str) -> list[str]:
    """Sentences as the speech cache keys them: split after . ! or ? and a space, trimmed."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text.strip())) if s]


def sentence_count(text: str) -> int:
    return len(split_sentences(text))


def estimate_speech_seconds(text: str) -> float:
    """Speaking time when no speech layer measures it: calm words per second plus pauses."""
    words = len(text.split())
    if not words:
        return 0.0
    return words / WORDS_PER_SECOND + SENTENCE_PAUSE_S * sentence_count(text)


@dataclass(frozen=True)
class Beat:
    """One thing the player does: say `text` (and wait), or time `base_s` seconds.

    A `move` beat is one timed moving rep; its `text` is the count spoken as it starts.
    """

    kind: BeatKind
    segment: int
    text: str = ""
    base_s: float = 0.0
    step: int = -1
    set: int = 1
    side: str | None = None
    rep: int = 0
    reps: int = 0
    cue: CueName | None = None
    min_s: float = 0.0  # a hold or called pose: the least it lasts at a quicker pace

    @property
    def timed(self) -> bool:
        return self.kind not in ("say", "ready")

    def seconds(self, pace: float) -> float:
        """How long a timed beat runs at `pace`."""
        return max(self.base_s * pace, self.min_s)


@dataclass(frozen=True)
class Segment:
    """A unit `next`/`back` jump between: the intro, one side or set of an exercise, the end."""

    index: int
    kind: SegmentKind
    start: int  # first beat index
    end: int  # one past the last beat
    step: int = -1
    set: int = 1
    side: str | None = None


@dataclass(frozen=True)
class Plan:
    routine: Routine
    beats: tuple[Beat, ...]
    segments: tuple[Segment, ...]
    pace: float
    # An exercise segment's first words for going back into it at a later rep (resume,
    # repeat), by (segment, rep): its instructions counting that rep, on that rep's side.
    openings: Mapping[tuple[int, int], str] = field(default_factory=dict)
    # The same for a resume into a later side or set, whose words alone ("Right side. With
    # your left hand...") assume the person is still there: the exercise's name and setup too.
    reentries: Mapping[tuple[int, int], str] = field(default_factory=dict)

    def beat_seconds(
        self, beat: Beat, pace: float, speech: SpeechTimer = estimate_speech_seconds
    ) -> float:
        if beat.kind == "ready":
            return 0.0  # waiting for the person is not part of the routine's time
        return beat.seconds(pace) if beat.timed else speech(beat.text)

    def seconds_from(
        self, index: int, pace: float, speech: SpeechTimer = estimate_speech_seconds
    ) -> float:
        """Planned time from the start of beat `index` to the end."""
        return sum(self.beat_seconds(b, pace, speech) for b in self.beats[index:])

    def total(self, speech: SpeechTimer = estimate_speech_seconds) -> float:
        return self.seconds_from(0, self.pace, speech)

    def segment_of(self, index: int) -> Segment:
        return self.segments[self.beats[min(index, len(self.beats) - 1)].segment]

    def exercise_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == "exercise"]

    def opening(self, segment: int, rep: int, whole: bool = False) -> str:
        """What begins `segment` when it is entered to go on at `rep`, sides filled: "Hold.
        Three of three." for rep 3, as rep 1's count there would say rep 1 is starting.
        `whole` (a resume): a later side or set opens with the exercise's name and setup."""
        if whole and (segment, rep) in self.reentries:
            return self.reentries[(segment, rep)]
        first = self.beats[self.segments[segment].start]
        return self.openings.get((segment, rep), fill_side(first.text, first.side))


def fill_side(text: str, side: str | None) -> str:
    """Fill {side}/{other}; a one-sided exercise that still says {side} gets 'left'."""
    side = side or "left"
    other = "right" if side == "left" else "left"
    return text.replace("{side}", side).replace("{other}", other)


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def minutes_phrase(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute" + ("" if minutes == 1 else "s")


def join_words(items: list[str]) -> str:
    """ "a, b and c" """
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def routine_props(library: Library, routine: Routine) -> list[str]:
    """The things to have ready for `routine`, in the order they are first used."""
    found: list[str] = []
    for step in routine.steps:
        for prop in library.exercises[step.exercise_id].props:
            if prop not in found and prop not in ("doorway", "wall corner"):
                found.append(prop)
    return found


def props_text(props: list[str]) -> str:
    if not props:
        return "Nothing to fetch for this one."
    return f"You need {join_words([PROP_WORDS.get(p, p) for p in props])}."


def intro_text(routine: Routine, seconds: float, props: list[str] | None = None) -> str:
    text = f"{capitalize(routine.name)}, {minutes_phrase(seconds)}. {SAFETY}"
    return f"{text} {props_request(props)}" if props else text


def props_request(props: list[str]) -> str:
    """What the intro asks for before the coach waits: the props, and how to say ready."""
    return f"{props_text(props)} {ready_text(props)}"


def ready_text(props: list[str]) -> str:
    return f"Say ready when you have {'it' if len(props) == 1 else 'them'}."


def reminder_text(props: list[str]) -> str:
    """Said while the coach waits for the props, every READY_REMINDER_S."""
    return f"I am waiting for you. {ready_text(props)}"


def outro_text(routine: Routine) -> str:
    return f"That is the end of {routine.name}. Well done."


def on_floor(position: Position) -> bool:
    return position == "floor"


def next_text(exercise: Exercise, after: Exercise | None = None) -> str:
    """ "Rest. Next: snow angels, on the floor." (the place only when it changes: down to or
    up from the floor, or over to a doorway or a wall corner, which the rest is for)."""
    moved = after is not None and (
        on_floor(after.position) != on_floor(exercise.position)
        or (exercise.position in ("doorway", "wall") and exercise.position != after.position)
    )
    where = f", {PLACES[exercise.position]}" if moved else ""
    return f"{REST} Next: {exercise.name}{where}."


def options_hint(exercise: Exercise) -> str:
    """Tells, once a session, that the exercise has another version to ask for."""
    if exercise.easier and exercise.harder:
        return "Say easier or harder for another version."
    if exercise.easier:
        return "For a gentler version, say easier."
    return "For more, say harder." if exercise.harder else ""


def spoken_cautions(exercise: Exercise) -> list[str]:
    """The cautions said as the exercise starts (the generic one is in the safety line)."""
    return [c for c in exercise.cautions if c != GENERIC_CAUTION]


def set_text(n: int, sets: int) -> str:
    return f"Set {number_word(n)} of {number_word(sets)}."


def count_text(rep: int, reps: int) -> str:
    return f"{capitalize(number_word(rep))} of {number_word(reps)}."


def side_text(side: str, exercise: Exercise | None = None) -> str:
    """ "Left side.", or the exercise's own words for it ("Left arm, right leg.")."""
    if exercise is not None and exercise.side_cue:
        return capitalize(fill_side(exercise.side_cue, side))
    return f"{capitalize(side)} side."


def move_count_text(rep: int, side: str | None, cue: str = "") -> str:
    word = capitalize(number_word(rep))
    count = f"{word}, {side}." if side else f"{word}."
    return _join([count, fill_side(cue, side)])


def _join(parts: list[str]) -> str:
    return " ".join(p.strip() for p in parts if p.strip())


@dataclass(frozen=True)
class _Unit:
    """One exercise segment before flattening: which step, set and side."""

    step: int
    exercise: Exercise
    dosage: Dosage
    set: int
    side: str | None
    first: bool  # first segment of this step: say the name and setup
    cautions: bool = False  # first time this exercise starts in the session: say its cautions


def _units(library: Library, routine: Routine) -> list[_Unit]:
    units: list[_Unit] = []
    seen: set[str] = set()
    for i, step in enumerate(routine.steps):
        ex, d = library.exercises[step.exercise_id], step.dosage
        sides: tuple[str | None, ...] = ("left", "right") if d.sides == "each" else (None,)
        for s in range(1, max(1, d.sets) + 1):
            for side in sides:
                first = not units or units[-1].step != i
                units.append(_Unit(i, ex, d, s, side, first, first and ex.id not in seen))
                seen.add(ex.id)
    return units


def _instruction(unit: _Unit, first_side: str | None, rep: int = 1, whole: bool = False) -> str:
    """The words that open the unit's `rep`; `whole`: with the name and setup, as its first
    unit has them, also in a later side or set (a resume). A later position of an exercise
    done in several ("repeat" there) is not set up as the first one.

    The steps come last, before the hold cue alone: the person is in position as they end,
    and the hold's clock starts then. The count and the hint of another version said after
    them were held too (a T raise held 2 s on the clock was held 4 s more in rep 1)."""
    ex, d = unit.exercise, unit.dosage
    placed = not (ex.reposition and rep > 1 and not whole)
    parts: list[str] = []
    if unit.first or whole:
        parts.append(f"{capitalize(ex.name)}.")
        if unit.cautions:
            parts += [*spoken_cautions(ex), options_hint(ex)]
        parts += ex.setup if placed else []
    if not unit.first and unit.set > 1 and unit.side in (None, "left"):
        parts.append(set_text(unit.set, d.sets))
    reps = _rep_count(d)
    count = [count_text(rep, reps)] if d.hold_s > 0 and reps > 1 else []
    named = [side_text(first_side, ex)] if first_side else []
    # Sides taking turns rep by rep are named with the rep, as later ones are ("Two of ten.
    # Right arm, left leg."); one side for all its reps is named first ("Left side.").
    parts += count + named if d.sides == "alternating" else named + count
    parts += [fill_side(s, first_side) for s in ex.steps] if placed else [STAY]
    if d.hold_s > 0:
        parts.append(ex.hold_cue or HOLD)
    return _join(parts)


def _openings(unit: _Unit, seg: int, whole: bool = False) -> dict[tuple[int, int], str]:
    """The unit's instructions for each later rep: its count, and its side when they
    alternate; `whole`: for every rep of a later side or set, with the name and setup."""
    if whole and unit.first and not unit.exercise.reposition:
        return {}  # the openings are these words already
    openings = {}
    for rep in range(1 if whole else 2, _rep_count(unit.dosage) + 1):
        side = _rep_side(unit.dosage, unit.side, rep)
        openings[(seg, rep)] = fill_side(_instruction(unit, side, rep, whole), side)
    return openings


def _rep_count(d: Dosage) -> int:
    reps = max(1, d.reps)
    return reps * 2 if d.sides == "alternating" else reps


def _rep_side(d: Dosage, unit_side: str | None, rep: int) -> str | None:
    if d.sides == "alternating":
        return "left" if rep % 2 == 1 else "right"
    return unit_side


def _rep_beats(unit: _Unit, seg: int) -> list[Beat]:
    ex, d, reps = unit.exercise, unit.dosage, _rep_count(unit.dosage)
    beats: list[Beat] = []
    for rep in range(1, reps + 1):
        side = _rep_side(d, unit.side, rep)
        at = Beat("say", seg, step=unit.step, set=unit.set, side=side, rep=rep, reps=reps)
        if d.hold_s <= 0:
            cue = ex.rep_cues[rep - 1] if rep <= len(ex.rep_cues) else ""
            text = move_count_text(rep, side if d.sides == "alternating" else None, cue)
            rep_s = d.rep_s if d.rep_s > 0 else DEFAULT_REP_S
            # A pose the coach calls (cat-cow's 5 s, from its page) is held as the page says:
            # a quicker pace does not shorten it. Plain moving reps may go quicker.
            least = rep_s if cue else 0.0
            beats.append(replace(at, kind="move", text=text, base_s=rep_s, min_s=least))
            continue
        if rep > 1:
            named = side_text(side, ex) if side and d.sides == "alternating" else ""
            again = HOLD if ex.reposition else AGAIN[ex.kind]  # a new position: not back into one
            change = ex.side_change if d.sides == "alternating" else ex.rep_change
            beats.append(replace(at, kind="gap", base_s=CHANGE_S[change]))
            beats.append(replace(at, text=_join([count_text(rep, reps), named, again])))
        hold = replace(at, kind="hold", base_s=d.hold_s, min_s=d.shortest_hold_s)
        beats.append(replace(hold, cue="hold_start"))
        if rep < reps:
            moving = fill_side(ex.reposition, side) if ex.reposition else ""
            beats.append(replace(at, text=_join([_release(ex), moving]), cue="hold_end"))
    return beats


def _release(exercise: Exercise) -> str:
    return exercise.release or RELEASE


def _tail(unit: _Unit, after: _Unit | None, seg: int) -> list[Beat]:
    """What closes a segment: release, then switch sides, rest before the next set or step."""
    d, ex = unit.dosage, unit.exercise
    at = Beat("say", seg, step=unit.step, set=unit.set, side=unit.side)
    close = _release(ex) if d.hold_s > 0 else RELAX
    cue: CueName | None = "hold_end" if d.hold_s > 0 else None
    if after is None:
        return [replace(at, text=close, cue=cue)]
    if after.step == unit.step and after.set == unit.set:
        switch = ROLL_OVER if ex.side_change == "roll_over" else SWITCH
        return [
            replace(at, text=_join([close, switch]), cue="switch_sides"),
            replace(at, kind="gap", base_s=CHANGE_S[ex.side_change]),
        ]
    same_step = after.step == unit.step
    rest = REST if same_step else next_text(after.exercise, ex)
    beats = [replace(at, text=_join([close, rest]), cue=cue)]
    if d.rest_s > 0:
        beats.append(replace(at, kind="rest", base_s=d.rest_s))
    if not same_step and on_floor(after.exercise.position) != on_floor(ex.position):
        beats.append(replace(at, kind="gap", base_s=CHANGE_S["get_up"]))
    return beats


def _segment(
    index: int, kind: SegmentKind, beats: list[Beat], start: int, unit: _Unit | None
) -> Segment:
    if unit is None:
        return Segment(index, kind, start, start + len(beats))
    return Segment(index, kind, start, start + len(beats), unit.step, unit.set, unit.side)


def build_plan(
    library: Library,
    routine: Routine,
    pace: float = 1.0,
    speech: SpeechTimer = estimate_speech_seconds,
) -> Plan:
    """Flatten a routine: intro, each side/set of each exercise, rests, the closing words."""
    units = _units(library, routine)
    groups: list[tuple[SegmentKind, list[Beat], _Unit | None]] = []
    openings: dict[tuple[int, int], str] = {}
    reentries: dict[tuple[int, int], str] = {}
    for n, unit in enumerate(units, start=1):
        openings |= _openings(unit, n)
        reentries |= _openings(unit, n, whole=True)
        after = units[n] if n < len(units) else None
        first_side = _rep_side(unit.dosage, unit.side, 1)
        first = Beat(
            "say",
            text=_instruction(unit, first_side),
            segment=n,
            step=unit.step,
            set=unit.set,
            side=first_side,
            rep=1,
            reps=_rep_count(unit.dosage),
        )
        groups.append(("exercise", [first, *_rep_beats(unit, n), *_tail(unit, after, n)], unit))
    outro = [Beat("say", text=outro_text(routine), segment=len(units) + 1)]
    groups.append(("outro", outro, None))
    body = sum(
        (Plan(routine, tuple(b), (), pace).seconds_from(0, pace, speech) for _, b, _ in groups),
        0.0,
    )
    props = routine_props(library, routine)
    total = body + speech(intro_text(routine, 0.0, props))
    intro = [Beat("say", text=intro_text(routine, total, props), segment=0)]
    if props:
        intro.append(Beat("ready", text=reminder_text(props), segment=0))
    groups.insert(0, ("intro", intro, None))
    beats: list[Beat] = []
    segments: list[Segment] = []
    for index, (kind, group, owner) in enumerate(groups):
        segments.append(_segment(index, kind, group, len(beats), owner))
        beats += group
    return Plan(routine, tuple(beats), tuple(segments), pace, openings, reentries)


def planned_total(
    library: Library,
    routine: Routine,
    pace: float = 1.0,
    speech: SpeechTimer = estimate_speech_seconds,
) -> float:
    """Seconds the player takes for `routine` with no commands: speech plus holds and rests."""
    return build_plan(library, routine, pace, speech).total(speech)
