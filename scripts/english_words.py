"""Writes skill/data/english_words.tsv: the most frequent English words of PocketSphinx's own
language model (en-us.lm.bin), with their unigram log10 probabilities.

The fallback's verifier decodes each candidate command with these words as competitors (a
garbage model of real English), so "yes" is heard as "yes" instead of being forced onto a
command. Reading 126,000 unigrams takes about a second here and far longer on a Pi, so the
list is made once, here, from the pinned pocketsphinx (constraints.txt), and shipped.

Run: .venv/bin/python scripts/english_words.py [COUNT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pocketsphinx

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "skill" / "data" / "english_words.tsv"
sys.path.insert(0, str(REPO))


def main(count: int = 2000) -> None:
    model = Path(pocketsphinx.get_model_path()) / "en-us"
    logmath = pocketsphinx.LogMath()
    lm = pocketsphinx.NGramModel(pocketsphinx.Config(), logmath, str(model / "en-us.lm.bin"))
    words = set()
    with (model / "cmudict-en-us.dict").open(encoding="utf-8") as f:
        for line in f:
            word = line.split(" ", 1)[0].split("(", 1)[0]
            if word[:1].isalpha():
                words.add(word)
    scored = sorted(((lm.prob([w]), w) for w in words), key=lambda s: (-s[0], s[1]))
    version = pocketsphinx_version()
    lines = [f"# top {count} words of pocketsphinx {version} en-us.lm.bin: word, log10 p"]
    for score, word in scored[:count]:
        lines.append(f"{word}\t{logmath.log_to_log10(score):.4f}")
    # The command words' own frequencies, so the verifier neither favours nor shuns them.
    lines.append(COMMAND_WORDS_MARK)
    listed = {w for _, w in scored[:count]}
    for word in command_words() - listed:
        if word in words:
            lines.append(f"{word}\t{logmath.log_to_log10(lm.prob([word])):.4f}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {count} words to {OUT}")


COMMAND_WORDS_MARK = "# command words of the built-in library and the wake words"


def command_words() -> set[str]:
    from skill.core.intents import grammar_words
    from skill.library.loader import load_library

    return set(grammar_words(load_library().library, "coach"))


def pocketsphinx_version() -> str:
    from importlib.metadata import version

    return version("pocketsphinx")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
