"""English fallback recognizer: PocketSphinx with a closed command grammar and designed rejection.

A closed grammar forces every sound onto some command, so the grammar result alone means
nothing. The pipeline here:
1. A VAD endpointer cuts the stream into speech segments; silence costs almost no CPU.
2. Each segment is decoded twice, in step, frame by frame: by the command grammar (which
   command would it be?) and by the bundled general English language model (what was said?).
3. The command is accepted only when the free decode agrees with it: it contains the
   command's words and hardly anything else. Ordinary speech, the TV and the coach's own
   sentences decode freely as other words, so they are rejected. Measured on the test
   corpus this trades accuracy for zero false accepts, which is the order of importance.
   Segments longer than any command are abandoned without decoding the rest.
Decisions are made when the endpointer sees the end of speech (~0.3 s of silence).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.asr import SAMPLE_RATE, Hearing
from skill.intents import command_phrases, grammar_words, normalize, parse_command
from skill.model import Library

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

ENGINE = "pocketsphinx"


@dataclass(frozen=True)
class Tuning:
    """Rejection and endpointing settings, measured on the test corpus (see tests/speech_corpus.py).

    max_extra_words: words the free decode may have beyond the command's.
    min_shared: fraction of a multi-word command's words the free decode must contain.
    """

    max_extra_words: int = 1
    min_shared: float = 0.6
    min_speech_s: float = 0.2
    max_speech_s: float = 2.8  # whole segment, pre-roll and trailing silence included
    end_silence_s: float = 0.3
    preroll_s: float = 0.15
    start_frames: tuple[int, int] = (2, 3)  # speech in 2 of the last 3 frames starts a segment
    vad_mode: int = 2
    lw: float = 6.5


def model_dir() -> Path:
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us"


def jsgf_grammar(phrases: Sequence[str], wake_word: str | None = None) -> str:
    """JSGF: exactly one of `phrases`, after the wake word when there is one."""
    body = " | ".join(sorted(set(phrases)))
    prefix = f"{normalize(wake_word)} " if wake_word else ""
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {prefix}( {body} );\n"


def write_dictionary(words: Sequence[str], path: Path) -> None:
    """A small pronunciation dictionary with only the grammar's words: fast to load on a Pi."""
    wanted = set(words)
    lines = []
    with (model_dir() / "cmudict-en-us.dict").open(encoding="utf-8") as f:
        for line in f:
            head = line.split(" ", 1)[0]
            if head.split("(", 1)[0] in wanted:
                lines.append(line)
    missing = wanted - {line.split(" ", 1)[0].split("(", 1)[0] for line in lines}
    if missing:
        raise ValueError(f"no English pronunciation for: {', '.join(sorted(missing))}")
    path.write_text("".join(lines), encoding="utf-8")


def agrees(candidate: str, said: str, tuning: Tuning) -> bool:
    """Does the free decode back up the grammar's candidate? Whole words only.

    A one-word command must be exactly what the free decode heard; a longer one must share
    `min_shared` of its words with a free decode at most `max_extra_words` longer.
    """
    wanted, heard = candidate.split(), said.split()
    if len(wanted) == 1:  # "Next: press-up." must not pass as "next"
        return heard == wanted
    if not heard or len(heard) > len(wanted) + tuning.max_extra_words:
        return False
    return sum(word in heard for word in wanted) / len(wanted) >= tuning.min_shared


def free_decoder(config: dict[str, Any]) -> Any:
    """PocketSphinx with the bundled general English LM, to check what was really said."""
    import pocketsphinx

    return pocketsphinx.Decoder(
        **config,
        lm=str(model_dir() / "en-us.lm.bin"),
        # Wider beams than the defaults: short commands are lost to pruning otherwise.
        beam=1e-40,
        wbeam=1e-30,
        pbeam=1e-40,
        maxhmmpf=3000,
    )


class SphinxEngine:
    """The Engine (skill.asr) on PocketSphinx: VAD segments, grammar checked by a free decode."""

    name = ENGINE

    def __init__(
        self,
        library: Library,
        wake_word: str | None = None,
        tuning: Tuning | None = None,
        work_dir: Path | None = None,
    ) -> None:
        import tempfile

        import pocketsphinx

        self.library = library
        self.wake_word = wake_word
        self.tuning = tuning or Tuning()
        self._table = command_phrases(library)
        words = grammar_words(library, wake_word)
        self._tmp = tempfile.TemporaryDirectory(prefix="stretch-coach-sphinx-", dir=work_dir)
        dict_path = Path(self._tmp.name) / "commands.dict"
        write_dictionary(words, dict_path)
        common: dict[str, Any] = {
            "hmm": str(model_dir() / "en-us"),
            "dict": str(dict_path),
            "logfn": "/dev/null",
            "samprate": SAMPLE_RATE,
        }
        grammar = pocketsphinx.Decoder(lm=None, lw=self.tuning.lw, **common)
        grammar.add_jsgf_string("commands", jsgf_grammar(list(self._table), wake_word))
        grammar.activate_search("commands")
        self._grammar = grammar
        # The free decoder (the whole English dictionary and LM) loads in the background:
        # it is first needed at the end of the first spoken segment, not at startup.
        free_config = common | {"dict": str(model_dir() / "cmudict-en-us.dict")}
        self._free_loader = ThreadPoolExecutor(max_workers=1).submit(free_decoder, free_config)
        self._vad = pocketsphinx.Vad(self.tuning.vad_mode, SAMPLE_RATE)
        self._frame_samples = self._vad.frame_bytes // 2
        self.reset()

    # --- Engine interface ---------------------------------------------------------------

    def reset(self) -> None:
        import numpy as np

        self._pending: npt.NDArray[np.int16] = np.zeros(0, dtype=np.int16)
        self._fed = 0  # samples seen
        self._end_decoders()
        self._preroll: list[bytes] = []
        self._recent: list[bool] = []  # VAD votes of the last few frames
        self._silent_frames = 0
        self._seg_samples = 0
        self._too_long = False

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
        import numpy as np

        data = np.concatenate([self._pending, np.asarray(pcm, dtype=np.int16).reshape(-1)])
        n = self._frame_samples
        usable = len(data) - len(data) % n
        self._pending = data[usable:]
        out: list[Hearing] = []
        for start in range(0, usable, n):
            self._fed += n
            hearing = self._frame(data[start : start + n].tobytes())
            if hearing is not None:
                out.append(hearing)
        return out

    def flush(self) -> list[Hearing]:
        import numpy as np

        tail = np.zeros(
            int(self.tuning.end_silence_s * SAMPLE_RATE) + self._frame_samples, np.int16
        )
        out = self.accept(tail)
        if self._in_utt:
            out.append(self._decide())
        return out

    # --- pipeline -----------------------------------------------------------------------

    def _frame(self, frame: bytes) -> Hearing | None:
        """Hysteresis around the frame VAD: start on a few speech frames, end on a silence run."""
        speech = self._vad.is_speech(frame)
        frame_s = self._frame_samples / SAMPLE_RATE
        if not self._in_utt:
            self._preroll = [*self._preroll, frame][-int(self.tuning.preroll_s / frame_s) :]
            self._recent = [*self._recent, speech][-self.tuning.start_frames[1] :]
            if sum(self._recent) >= self.tuning.start_frames[0]:
                preroll = self._preroll
                self._start_utt()
                for past in preroll:
                    self._feed(past)
            return None
        self._feed(frame)
        self._silent_frames = 0 if speech else self._silent_frames + 1
        if self._silent_frames * frame_s >= self.tuning.end_silence_s:
            return self._decide()
        return None

    def _start_utt(self) -> None:
        self._end_decoders()
        self._grammar.start_utt()
        self._segment: list[bytes] = []
        self._in_utt = True
        self._seg_samples = 0
        self._silent_frames = 0
        self._too_long = False
        self._preroll = []
        self._recent = []

    def _feed(self, speech: bytes) -> None:
        self._seg_samples += len(speech) // 2
        if self._too_long:
            return
        if self._seg_samples > self.tuning.max_speech_s * SAMPLE_RATE:
            self._too_long = True  # longer than any command: stop spending CPU on it
            return
        self._grammar.process_raw(speech, no_search=False, full_utt=False)
        self._segment.append(speech)

    def _end_decoders(self) -> None:
        if getattr(self, "_in_utt", False):
            self._grammar.end_utt()
        self._in_utt = False

    def _decide(self) -> Hearing:
        self._grammar.end_utt()
        self._in_utt = False
        end_s = self._fed / SAMPLE_RATE
        seconds = self._seg_samples / SAMPLE_RATE - self.tuning.end_silence_s
        if self._too_long:
            return self._reject("", 0.0, end_s, f"speech {seconds:.1f}s is longer than any command")
        hyp = self._grammar.hyp()
        text = hyp.hypstr if hyp is not None else ""
        detail = f"{seconds:.2f}s of speech"
        if not text:
            return self._reject(text, 0.0, end_s, f"no path through the grammar ({detail})")
        said = self._free_decode()
        if not agrees(text, said, self.tuning):
            return self._reject(text, 0.0, end_s, f"free decode heard {said!r} ({detail})")
        if seconds < self.tuning.min_speech_s:
            return self._reject(text, 0.0, end_s, f"too short ({detail})")
        confidence = float(hyp.prob) if hyp.prob else 1.0
        command = parse_command(text, self.library, self.wake_word, self._table, confidence)
        if command is None:
            return self._reject(text, confidence, end_s, f"not a whole command phrase ({detail})")
        return Hearing(text, command, confidence, ENGINE, True, f"accepted ({detail})", end_s)

    def _free_decode(self) -> str:
        """Decode the whole segment at once: batch cepstral normalisation is far more accurate
        on a short command than the live estimate a fresh streaming decoder starts from."""
        free = self._free_loader.result()
        free.start_utt()
        free.process_raw(b"".join(self._segment), no_search=False, full_utt=True)
        free.end_utt()
        hyp = free.hyp()
        return normalize(hyp.hypstr) if hyp is not None else ""

    def _reject(self, text: str, confidence: float, end_s: float, reason: str) -> Hearing:
        return Hearing(text, None, confidence, ENGINE, True, f"rejected: {reason}", end_s)
