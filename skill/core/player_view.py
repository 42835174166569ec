"""What a screen shows of the player: plain JSON-able data derived from its state, no I/O.

The service builds one after every event and hands it to the web page; a view that did
not change is not sent again, so the countdown is whole seconds (one update a second
while holding) rather than the player's tenths.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from skill.core.plan import Beat, Plan, Segment

if TYPE_CHECKING:
    from skill.core.player import Player

# What the person is doing in each kind of beat, as the page's big label says it.
DOING = {
    "say": "listen",
    "hold": "hold",
    "move": "move",
    "rest": "rest",
    "gap": "get ready",
    "ready": "get your props",
}


def view_of(player: Player) -> dict[str, Any]:
    """The player's state as a screen shows it; idle gives the routine a start would begin
    and the interrupted one a resume would pick up."""
    plan, beat = player.plan, player.beat
    base: dict[str, Any] = {
        "mode": player.mode,
        "pace": player.pace,
        "default_routine": player.last_routine
        or player.settings.default_routine
        or player.library.default_routine,
    }
    if plan is None or beat is None:
        return {**base, "routine": None, "resumable": _resumable(player)}
    remaining = player.remaining_hold
    return {
        **base,
        "routine": {"id": plan.routine.id, "name": plan.routine.name},
        "doing": DOING[beat.kind],
        "waiting": beat.kind == "ready",  # for the props: the page's main button says ready
        "timed": beat.timed,
        "remaining_s": None if remaining is None else math.ceil(remaining - 1e-6),
        "hold_s": round(beat.seconds(player.pace)) if beat.timed else None,
        "exercise": _exercise(player, plan, beat),
        "progress": _progress(player, plan, remaining),
        "next": _next_label(player, plan),
    }


def _resumable(player: Player) -> dict[str, Any] | None:
    """The interrupted session 'resume' would pick up, so a page can offer it as the coach
    does at start-up; None when there is none (or it is too old or no longer fits)."""
    routine, saved = player.resumable_routine(), player.saved
    if routine is None or saved is None:
        return None
    step = saved.get("step")
    exercise = None  # cut off in the routine's opening words: before any exercise
    if isinstance(step, int) and 0 <= step < len(routine.steps):
        exercise = player.library.exercises[routine.steps[step].exercise_id].name
    return {
        "routine": routine.id,
        "name": routine.name,
        "exercise": exercise,
        "saved_at": saved.get("saved_at"),
    }


def _exercise(player: Player, plan: Plan, beat: Beat) -> dict[str, Any] | None:
    if beat.step < 0:
        return None
    ahead = player.heading_to
    if ahead is not None and ahead.step == beat.step:
        beat = ahead  # the rep the coach is counting its way back into
    step = plan.routine.steps[beat.step]
    exercise = player.library.exercises[step.exercise_id]
    return {
        "name": exercise.name,
        "number": beat.step + 1,
        "of": len(plan.routine.steps),
        "side": beat.side,
        "set": beat.set,
        "sets": step.dosage.sets,
        "rep": beat.rep or None,
        "reps": beat.reps or None,
        "cautions": list(exercise.cautions),
        "easier": exercise.easier,
    }


# The service asks for a view ten times a second: summing a long routine's beats each time
# would cost a Pi a tenth of a core, so the sums are kept for the last plan and pace.
_sums: tuple[Plan | None, float, list[float]] = (None, 0.0, [])


def _seconds_after(player: Player, plan: Plan) -> list[float]:
    """Planned seconds from each beat to the end (one entry per beat, plus 0 for the end)."""
    global _sums
    cached_plan, pace, sums = _sums
    if cached_plan is not plan or pace != player.pace:
        speech = player.settings.speech_seconds
        sums = [0.0]
        for beat in reversed(plan.beats):
            sums.append(sums[-1] + plan.beat_seconds(beat, player.pace, speech))
        sums.reverse()
        _sums = (plan, player.pace, sums)
    return sums


def _progress(player: Player, plan: Plan, remaining: float | None) -> float:
    """Share of the routine's planned time behind the person, 0 to 1."""
    sums = _seconds_after(player, plan)
    total, here = sums[0], player.index
    current = sums[here] - sums[here + 1]
    left_here = current if remaining is None else min(current, remaining)
    left = left_here + sums[here + 1]
    return 0.0 if total <= 0 else round(min(1.0, max(0.0, 1.0 - left / total)), 3)


def _next_label(player: Player, plan: Plan) -> str:
    """The next side, set or exercise, named as the coach would; or the end."""
    here = plan.segment_of(player.index)
    later = [s for s in plan.segments if s.index > here.index and s.kind == "exercise"]
    return _segment_label(player, plan, later[0]) if later else "the end"


def _segment_label(player: Player, plan: Plan, seg: Segment) -> str:
    step = plan.routine.steps[seg.step]
    name = player.library.exercises[step.exercise_id].name
    if seg.side:
        name += f", {seg.side} side"
    if step.dosage.sets > 1:
        name += f", set {seg.set} of {step.dosage.sets}"
    return name
