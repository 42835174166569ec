"""How alike two phrases sound, phone by phone: the fallback recognizer's check that its free
decode heard a command (skill.speech_in.asr_sphinx), where a word-for-word match is too strict
for long phrases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from skill.core.intents import normalize
from skill.speech_in.lexicon import phones_of


def phone_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """1 - the edit distance between two phone sequences over the longer one's length."""
    previous = list(range(len(b) + 1))
    for i, pa in enumerate(a, 1):
        row = [i]
        for j, pb in enumerate(b, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (pa != pb)))
        previous = row
    return 1 - previous[-1] / max(1, len(a), len(b))


CommandTarget = tuple[str, Mapping[str, str]]  # a command's name and arguments


def names_another_command(
    heard: Sequence[str], target: CommandTarget, table: Mapping[str, CommandTarget]
) -> bool:
    """One of the verifier's hypotheses is, word for word, a command other than `target`:
    the grammar and the free decode disagree on which command it was, so neither is acted
    on ("start quick" forced onto a "stop" heard as 'star we' and as 'stop'; a "repeat"
    over an exercise bike that the grammar took for "previous", heard as 'repeat')."""
    return any(table.get(normalize(h), target) != target for h in heard)


def sounds_like(
    want: Sequence[str],
    heard: Sequence[str],
    lexicon: dict[str, list[str]],
    min_similarity: float,
    rival_margin: float,
    rivals: Sequence[Sequence[str]] = (),
) -> bool:
    """A long command (phones `want`) agrees with the verifier's hypotheses `heard` when one
    sounds close to it phone by phone (`min_similarity`) and none of those sounds
    clearly closer (by `rival_margin`) to a command of another meaning (the phones
    `rivals`): 'start up back' heard in noise is the upper back, not the full back."""
    agrees = False
    for text in heard:
        phones = phones_of(text, lexicon)
        alike = phone_similarity(want, phones)
        if alike < min_similarity:
            continue
        agrees = True
        closer = alike + rival_margin
        if any(
            could_be_as_alike(rival, phones, closer) and phone_similarity(rival, phones) >= closer
            for rival in rivals
        ):
            return False
    return agrees


def could_be_as_alike(a: Sequence[str], b: Sequence[str], alike: float) -> bool:
    """The lengths alone leave phone_similarity(a, b) >= `alike` possible (an edit distance
    is at least the length difference): skips most of the table's phrases cheaply."""
    return 1 - abs(len(a) - len(b)) / max(1, len(a), len(b)) >= alike
