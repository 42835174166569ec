"""Small hand-built libraries and helpers shared by the player tests (no tests of its own)."""

from __future__ import annotations

from functools import cache

from skill.core.events import Command, Speak
from skill.core.exercise import Dosage, Exercise, Library, Routine, RoutineStep
from skill.core.simulate import Simulation


def exercise(ex_id: str, dosage: Dosage, steps: tuple[str, ...], **extra: object) -> Exercise:
    return Exercise(
        id=ex_id,
        name=ex_id.replace("_", " "),
        sources=(),
        position="floor",
        props=(),
        setup=("Sit tall.",),
        steps=steps,
        dosage=dosage,
        cautions=(),
        **extra,  # type: ignore[arg-type]
    )


def tiny_library() -> Library:
    """Each kind of dosage once: sided holds with reps, moving reps, a long hold, alternating."""
    exercises = {
        "reach": exercise(
            "reach",
            Dosage(hold_s=10, reps=2, sides="each", rest_s=5),
            ("Lift your {side} arm.", "Lean toward your {other} side."),
        ),
        "roll": exercise("roll", Dosage(hold_s=0, rep_s=3, reps=4, rest_s=0), ("Roll slowly.",)),
        "long_hold": exercise(
            "long_hold", Dosage(hold_s=30, rest_s=10, sets=2), ("Lie still.",), hold_cue="Breathe."
        ),
        "bird": exercise(
            "bird", Dosage(hold_s=5, reps=2, sides="alternating", rest_s=4), ("Reach {side}.",)
        ),
    }

    def routine(rid: str, *ids: str) -> Routine:
        steps = tuple(RoutineStep(i, exercises[i].dosage) for i in ids)
        return Routine(rid, rid.replace("_", " "), "test routine", steps)

    routines = {
        "tiny": routine("tiny", "reach", "roll", "long_hold"),
        "other_one": routine("other_one", "long_hold", "bird"),
    }
    return Library(exercises, routines, default_routine="tiny")


@cache
def real_library() -> Library | None:
    """The shipped library, when the loader and YAML files exist."""
    try:
        from skill.library.loader import load_library
    except ImportError:
        return None
    result = load_library()
    return result.library if result.library.routines else None


def start(sim: Simulation, routine: str = "tiny") -> None:
    sim.send(Command("start", {"routine": routine}))


def spoken_after(sim: Simulation, count: int) -> list[Speak]:
    """Speak actions emitted after the first `count` actions."""
    return [a for a in sim.actions[count:] if isinstance(a, Speak)]


def run_until(sim: Simulation, predicate: object, limit: float = 3600.0) -> None:
    """Advance the virtual clock event by event until predicate(sim) holds."""
    assert callable(predicate)
    while not predicate(sim):
        if sim.now > limit:
            raise AssertionError("condition never reached")
        sim.advance_to(sim.now + 0.05)


def saved_session(routine: str = "upper_back", age_s: float = 60.0) -> dict[str, object]:
    """A state.json of the shipped `routine` cut after its first exercise's instructions,
    saved `age_s` ago (a routine that is not shipped gets upper back's place)."""
    import time

    from skill.core.plan import build_plan

    library = real_library()
    assert library is not None
    known = library.routines.get(routine, library.routines["upper_back"])
    beats = build_plan(library, known, 1.0).beats
    first = [i for i, b in enumerate(beats) if b.step == 0]
    now = time.time()
    return {
        "version": 1,
        "routine": routine,
        "step": 0,
        "segment": beats[first[1]].segment,
        "beat": first[1],
        "set": 1,
        "side": None,
        "rep": 1,
        "remaining": None,
        "pace": 1.0,
        "started_at": now - age_s - 60,
        "saved_at": now - age_s,
    }
