"""Vosk command recognition: a closed grammar of command phrases, plus an unknown-word sink.

Why a closed grammar: a free decode of a TV or a sentence to someone else produces words,
and words can look like commands. With a grammar the decoder can only output command phrases
or the model's unknown-word token, so everything that is not a command has a cheap place to
go; what remains is rejected by word confidence (Vosk's per-word MBR posteriors) and by
requiring that the whole utterance is exactly one command phrase.

Latency: Vosk decides at an endpoint (trailing silence); the shipped model.conf waits 0.5 s
or more. We run Vosk on an overlay of the model folder (symlinks plus a rewritten
conf/model.conf) with shorter trailing-silence rules, and stop/pause may act on a partial
result that has stayed the same for `STABLE_PARTIAL_S` of audio.

Barge-in: while the coach speaks, its voice and the person's "stop" merge into one utterance
that is never a single command phrase; `coach_speaking(True)` lets a confidently heard
stop/pause word inside it count (`spot`). The EchoGate after the engine then drops
what the coach's own words produced.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.core.events import Command
from skill.core.intents import supports
from skill.errors import ModelError
from skill.speech_in.asr import SAMPLE_RATE, Hearing
from skill.speech_in.framer import live_start
from skill.speech_in.wake_word import unknown_words_error

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.core.exercise import Library

ENGINE_NAME = "vosk"

# A word whose Vosk confidence (posterior among the grammar's competitors, [unk] included) is
# below this is doubtful and the utterance is rejected. Measured on the Korean model with
# espeak-ng at three speeds: right words score 1.0; words forced onto a command by other
# speech mostly score 0.35-0.89.
MIN_WORD_CONF = 0.90
# stop/pause act on a one-word partial result once it has not changed for this much audio.
# This matters when speech goes on (stop said over the coach's voice): then no endpoint
# comes. At 0.12 s a sentence's first word fired early on the Korean test set; 0.2 s did not.
STABLE_PARTIAL_S = 0.2
# ... and only if its word ended at most this long ago. Vosk sometimes shows, after a whole
# sentence, a partial holding just its first word (which ended long before): not a command.
EARLY_MAX_AGE_S = 0.5
# Verification: Vosk's grammar mode returns words outside the grammar as grammar words with
# confidence 1.0 (vosk-api issues #741, #1339, #2011), so its confidence alone cannot reject
# "yes" forced onto "next". A second recognizer decodes the same audio freely with the
# model's own language model; a command counts only when that transcript, around the
# command's words, has them in order with at most VERIFY_EXTRA_WORDS others.
VERIFY_EXTRA_WORDS = 2
VERIFY_MARGIN_S = 0.3  # free words this close to the command's words belong to it
# Commands allowed to act on a stable partial: the ones that stop something (safety first).
EARLY_COMMANDS = frozenset({"stop", "pause"})
# While the coach speaks, its voice merges with the person's into one long utterance, so the
# whole-utterance rule cannot pass "stop". Then a stop/pause word heard with at least this
# confidence among other words counts (barge-in). Measured on the Korean model with espeak-ng
# (3 coach sentences at half level, alone): the highest stop/pause word confidence was 0.88;
# "stop" said over a coach at 0.2 level was heard at 1.0 in 5 of 6 mixes.
SPOT_MIN_CONF = 0.95
# Trailing silence that ends an utterance (Kaldi endpoint rule 2: after a confident decode).
# The stock small models use 0.5 s; commands are short, so less is enough. None keeps the stock.
# Measured on the Korean model (20 espeak-ng command clips, 18 sentences; 2-core x86), the
# time from the end of the words to the decision, p50 / p95 in ms, by trailing silence:
# stock 926 / 1056, 0.2 s 667 / 759, 0.1 s 592 / 676, 0.05 s 490 / 601; accuracy 1.0 and no
# false accepts at each. 0.2 s keeps room for the short pauses inside multi-word phrases
# ("start ... upper back").
ENDPOINT_TRAILING_SILENCE_S = 0.2
# Audio is given to Vosk in pieces of this length, so endpoints and partials are timely (and
# fall at the same points however the caller chunks the stream).
FEED_S = 0.04
FEED_SAMPLES = round(FEED_S * SAMPLE_RATE)
# Vosk hears every sample with this fixed noise added, of Kaldi's dither (a 1-unit Gaussian)
# but the same every time, from where its recognizer started (see undithered_conf): without
# any, digital silence (a padded file, the gaps in a synthesized voice) gives features of
# log(0) that the model never met in training.
DITHER_SEED = 0
DITHER_SAMPLES = SAMPLE_RATE  # one second, repeated


@functools.cache
def _dither_table() -> npt.NDArray[np.float64]:
    import numpy as np

    table: npt.NDArray[np.float64] = np.random.default_rng(DITHER_SEED).normal(
        0.0, 1.0, DITHER_SAMPLES
    )
    return table


def dithered(frame: npt.NDArray[np.int16], position: int) -> npt.NDArray[np.int16]:
    """`frame` plus the fixed dither from `position` (samples since the recognizer began)."""
    import numpy as np

    table = _dither_table()
    index = (position + np.arange(len(frame))) % len(table)
    out = np.round(frame.astype(np.float64) + table[index])
    return np.clip(out, -32768, 32767).astype(np.int16)


# Silence a fresh recognizer hears before its first sound: as after a pause, so its
# adaptation to the voice does not begin on the words.
WARM_UP_S = 0.48
# At the stream's end, silence is given for at most this long (past every endpoint rule of
# the tuned conf) for Vosk to end the utterance as it would in a pause.
FLUSH_S = 1.2
# Names models use for the unknown word: English models "[unk]", others "<UNK>" or "<unk>".
UNK_TOKENS = ("[unk]", "<unk>", "<UNK>")

SETUP_HINT = (
    "run `stretch-coach setup` to download the English model, or pass --model PATH "
    "(or set 'model' in the config) to an unpacked Vosk model folder"
)
REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")


def check_model_dir(model_dir: Path) -> Path:
    """Raise ModelError unless `model_dir` looks like an unpacked Vosk model."""
    if not model_dir.exists():
        raise ModelError(f"no Vosk model at {model_dir}: {SETUP_HINT}")
    if model_dir.is_file():
        if model_dir.suffix == ".zip":
            raise ModelError(
                f"{model_dir} is a zip file: unpack it with "
                f"`stretch-coach setup --model-zip {model_dir}`, or pass the unpacked folder"
            )
        raise ModelError(f"{model_dir} is a file, not a Vosk model folder: {SETUP_HINT}")
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelError(
            f"{model_dir} is not a complete Vosk model (missing {', '.join(missing)}): {SETUP_HINT}"
        )
    return model_dir


def tuned_conf(conf_text: str, trailing_silence_s: float | None) -> str:
    """model.conf with endpoint rules 2-4 shortened: rule 2 to the given silence, 3-4 scaled
    (None: as it is)."""
    if trailing_silence_s is None:
        return conf_text
    lines = [
        line
        for line in conf_text.splitlines()
        if not re.match(r"--endpoint\.rule[234]\.min-trailing-silence=", line.strip())
    ]
    for rule, factor in ((2, 1.0), (3, 2.0), (4, 4.0)):
        lines.append(f"--endpoint.rule{rule}.min-trailing-silence={trailing_silence_s * factor:g}")
    return "\n".join(lines) + "\n"


def undithered_conf(conf_text: str) -> str:
    """A feature conf (mfcc.conf) without Kaldi's dither. Its default (1.0) adds fresh random
    noise to every frame, so the same recording got another confidence on every run
    (measured on the Korean model: 0.79, then 0.87, for the same samples) and a verdict could
    flip. The engine adds a fixed dither of its own instead (dithered)."""
    lines = [line for line in conf_text.splitlines() if not line.strip().startswith("--dither")]
    return "\n".join([*lines, "--dither=0"]) + "\n"


FEATURE_CONFS = ("mfcc.conf", "fbank.conf")  # whichever the model has, it has no dither here


def overlay_model_dir(model_dir: Path, cache_root: Path, trailing_silence_s: float | None) -> Path:
    """A folder that is `model_dir` (by symlinks) except for conf/model.conf with tuned
    endpoint rules and the feature conf (FEATURE_CONFS) without dither.

    Vosk 0.3.45 reads both only from the model folder, and the model may be read-only
    (a package, /usr/share); an overlay of symlinks costs nothing and leaves the model as is.
    """
    conf_dir = model_dir / "conf"
    written = {"model.conf": tuned_conf((conf_dir / "model.conf").read_text(), trailing_silence_s)}
    for name in FEATURE_CONFS:
        if (conf_dir / name).is_file():
            written[name] = undithered_conf((conf_dir / name).read_text())
    key = hashlib.sha256(f"{model_dir.resolve()}\n{sorted(written.items())}".encode())
    target = cache_root / f"vosk-overlay-{key.hexdigest()[:16]}"
    if (target / "conf" / "model.conf").is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".overlay-", dir=cache_root))
    for entry in model_dir.resolve().iterdir():
        if entry.name != "conf":
            (tmp / entry.name).symlink_to(entry)
    (tmp / "conf").mkdir()
    for entry in conf_dir.resolve().iterdir():
        if entry.name not in written:
            (tmp / "conf" / entry.name).symlink_to(entry)
    for name, text in written.items():
        (tmp / "conf" / name).write_text(text)
    try:
        os.replace(tmp, target)
    except OSError:  # another process made it first: theirs is identical
        _remove_tree(tmp)
    return target


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@functools.lru_cache(maxsize=2)
def load_model(model_dir: Path) -> Any:
    """Load (once per process) a checked Vosk model; loading takes seconds on a Pi."""
    import vosk

    vosk.SetLogLevel(-1)
    check_model_dir(model_dir)
    try:
        return vosk.Model(str(model_dir))
    except Exception as err:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(
            f"Vosk could not load the model at {model_dir} ({err}): {SETUP_HINT}"
        ) from err


def unknown_token(model: Any) -> str | None:
    """The model's unknown-word symbol, or None if it has none."""
    for token in UNK_TOKENS:
        if model.vosk_model_find_word(token) >= 0:
            return token
    return None


def split_known(model: Any, phrases: Iterable[str]) -> tuple[list[str], list[str]]:
    """(phrases whose words the model knows, words it does not know)."""
    known: list[str] = []
    missing: set[str] = set()
    for phrase in phrases:
        absent = [w for w in phrase.split() if model.vosk_model_find_word(w) < 0]
        missing.update(absent)
        if not absent:
            known.append(phrase)
    return known, sorted(missing)


@dataclass(frozen=True)
class Verdict:
    command: Command | None
    confidence: float
    reason: str


def judge(
    words: Sequence[tuple[str, float]],
    unk: str | None,
    parse: Callable[[str], Command | None],
    min_conf: float = MIN_WORD_CONF,
) -> Verdict:
    """Accept only one whole command phrase whose every word is confidently heard."""
    if not words:
        return Verdict(None, 0.0, "nothing heard")
    confidence = min(conf for _, conf in words)
    if unk is not None and any(w == unk for w, _ in words):
        return Verdict(None, confidence, "speech outside the command phrases")
    doubtful = [(w, c) for w, c in words if c < min_conf]
    if doubtful:
        word, conf = doubtful[0]
        return Verdict(None, confidence, f"doubtful word {word!r} ({conf:.2f} < {min_conf})")
    text = " ".join(w for w, _ in words)
    command = parse(text)
    if command is None:
        return Verdict(None, confidence, "not one command phrase")
    return Verdict(command, confidence, "accepted")


def spot(
    words: Sequence[tuple[str, float]],
    parse: Callable[[str], Command | None],
    early_commands: frozenset[str] = EARLY_COMMANDS,
    min_conf: float = SPOT_MIN_CONF,
) -> tuple[str, Verdict] | None:
    """(word, verdict) when exactly one stop/pause word stands out among other speech."""
    found: dict[str, tuple[str, Command, float]] = {}
    for word, conf in words:
        command = parse(word) if conf >= min_conf else None
        if command is not None and command.name in early_commands:
            found.setdefault(command.name, (word, command, conf))
    if len(found) != 1:
        return None
    word, command, conf = found.popitem()[1]
    return word, Verdict(command, conf, "stop/pause heard over the coach's voice")


def early_verdict(
    partial: dict[str, Any],
    stable_s: float,
    now_s: float,
    unk: str | None,
    parse: Callable[[str], Command | None],
    early_commands: frozenset[str] = EARLY_COMMANDS,
    min_conf: float = MIN_WORD_CONF,
) -> Verdict | None:
    """An accepting verdict when a partial result may act now (stop/pause), else None.

    `partial` is Vosk's PartialResult with SetPartialWords(True); `stable_s` is how long it
    has not changed; `now_s` is the stream time on the recognizer's own clock.
    """
    found = partial.get("partial_result", [])
    if len(found) != 1 or stable_s < STABLE_PARTIAL_S:
        return None
    if now_s - float(found[0]["end"]) > EARLY_MAX_AGE_S:
        return None
    verdict = judge(_words({"result": found}), unk, parse, min_conf)
    if verdict.command is None or verdict.command.name not in early_commands:
        return None
    return verdict


def _words(result: dict[str, Any]) -> list[tuple[str, float]]:
    """(word, confidence) pairs of a Vosk result with SetWords(True)."""
    if "result" in result:
        return [(str(w["word"]), float(w.get("conf", 1.0))) for w in result["result"]]
    return [(w, 1.0) for w in str(result.get("text", "")).split()]


def _phrase_text(item: Any) -> str:
    """A phrase from intents.command_phrases: a string, or a (phrase, ...) pair."""
    return str(item if isinstance(item, str) else item[0])


def default_phrases(library: Library, wake_word: str | None) -> list[str]:
    from skill.core import intents

    phrases = sorted({_phrase_text(p).lower() for p in intents.command_phrases(library)})
    if wake_word:
        return [f"{wake_word.lower()} {p}" for p in phrases]
    return phrases


def default_parse(library: Library, wake_word: str | None) -> Callable[[str], Command | None]:
    from skill.core import intents

    table = intents.command_phrases(library)

    def parse(text: str) -> Command | None:
        return intents.parse_command(text, library, wake_word=wake_word, table=table)

    return parse


class FreeDecode:
    """The model's own free decode of the stream, kept as timed words for verification."""

    def __init__(self, model: Any) -> None:
        import vosk

        self._rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        self._rec.SetWords(True)
        self._rec.SetPartialWords(True)
        self._done: list[tuple[str, float, float]] = []  # (word, start s, end s)
        self._partial: list[tuple[str, float, float]] = []

    def accept(self, audio: bytes) -> None:
        if self._rec.AcceptWaveform(audio):
            self._done = [*self._done[-50:], *_timed(json.loads(self._rec.Result()), "result")]
            self._partial = []
        else:
            self._partial = _timed(json.loads(self._rec.PartialResult()), "partial_result")

    def finish(self) -> None:
        """End the free decode's utterance where the grammar's ended (its own endpoint can
        come later): both then speak of the same audio."""
        self._done = [*self._done[-50:], *_timed(json.loads(self._rec.FinalResult()), "result")]
        self._partial = []

    def text_around(self, start_s: float, end_s: float) -> str:
        """The free transcript of the words overlapping [start_s, end_s] (with a margin)."""
        lo, hi = start_s - VERIFY_MARGIN_S, end_s + VERIFY_MARGIN_S
        return " ".join(w for w, s, e in [*self._done, *self._partial] if e > lo and s < hi)


def _timed(result: dict[str, Any], key: str) -> list[tuple[str, float, float]]:
    return [
        (str(w["word"]).lower(), float(w["start"]), float(w["end"]))
        for w in result.get(key, [])
        if "start" in w
    ]


def _span(result: dict[str, Any], key: str = "result") -> tuple[float, float] | None:
    timed = _timed(result, key)
    return (timed[0][1], timed[-1][2]) if timed else None


class VoskEngine:
    """The Engine protocol on Vosk with a closed grammar (see the module docstring)."""

    name = ENGINE_NAME

    def __init__(
        self,
        model_dir: Path,
        library: Library | None = None,
        *,
        phrases: Sequence[str] | None = None,
        parse: Callable[[str], Command | None] | None = None,
        wake_word: str | None = None,
        early_commands: frozenset[str] = EARLY_COMMANDS,
        min_word_conf: float = MIN_WORD_CONF,
        trailing_silence_s: float | None = ENDPOINT_TRAILING_SILENCE_S,
        cache_root: Path | None = None,
        verify: bool = True,
    ) -> None:
        if (phrases is None or parse is None) and library is None:
            raise ValueError("VoskEngine needs a library, or both phrases and parse")
        self.model_dir = check_model_dir(model_dir)
        from skill import paths

        root = cache_root or paths.cache_dir()
        model_dir = overlay_model_dir(model_dir, root, trailing_silence_s)
        self.model = load_model(model_dir)
        self.unk = unknown_token(self.model)
        wanted = phrases if phrases is not None else default_phrases(library, wake_word)  # type: ignore[arg-type]
        self.phrases, self.missing_words = split_known(self.model, wanted)
        wake = wake_word.lower().split() if wake_word else []
        if unknown_wake := [w for w in wake if w in self.missing_words]:
            raise unknown_words_error(wake_word or "", unknown_wake)
        if not self.phrases:
            raise ModelError(
                f"the Vosk model at {self.model_dir} knows none of the command words "
                f"(e.g. {', '.join(self.missing_words[:5])}): is it an English model? {SETUP_HINT}"
            )
        self.parse = parse or default_parse(library, wake_word)  # type: ignore[arg-type]
        self.early_commands = early_commands
        self.min_word_conf = min_word_conf
        self.verify = verify
        self.grammar = json.dumps(
            [*self.phrases, *([self.unk] if self.unk else [])], ensure_ascii=False
        )
        self._fed = 0  # samples fed since the engine was made: the stream clock
        self._rec = self._new_recognizer()
        self._partial = ""
        self._partial_since = 0
        self._early_text = ""
        self._coach_active = False

    def coach_speaking(self, active: bool) -> None:
        """While true, stop/pause are also spotted inside longer utterances (barge-in).

        Only the caller knows when the speaker plays; keep the EchoGate after this engine,
        which drops stop/pause when the coach's own sentence contains them.
        """
        self._coach_active = active

    def coach_audio(self, pcm: npt.NDArray[np.int16] | None, rate: int) -> None:
        """Nothing to do: Vosk has no echo reference; the EchoGate compares the words."""

    def forget_room(self) -> None:
        """Nothing to do: Vosk keeps no noise estimate across reset()."""

    def cut_speech(self) -> None:
        """Vosk keeps no room estimate to spare, so forgetting the speech is a reset."""
        self.reset()

    def _new_recognizer(self) -> Any:
        import numpy as np
        import vosk

        self._given = 0  # samples given to this recognizer: Vosk's word times count them
        self._open = False  # sound given since its last result: an utterance may be going on
        self._pending: npt.NDArray[np.int16] = np.zeros(0, np.int16)  # short of a piece
        rec = vosk.KaldiRecognizer(self.model, SAMPLE_RATE, self.grammar)
        rec.SetWords(True)
        rec.SetPartialWords(True)
        # The free decode restarts with it, so both count word times from the same origin.
        self._free = FreeDecode(self.model) if self.verify else None
        return rec

    @property
    def stream_time_s(self) -> float:
        return self._fed / SAMPLE_RATE

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
        """Digital silence before a fresh recognizer's first sound (a padded file; a
        microphone never gives it) is not given to Vosk: the recognizer hears a fixed
        WARM_UP_S of silence instead, then the sound from its first sample, in pieces of
        FEED_S however the caller chunks the stream, so a recording gets the same verdict
        however much silence surrounds it."""
        import numpy as np

        out: list[Hearing] = []
        self._fed += len(pcm)
        if not self._given:
            pcm = pcm[live_start(pcm) :]
            if not len(pcm):
                return out
            for _ in range(round(WARM_UP_S / FEED_S)):
                out += self._give(np.zeros(FEED_SAMPLES, np.int16))
        self._pending = np.concatenate([self._pending, pcm])
        while len(self._pending) >= FEED_SAMPLES:
            piece, self._pending = np.split(self._pending, [FEED_SAMPLES])
            out += self._give(piece)
        return out

    def _give(self, piece: npt.NDArray[np.int16]) -> list[Hearing]:
        audio = dithered(piece, self._given).astype("<i2").tobytes()
        self._given += len(piece)
        self._open = self._open or live_start(piece) < len(piece)
        if self._free is not None:
            self._free.accept(audio)  # first: the grammar's decision may need it
        if self._rec.AcceptWaveform(audio):
            self._open = False
            return self._final(json.loads(self._rec.Result()))
        return self._on_partial(json.loads(self._rec.PartialResult()))

    def flush(self) -> list[Hearing]:
        """The stream ended: as if silence followed, until Vosk's endpoint (at most
        FLUSH_S), so a recording that ends on its last word is heard as with silence after it."""
        import numpy as np

        out: list[Hearing] = []
        if self._given:
            rest = np.zeros(FEED_SAMPLES, np.int16)
            rest[: len(self._pending)] = self._pending
            out += self._give(rest)
            for _ in range(round(FLUSH_S / FEED_S)):
                if not self._open:
                    break
                out += self._give(np.zeros(FEED_SAMPLES, np.int16))
        out += self._final(json.loads(self._rec.FinalResult()))
        self._rec = self._new_recognizer()
        return out

    def reset(self) -> None:
        """Forget pending audio and restart the stream clock (audio_end_s counts from here)."""
        # Vosk's Reset() keeps decoded audio in some cases (measured: a half word came back
        # as a result afterwards); a new recognizer costs under a millisecond.
        self._fed = 0
        self._rec = self._new_recognizer()
        self._partial, self._partial_since, self._early_text = "", 0, ""

    def _hearing(self, text: str, verdict: Verdict, final: bool) -> Hearing:
        return Hearing(
            text=text,
            command=verdict.command,
            confidence=verdict.confidence,
            engine=self.name,
            final=final,
            reason=verdict.reason,
            audio_end_s=self.stream_time_s,
        )

    def _final(self, result: dict[str, Any]) -> list[Hearing]:
        words = _words(result)
        early, self._early_text = self._early_text, ""
        self._partial, self._partial_since = "", self._fed
        if not words:
            return []
        text = " ".join(w for w, _ in words)
        verdict = judge(words, self.unk, self.parse, self.min_word_conf)
        spotted = spot(words, self.parse, self.early_commands) if self._coach_active else None
        if verdict.command is None and spotted is not None:
            text, verdict = spotted
        if early and text == early:
            verdict = Verdict(None, verdict.confidence, "already acted on the partial result")
        elif spotted is None:
            verdict = self._verified(text, verdict, _span(result))
        return [self._hearing(text, verdict, final=True)]

    def _verified(
        self, text: str, verdict: Verdict, span: tuple[float, float] | None, final: bool = True
    ) -> Verdict:
        """The verdict, rejected when the free decode around the words disagrees. Not
        asked for what was spotted over the coach: the free decode hears the coach too."""
        if verdict.command is None or self._free is None or span is None:
            return verdict
        if final:
            self._free.finish()
        heard = self._free.text_around(*span)
        if supports(heard, text, VERIFY_EXTRA_WORDS):
            return verdict
        return Verdict(None, verdict.confidence, f"the free decode heard {heard or 'nothing'!r}")

    def _on_partial(self, result: dict[str, Any]) -> list[Hearing]:
        text = str(result.get("partial", ""))
        if text != self._partial:
            self._partial, self._partial_since = text, self._fed
            return []
        if not text or self._early_text == text:
            return []
        verdict = early_verdict(
            result,
            stable_s=(self._fed - self._partial_since) / SAMPLE_RATE,
            now_s=self._given / SAMPLE_RATE,
            unk=self.unk,
            parse=self.parse,
            early_commands=self.early_commands,
            min_conf=self.min_word_conf,
        )
        if verdict is None:
            return []
        if not self._coach_active:
            verdict = self._verified(text, verdict, _span(result, "partial_result"), final=False)
            if verdict.command is None:
                return []  # the endpoint will decide, with the free decode further on
        self._early_text = text
        return [self._hearing(text, verdict, final=False)]
