"""The exercise library as plain data: what the loader produces and the player consumes.

Spoken text may contain `{side}` and `{other}` placeholders ("Lift your {side} arm"),
which the player fills with "left"/"right" for each side of a two-sided exercise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

Sides = Literal["none", "each", "alternating"]
Position = Literal["floor", "chair", "standing", "chair_or_standing", "doorway", "wall"]
# How the body moves between two holds: stay and go again, shift along (a towel, the balls),
# switch arms or legs, roll onto the other side, or get up from (or down to) the floor.
Change = Literal["same", "shift", "switch", "roll_over", "get_up"]
# What a hold is: a stretch eased into, or a strengthening lift (the T raise, bird dog); it
# chooses the words that take the person back into the next hold.
Kind = Literal["stretch", "strength"]


@dataclass(frozen=True)
class SourcePage:
    """Which seed page an exercise came from (file name in shared/seeds and its title)."""

    seed: str
    title: str


@dataclass(frozen=True)
class Dosage:
    """How much: facts from the page, or conservative defaults named in `defaults`.

    hold_s: seconds each rep is held (0 for a moving rep, timed by `rep_s`).
    hold_min_s: the shortest hold the page gives, where it gives a range ("ten seconds to
        two minutes"); a quicker pace never holds less. None: hold_s is the shortest.
    rep_s: seconds one moving rep takes, when hold_s is 0.
    sides: none, each (all reps on one side, then the other), or alternating.
    rest_s: rest after the exercise (between sets as well).
    defaults: names of the fields the page gave no number for.
    """

    hold_s: float
    reps: int = 1
    sets: int = 1
    sides: Sides = "none"
    rest_s: float = 10.0
    rep_s: float = 0.0
    defaults: tuple[str, ...] = ()
    hold_min_s: float | None = None

    @property
    def shortest_hold_s(self) -> float:
        """What a quicker pace may shorten a hold to: never below the page's least, nor
        below the hold itself (a routine may ask for less than the page's least)."""
        least = self.hold_s if self.hold_min_s is None else self.hold_min_s
        return min(least, self.hold_s)

    def override(self, **changes: float | int | str) -> Dosage:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Variant:
    """A merged duplicate or named alternative (e.g. cat-cow as each page gives it)."""

    name: str
    source: SourcePage
    note: str


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str  # what people would say: "thread the needle"
    sources: tuple[SourcePage, ...]
    position: Position
    props: tuple[str, ...]
    setup: tuple[str, ...]  # spoken, before the first hold
    steps: tuple[str, ...]  # spoken, one action per sentence
    dosage: Dosage
    cautions: tuple[str, ...]
    easier: str | None = None
    harder: str | None = None
    hold_cue: str | None = None  # spoken when a hold starts, e.g. "Breathe and relax."
    release: str | None = None  # spoken when a hold ends, instead of "Release."
    rep_cues: tuple[str, ...] = ()  # moving reps: what rep n does, spoken as it starts
    reposition: str | None = None  # held reps: how to move to the next rep's position
    rep_change: Change = "same"  # the move between held reps, timed by the planner
    side_change: Change = "switch"  # the move between sides
    # Names the side where one starts, instead of "Left side.": "{side} arm, {other} leg."
    side_cue: str | None = None
    kind: Kind = "stretch"  # a stretch or a strengthening lift
    dosage_note: str = ""
    variants: tuple[Variant, ...] = ()
    aliases: tuple[str, ...] = ()
    file: str = ""  # where it was loaded from, for messages
    line: int = 0


@dataclass(frozen=True)
class RoutineStep:
    exercise_id: str
    dosage: Dosage  # the exercise's dosage with the routine's overrides applied


@dataclass(frozen=True)
class Routine:
    id: str
    name: str  # spoken: "upper back"
    description: str
    steps: tuple[RoutineStep, ...]
    aliases: tuple[str, ...] = ()
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Library:
    exercises: dict[str, Exercise] = field(default_factory=dict)
    routines: dict[str, Routine] = field(default_factory=dict)
    default_routine: str = "upper_back"


# --- finding a routine by what someone said ---------------------------------------------------

_FILLER = {"the", "a", "my", "routine", "session", "workout", "please", "program"}


def _normalise(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    while words and words[0] in _FILLER:
        words.pop(0)
    while words and words[-1] in _FILLER:
        words.pop()
    return " ".join(words)


def routine_key(text: str) -> str:
    """What a routine's id, name or alias comes to when said: two that give the same key
    answer to the same words ("upper back", "Upper-Back Routine"); "" answers to nothing."""
    return _normalise(text)


def find_routine(library: Library, query: str) -> Routine | None:
    """Loose match on id, name and aliases: "upper back", "Upper-Back Routine", "the upper back"."""
    wanted = _normalise(query)
    if not wanted:
        return None
    for routine in library.routines.values():
        names = (routine.id, routine.name, *routine.aliases)
        if wanted in {_normalise(n) for n in names}:
            return routine
    return None
