"""The fallback recognizer's words (skill.speech_in.asr_sphinx): pronunciations from
PocketSphinx's English dictionary, the English word list its free decode weighs commands
against, and that decode's unigram language model."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def model_dir() -> Path:
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us"


def write_dictionary(
    words: Sequence[str],
    path: Path,
    verify_words: Sequence[str] = (),
    verify_path: Path | None = None,
    cache_dir: Path | None = None,
) -> dict[str, int]:
    """A small pronunciation dictionary with only the grammar's words (fast to load on a
    Pi), and one for the verifier (the grammar's words and `verify_words`); returns each
    grammar word's phone count. A word the English dictionary lacks (a made-up routine
    name) is left out of both and of the counts: the caller drops the phrases with it."""
    wanted = set(words)
    verify_lines = pronunciations(wanted | set(verify_words), cache_dir)
    lines = [line for line in verify_lines if entry_word(line) in wanted]
    path.write_text("".join(lines), encoding="utf-8")
    if verify_path is not None:
        verify_path.write_text("".join(verify_lines), encoding="utf-8")
    return phone_counts(lines)


def entry_word(line: str) -> str:
    """The word of a dictionary line ("word(2) phones" is its second pronunciation)."""
    return line.split(" ", 1)[0].split("(", 1)[0]


def pronunciations(words: set[str], cache_dir: Path | None = None) -> list[str]:
    """The English dictionary's lines for `words`, every pronunciation. Finding them reads
    its 135,000 lines (0.1-0.2 s of CPU here, a second of a Pi's start-up), so with
    `cache_dir` they are kept in a file named for the words and the dictionary's version."""
    import hashlib

    source = model_dir() / "cmudict-en-us.dict"
    stat = source.stat()
    named = "\n".join(sorted(words)) + f"\n{stat.st_size} {stat.st_mtime_ns}"
    key = hashlib.sha256(named.encode()).hexdigest()[:16]
    cached = None if cache_dir is None else cache_dir / f"pronunciations-{key}.dict"
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8").splitlines(keepends=True)
    with source.open(encoding="utf-8") as f:
        lines = [line for line in f if entry_word(line) in words]
    if cached is not None:
        keep_pronunciations(cached, lines)
    return lines


def keep_pronunciations(path: Path, lines: list[str]) -> None:
    """Write the cache file (replacing those of other word sets); a cache that cannot be
    written only costs the time of the next start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("pronunciations-*.dict"):
            old.unlink(missing_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text("".join(lines), encoding="utf-8")
        partial.replace(path)
    except OSError as err:
        log.debug("pronunciation cache not written: %s", err)


WORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "english_words.tsv"


RARE_WORD_LOG10 = -6.0  # a word the list does not know: rarer than any listed


def english_words(count: int) -> tuple[dict[str, float], dict[str, float]]:
    """The `count` most frequent English words, and the built-in command words outside
    them, each with its unigram log10 probability (scripts/english_words.py)."""
    top: dict[str, float] = {}
    commands: dict[str, float] = {}
    into = top
    with WORDS_FILE.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                into = commands if "command words" in line else into
                continue
            word, log10 = line.split()
            if into is commands or len(top) < count:
                into[word] = float(log10)
    return top, commands


def verifier_unigrams(
    words: Sequence[str],
    english: dict[str, float],
    known: dict[str, float],
    favoured: set[str],
    prior: float,
) -> dict[str, float]:
    """The verifier's log10 word probabilities: the English list, the command words at their
    English frequency (RARE_WORD_LOG10 if the list lacks them) and the `favoured` words
    `prior` times as likely (Tuning.barge_in_prior)."""
    probs = {**{w: known.get(w, RARE_WORD_LOG10) for w in words}, **english}
    boost = math.log10(prior)
    return {w: p + boost if w in favoured else p for w, p in probs.items()}


def write_unigram_lm(probs: dict[str, float], path: Path) -> None:
    """An ARPA unigram model over `probs` (log10, renormalised): every word may follow any."""
    total = math.log10(sum(10**p for p in probs.values()))
    lines = ["\\data\\", f"ngram 1={len(probs) + 2}", "", "\\1-grams:", "-99\t<s>", "-1.0\t</s>"]
    lines += [f"{p - total:.4f}\t{w}" for w, p in sorted(probs.items())]
    lines += ["", "\\end\\", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def phone_counts(lines: Sequence[str]) -> dict[str, int]:
    """Phones in each word's shortest pronunciation, from dictionary lines."""
    counts: dict[str, int] = {}
    for line in lines:
        head, *phones = line.split()
        word = head.split("(", 1)[0]
        counts[word] = min(counts.get(word, len(phones)), len(phones))
    return counts


def phones_of(text: str, lexicon: dict[str, list[str]]) -> list[str]:
    """The phones of the words (first pronunciation; a word without one counts as one
    unmatched phone), stress marks and all."""
    return [p for w in text.split() for p in lexicon.get(w, ["?"])]


def read_lexicon(path: Path) -> dict[str, list[str]]:
    """Each word's first pronunciation from a dictionary file."""
    lexicon: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            head, *phones = line.split()
            lexicon.setdefault(head.split("(", 1)[0], phones)
    return lexicon
