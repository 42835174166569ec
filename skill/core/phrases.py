"""Everything the coach says apart from the exercise text, and the list of all its sentences.

The speech layer renders and caches audio per sentence ahead of time, so the sentence
split must be deterministic and `all_phrases` must cover every sentence a session can
produce (except the time-left answers, whose numbers change from second to second).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from skill.core import plan
from skill.core.exercise import Kind, Library, Routine
from skill.core.plan import split_sentences

__all__ = ["all_phrases", "split_sentences"]

PACE_STEP = 0.25
PACE_MIN = 0.75
PACE_MAX = 1.5
PACES = (0.75, 1.0, 1.25, 1.5)  # every pace slower/faster can reach, for the phrase list

NOTHING_RUNNING = "Nothing is running. Say start and a routine name."
NOTHING_TO_CONTINUE = "There is nothing to continue. Say start and a routine name."
TOO_OLD = "That session is too old to pick up. Say start and a routine name."
UNUSABLE_SESSION = (
    "I cannot pick up that session: the routines have changed. Say start and a routine name."
)
ALREADY_RUNNING = "A routine is already going. Say stop to end it first."
ALREADY_GOING = "We are already going."
ALREADY_ON_BREAK = "We are already on a break. Say resume to go on."
PAUSED_START = "We are on a break. Say resume to go on, or stop to end."
IDLE_STOP = "Nothing is running."
UNKNOWN_ROUTINE = "I do not know that routine."
STARTING_OVER = "Starting fresh. The unfinished session is kept in your history."
NO_ROUTINES = "I have no routines loaded."
READY_BUTTON = "Or press the button once."
UNDER_WAY = "We are under way. Carry on."
ON_BREAK = "We are on a break. Say resume to go on."
NOT_IN_EXERCISE = "Ask me that during an exercise."
NOTHING_BEFORE = "There is nothing before this."  # "back" in the intro or the props wait
NOTHING_AFTER = "There is nothing after this."  # "next" during the closing words
NO_EASIER = "This one has no gentler version."
# "easier" where the holds are at the least the page gives: shorter rests would not help.
NO_SHORTER = "The holds cannot be shorter. Say pause for a break."
PAUSED = "Paused."  # opens "how long left" on a break: the clock is not running
NO_HARDER = "This one has no stronger version. Say slower for longer holds."

ACKS = {
    "pause": "Taking a break. Say resume when you are ready.",
    "resume": "Carrying on.",
    "next": "Skipping ahead.",
    "back": "Going to the previous one.",
    "back_same": "From the top of this one.",
    "repeat": "Once more.",
    "stop": "Okay, ending here. Well done.",
    "slower": "Okay, longer holds and rests.",
    "faster": "Okay, shorter holds and rests.",
    "faster_rests": "Okay, shorter rests. The holds stay the same.",  # at the page's least
    "slowest": "That is already the slowest pace.",
    "fastest": "That is already the quickest pace.",
    "louder": "Volume up.",
    "quieter": "Volume down.",
    "loudest": "That is as loud as I go.",
    "quietest": "That is as quiet as I go.",
}


def resume_hold_text(kind: Kind, side: str = "") -> str:
    """ "resume" during a hold: back into it, as a stretch or as a lift (plan.AGAIN), naming
    the side as the reps do where the exercise has its own words for it ("Left arm, right
    leg.")."""
    return " ".join(p for p in (ACKS["resume"], side, plan.AGAIN[kind]) if p)


def help_text() -> str:
    """Spoken help, made from the phrases the grammar has (skill.core.intents.TAUGHT)."""
    from skill.core.intents import TAUGHT

    def said(phrase: str) -> str:
        return phrase.replace("i'm", "I'm").replace(" i ", " I ")

    parts = ["You can say: start, and a routine name."]
    for phrases_, what in TAUGHT:
        spoken = " or ".join(said(p) for p in phrases_)
        spoken = spoken[0].upper() + spoken[1:]
        parts.append(f"{spoken}, {what}." if what else f"{spoken}.")
    return " ".join(parts)


HELP = help_text()

MIC_DOWN_NO_BUTTON = "I cannot hear you right now."
MIC_DOWN = f"{MIC_DOWN_NO_BUTTON} The button still works."
MIC_UP = "I can hear you again."
SPEAKER_UP = "Sound is back."
HALFWAY = "Halfway there."
COUNTDOWN = (3, 2, 1)


def countdown_text(n: int) -> str:
    return f"{plan.capitalize(plan.number_word(n))}."


def list_text(library: Library) -> str:
    names = [r.name for r in library.routines.values()]
    if not names:
        return NO_ROUTINES
    spoken = names[0] if len(names) == 1 else f"{', '.join(names[:-1])}, and {names[-1]}"
    return f"I know these routines: {spoken}. Say start and a name."


def needs_text(routine: Routine, props: list[str]) -> str:
    """The answer to "what do I need": the routine's props, or that it needs none."""
    return f"For {routine.name}: {plan.props_text(props)}"


def option_texts(library: Library) -> list[str]:
    """What "easier" and "harder" can say, with each side filled in."""
    texts = []
    for ex in library.exercises.values():
        for option in (ex.easier, ex.harder):
            if option:
                texts += [plan.fill_side(option, side) for side in ("left", "right")]
    return texts


def welcome_back(routine: Routine) -> str:
    return f"Welcome back. Picking up {routine.name} where you left off."


WAKE_WORD = "the wake word"


def addressed(text: str, wake: bool) -> str:
    """What the coach tells the person to say, for a coach behind a wake word ("Say the wake
    word, then ready"): a bare "ready" is refused there. The coach never says the phrase
    itself: its own voice woke its detector (Piper saying "say hey jarvis, resume" scored
    0.997-0.999 on openWakeWord's model, played at -12 dB too), opening the window for any
    word after its sentence."""
    if not wake:
        return text
    text = re.sub(r"\b([Ss])ay (?=[a-z])", rf"\1ay {WAKE_WORD}, then ", text)
    return text.replace("You can say: ", f"You can say, each after {WAKE_WORD}: ")


def resume_offer(
    routine: Routine, listening: bool, button: bool, wake_word: str | None = None
) -> str:
    """Said once at start-up when an interrupted session can still be resumed, offering only
    the ways to resume that there are (a microphone being looked for again is no way yet)."""
    ways = ["say resume"] if listening else []
    ways += ["press the button"] if button else []
    how = " or ".join(ways) + " to carry on" if ways else "once I can hear you, say resume"
    return addressed(
        f"You stopped in the middle of {routine.name}. {plan.capitalize(how)}.", bool(wake_word)
    )


def _about(seconds: float) -> str:
    if seconds < 60:
        # Up, as the phone page shows it (player_view) and a countdown would: 1.4 s is 2.
        n = max(1, math.ceil(seconds - 1e-6))
        return f"{n} second" + ("" if n == 1 else "s")
    return plan.minutes_phrase(seconds)


def time_left_text(
    what: str | None, here: float | None, total: float, exercise: float | None = None
) -> str:
    """E.g. '6 seconds left in this rep. 59 seconds left in this exercise. About 4 minutes
    left in the routine.' (no exercise line when it would only repeat the beat's time)."""
    parts = [] if here is None or what is None else [f"{_about(here)} left in this {what}."]
    if exercise is not None and not (parts and _about(exercise) == _about(here or 0.0)):
        parts.append(f"{_about(exercise)} left in this exercise.")  # unless said in the same words
    parts.append(f"{_about(total)} left in the routine.")
    return " ".join(plan.capitalize(p) for p in parts)


def fixed_phrases(library: Library, wake: bool = False) -> set[str]:
    """Acknowledgements, replies, help, list, notices, countdown and routine-level lines (as
    said behind a wake word, when `wake`)."""
    texts: list[str] = [
        NOTHING_RUNNING,
        NOTHING_TO_CONTINUE,
        TOO_OLD,
        UNUSABLE_SESSION,
        ALREADY_RUNNING,
        ALREADY_GOING,
        ALREADY_ON_BREAK,
        PAUSED_START,
        IDLE_STOP,
        UNKNOWN_ROUTINE,
        STARTING_OVER,
        HELP,
        MIC_DOWN,
        MIC_DOWN_NO_BUTTON,
        MIC_UP,
        SPEAKER_UP,
        HALFWAY,
        list_text(library),
        READY_BUTTON,
        UNDER_WAY,
        ON_BREAK,
        NOT_IN_EXERCISE,
        NOTHING_BEFORE,
        NOTHING_AFTER,
        NO_EASIER,
        NO_HARDER,
        NO_SHORTER,
        PAUSED,
        *option_texts(library),
        *(needs_text(r, plan.routine_props(library, r)) for r in library.routines.values()),
        *ACKS.values(),
        *(resume_hold_text(kind) for kind in plan.AGAIN),
        *(countdown_text(n) for n in COUNTDOWN),
        *(welcome_back(r) for r in library.routines.values()),
        *(
            resume_offer(r, listening, button, WAKE_WORD if wake else None)
            for r in library.routines.values()
            for listening in (True, False)
            for button in (True, False)
        ),
    ]
    return _sentences(addressed(t, bool(wake)) for t in texts)


def routine_phrases(library: Library, routine: Routine, speech: plan.SpeechTimer) -> set[str]:
    """Every sentence a no-command run of `routine` says, at every reachable pace."""
    texts: list[str] = []
    for pace in PACES:
        built = plan.build_plan(library, routine, pace, speech)
        texts += [b.text for b in built.beats if b.text]
        texts += built.openings.values()  # going back into a later rep: resume, repeat
    return _sentences(texts)


def all_phrases(
    library: Library, speech: plan.SpeechTimer = plan.estimate_speech_seconds, wake: bool = False
) -> set[str]:
    """Every non-dynamic sentence the player can say, for pre-rendering into the cache (as
    said behind a wake word, when `wake`: skill.core.player.PlayerSettings.wake_word)."""
    phrases = fixed_phrases(library, wake)
    for routine in library.routines.values():
        phrases |= {addressed(p, wake) for p in routine_phrases(library, routine, speech)}
    return phrases


def _sentences(texts: Iterable[str]) -> set[str]:
    return {s for t in texts for s in split_sentences(t)}
