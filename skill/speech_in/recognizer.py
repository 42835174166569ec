"""The recognizer front: which engine runs, the echo/barge-in gate, and recognizing a WAV file.

Vosk runs when an English model is installed; otherwise the PocketSphinx fallback, said once
in the log together with the command that installs the model. The gate is separate from
the engines because it needs to know what the speaker is playing, which only the service knows.
"""

from __future__ import annotations

import logging
import re
import shlex
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.core.intents import BARGE_IN_COMMANDS
from skill.errors import UserError
from skill.hardware.wav import read_wav
from skill.speech_in.asr import CHUNK_S, SAMPLE_RATE, Engine, Hearing

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.core.exercise import Library

ENGLISH_MODEL_NAME = "vosk-model-small-en-us-0.15"
INSTALL_HINT = "run `stretch-coach setup` to download the English Vosk model (about 40 MB)"
# After playback ends, room echo and the recognizer's lookback still carry the coach's voice.
ECHO_TAIL_S = 0.3
# Engines decide after the words end (Vosk: 0.2 s trailing silence plus ~0.3 s of acoustic
# context), so a hearing of the coach's last words arrives this much after playback ends.
DECISION_DELAY_S = 0.5
# Measured on the fallback (2026-12-02, 270 "coach, ..." clips): over noise at 20 dB SNR it
# heard 17% of commands, against 67% without a wake word, and 9 were wrong commands.
WAKE_WORD_ON_FALLBACK = (
    "the wake word does not help the PocketSphinx fallback: over noise it heard 17% of"
    " commands instead of 67%, with more wrong ones; set wake_word: null, or " + INSTALL_HINT
)


def default_model_dir() -> Path:
    from skill import paths

    return paths.data_dir() / ENGLISH_MODEL_NAME


def find_model(model: Path | None) -> Path | None:
    """An explicitly given model (must exist: checked by the engine), else the installed one."""
    if model is not None:
        return model
    installed = default_model_dir()
    return installed if installed.is_dir() else None


_fallback_logged = False


def open_engine(
    library: Library,
    model: Path | None,
    log: logging.Logger,
    wake_word: str | None = None,
) -> Engine:
    """Vosk on the given or installed English model, else PocketSphinx (logged once); behind
    a trained wake word's detector when `wake_word` names one (skill.speech_in.wake_word)."""
    from skill.speech_in import wake_word as trained

    if trained.trained_model(wake_word) is not None:
        assert wake_word is not None
        return trained.wrap(open_engine(library, model, log), wake_word)
    global _fallback_logged
    found = find_model(model)
    if found is not None:
        from skill.speech_in.asr_vosk import VoskEngine

        engine = VoskEngine(found, library, wake_word=wake_word)
        _name_missing_words(log, f"the Vosk model at {found}", engine.missing_words)
        return engine
    if not _fallback_logged:
        log.warning(
            "no English Vosk model at %s: using the PocketSphinx fallback (less accurate); %s",
            default_model_dir(),
            INSTALL_HINT,
        )
        _fallback_logged = True
    if wake_word:
        log.warning("%s", WAKE_WORD_ON_FALLBACK)
    from skill import paths
    from skill.speech_in.asr_sphinx import SphinxEngine

    fallback = SphinxEngine(
        library, wake_word=wake_word, cache_dir=paths.cache_dir() / "pocketsphinx"
    )
    _name_missing_words(log, "the PocketSphinx fallback", fallback.missing_words)
    return fallback


def _name_missing_words(log: logging.Logger, engine: str, missing: list[str]) -> None:
    if missing:
        log.warning(
            "%s does not know the words %s: phrases with them cannot be heard (a routine "
            "named with them can still be started from the phone page, or by an alias of "
            "common words in its file)",
            engine,
            ", ".join(missing),
        )


_WORD = re.compile(r"[\w']+")


def _stem(word: str) -> str:
    """Crude English stem so "Paused." matches "pause" and "stopping" matches "stop"."""
    word = word.strip("'")
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) >= 4 and word[-1] == word[-2]:  # stopp(ing) -> stop
        word = word[:-1]
    return word


def stems(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()))


@dataclass
class EchoGate:
    """Drops commands that come from the coach's own voice; lets stop/pause barge in.

    While the coach speaks (and for `tail_s` after), only barge-in commands pass, and not
    when their words occur in the sentence being spoken ("Say pause to rest" must not pause).
    Time is the stream time of the decision (`audio_end_s`), so the gate is pure and testable;
    the tail covers the acoustic echo plus how late engines decide after the words end.
    A hearing whose speech began before the coach's echo died away (`audio_start_s`, when
    the engine knows it) is gated the same way, however late it is decided: in a noisy room
    the fallback's segment can stay open well past the tail.
    """

    tail_s: float = ECHO_TAIL_S + DECISION_DELAY_S
    barge_in: frozenset[str] = BARGE_IN_COMMANDS
    _text: str | None = None
    _stems: frozenset[str] = field(default_factory=frozenset)
    _ended: float = float("-inf")  # when the coach last stopped speaking (inf: still speaking)

    def coach_speaking(self, text: str | None, now_s: float) -> None:
        """The speaker started `text` (None: it stopped) at stream time `now_s`."""
        if text is not None:
            self._text, self._stems, self._ended = text, stems(text), float("inf")
        elif self._text is not None:  # the sentence stays known for the tail
            self._text, self._ended = None, now_s

    def speaking(self, now_s: float) -> bool:
        return self._text is not None or now_s < self._ended + self.tail_s

    def check(self, hearing: Hearing, now_s: float | None = None) -> Hearing:
        """The hearing, or a copy with command None and the reason it was gated.

        `now_s`: the caller's stream clock at the decision, on the same clock as
        `coach_speaking`; default the hearing's own `audio_end_s` (engines restart it on reset).
        """
        command = hearing.command
        at = hearing.audio_end_s if now_s is None else now_s
        began = hearing.audio_start_s
        echo_until = self._ended + ECHO_TAIL_S
        over_coach = self.speaking(at) or (began is not None and began < echo_until)
        if command is None or not over_coach:
            return hearing
        if command.name not in self.barge_in:
            return _gated(hearing, f"'{command.name}' ignored while the coach speaks")
        if stems(hearing.text) & self._stems:
            return _gated(hearing, "the coach's own words")
        return hearing


def tell_coach_speaking(
    engine: Engine,
    gate: EchoGate,
    text: str | None,
    now_s: float,
    audio: tuple[npt.NDArray[np.int16], int] | None = None,
) -> None:
    """Both the gate and engines that spot barge-in words (Vosk) must know when the coach
    talks; engines that tell the person from the echo (the fallback) also what it plays:
    `audio` is the sentence sounding now and its sample rate (the same array while it plays)."""
    gate.coach_speaking(text, now_s)
    engine.coach_speaking(text is not None)
    pcm, rate = audio if audio is not None and text is not None else (None, 0)
    engine.coach_audio(pcm, rate)


@dataclass
class Listening:
    """The one listening step of the service, the demo and the evaluation: microphone audio
    through the engine, then every hearing through the echo gate, so a command reaches the
    player only when it is not the coach's own voice. Time is stream time (audio fed)."""

    engine: Engine
    gate: EchoGate = field(default_factory=EchoGate)
    fed_s: float = 0.0  # seconds of audio given to the engine

    def coach(
        self,
        text: str | None,
        audio: tuple[npt.NDArray[np.int16], int] | None = None,
        at_s: float | None = None,
    ) -> None:
        """What the coach is saying now (None: nothing) and the audio it plays."""
        now = self.fed_s if at_s is None else at_s
        tell_coach_speaking(self.engine, self.gate, text, now, audio)

    def hear(
        self,
        chunk: npt.NDArray[np.int16],
        coach_text: str | None,
        coach_audio: tuple[npt.NDArray[np.int16], int] | None = None,
    ) -> list[Hearing]:
        """One chunk heard while the coach says `coach_text`: the gated hearings."""
        self.coach(coach_text, coach_audio)
        self.fed_s += len(chunk) / SAMPLE_RATE
        return self.check(self.engine.accept(chunk))

    def check(self, hearings: Iterable[Hearing]) -> list[Hearing]:
        """The engine's hearings through the echo gate (a gated one has no command)."""
        return [self.gate.check(h) for h in hearings]


def _gated(hearing: Hearing, reason: str) -> Hearing:
    from dataclasses import replace

    return replace(hearing, command=None, reason=reason)


def to_16k(samples: npt.NDArray[np.int16], rate: int) -> npt.NDArray[np.int16]:
    import soxr

    if rate == SAMPLE_RATE:
        return samples
    out: npt.NDArray[np.int16] = soxr.resample(samples, rate, SAMPLE_RATE)
    return out


def decide(engine: Engine, pcm: npt.NDArray[np.int16]) -> tuple[list[Hearing], float]:
    """Feed audio as a stream, plus 0.5 s of silence so the endpoint comes; (hearings, s)."""
    import numpy as np

    step = int(CHUNK_S * SAMPLE_RATE)  # a file is fed as the microphone would feed it
    padded = np.concatenate([pcm, np.zeros(SAMPLE_RATE // 2, dtype=np.int16)])
    hearings: list[Hearing] = []
    started = time.perf_counter()
    for start in range(0, len(padded), step):
        hearings.extend(engine.accept(padded[start : start + step]))
    hearings.extend(engine.flush())
    return hearings, time.perf_counter() - started


def summarize(hearings: list[Hearing], engine: str, seconds: float) -> dict[str, Any]:
    """The CLI's JSON: the first accepted command, else the last thing heard (why not)."""
    chosen = next((h for h in hearings if h.command is not None), None)
    if chosen is None and hearings:
        chosen = hearings[-1]
    command = chosen.command if chosen else None
    return {
        "text": chosen.text if chosen else "",
        "command": command.name if command else None,
        "args": dict(command.args) if command else {},
        "confidence": round(chosen.confidence, 3) if chosen else 0.0,
        "engine": engine,
        "latency_ms": round(seconds * 1000, 1),
        "reason": chosen.reason if chosen else "nothing heard",
    }


# WAVE format tags (mmreg.h) a recording may carry; read_wav reads only 16-bit integer PCM.
PCM, EXTENSIBLE = 0x0001, 0xFFFE
FORMAT_NAMES = {
    PCM: "integer PCM",
    0x0002: "MS ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0055: "MP3",
}


@dataclass(frozen=True)
class WavFormat:
    """What a WAV file's fmt chunk says; `tag` is the subformat's under WAVE_FORMAT_EXTENSIBLE."""

    tag: int
    channels: int
    rate: int
    bits: int
    extensible: bool = False

    @property
    def readable(self) -> bool:
        return self.tag == PCM and self.bits == 16 and not self.extensible

    def __str__(self) -> str:
        name = FORMAT_NAMES.get(self.tag, "an unknown encoding")
        channels = "mono" if self.channels == 1 else f"{self.channels} channels"
        tag = (
            f"WAVE_FORMAT_EXTENSIBLE: format tag 0xfffe, subformat {self.tag:#06x}"
            if self.extensible
            else f"format tag {self.tag:#06x}"
        )
        return f"{channels}, {self.bits}-bit {name} ({tag}), {self.rate} Hz"


def wav_format(path: Path) -> WavFormat | None:
    """The format a RIFF/WAVE file declares, or None when it has no readable fmt chunk."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            while chunk := f.read(8):
                if len(chunk) < 8:
                    return None
                kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if kind != b"fmt ":
                    f.seek(size + (size & 1), 1)
                    continue
                fmt = f.read(size)
                if len(fmt) < 16:
                    return None
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
                if tag == EXTENSIBLE and len(fmt) >= 26:  # the real tag opens the GUID
                    return WavFormat(struct.unpack("<H", fmt[24:26])[0], channels, rate, bits, True)
                return WavFormat(tag, channels, rate, bits)
    except OSError:
        return None
    return None


def sox_command(path: Path) -> str:
    """A sox line that turns any audio sox reads into what read_wav takes (tested on float,
    6-channel, 24-bit and 8-bit WAVs): 16-bit integer PCM, mono, 16 kHz."""
    out = path.with_name(f"{path.stem}-16k.wav")
    return f"sox {shlex.quote(str(path))} -b 16 -c 1 -r {SAMPLE_RATE} {shlex.quote(str(out))}"


def load_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """read_wav, with a message that names what the file is when it cannot be read: the
    format (channels, sample width, format tag) of a WAV it does not handle, and the sox
    line that converts it."""
    if path.is_dir():
        raise UserError(f"{path}: a folder, not a WAV file")
    try:
        samples, rate = read_wav(path)
    except OSError as err:  # read_wav reports missing files; this is e.g. no permission
        raise UserError(f"{path}: cannot read it: {err.strerror or err}") from err
    except (UserError, ValueError) as err:
        if not path.exists():
            raise
        found = wav_format(path)
        if found is None:
            raise UserError(
                f"{path}: not a WAV file (no RIFF/WAVE header with a fmt chunk); if it is"
                f" audio in another format, convert it: `{sox_command(path)}`"
            ) from err
        if found.readable:  # the header is fine: the data is not
            raise UserError(
                f"{path}: {found}, but its data is cut short or damaged ({err})"
            ) from err
        raise UserError(
            f"{path}: {found}; recognize reads 16-bit integer PCM WAV with a plain header"
            f" (format tag 0x0001), any channels and rate. Convert it: `{sox_command(path)}`"
        ) from err
    check_header(path, rate, len(samples))
    return samples, rate


# No recording of speech has fewer samples a second: a header saying so is damaged (and 1 Hz
# was resampled into 16000 times the file's length: a minute to "hear" nothing).
MIN_RATE = 4000


def check_header(path: Path, rate: int, n_samples: int) -> None:
    """Raise UserError when what the header says cannot be the recording: a sample rate no
    recording has, or a data chunk that says it is empty with audio after it (a recorder
    stopped before it wrote the size): "nothing heard" would blame the person."""
    q = shlex.quote(str(path))
    out = shlex.quote(str(path.with_name(f"{path.stem}-fixed.wav")))
    if rate < MIN_RATE:
        raise UserError(
            f"{path}: its header says a sample rate of {rate} Hz; a recording has at least"
            f" {MIN_RATE} Hz, so the header is damaged. If you know the rate it was recorded"
            f" at, give it: `sox -r 16000 {q} {out}`"
        )
    after = bytes_after_empty_data_chunk(path) if not n_samples else 0
    if after:
        raise UserError(
            f"{path}: its data chunk says it holds 0 bytes, but {after} bytes follow it: the"
            f" header is damaged (was the recording cut off?). Read what is there with"
            f" `sox --ignore-length {q} {out}`"
        )


def bytes_after_empty_data_chunk(path: Path) -> int:
    """How many bytes follow a data chunk whose header says it is empty (0: none, or it is
    not empty, or there is no data chunk)."""
    try:
        with path.open("rb") as f:
            f.seek(12)  # RIFF, size, WAVE: read_wav has checked them
            while len(chunk := f.read(8)) == 8:
                kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if kind == b"data":
                    start = f.tell()
                    return f.seek(0, 2) - start if size == 0 else 0
                f.seek(size + (size & 1), 1)
    except OSError:
        return 0
    return 0


def wav_files(path: Path) -> list[Path]:
    """A folder's .wav files, recursively, sorted; a file (or anything else) as it is."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())


def recognize_pcm(samples: npt.NDArray[np.int16], rate: int, engine: Engine) -> dict[str, Any]:
    """One recording on a fresh stream: nothing of the file before it may carry over."""
    engine.reset()  # pending audio, segment, noise floor, stream clock
    # reset() keeps what an engine adapts to the room over a session (the fallback's VAD
    # noise level: measured, a shared clip's verdict changed with the clips before it);
    # an engine that can forget it does so here, as each file is its own recording.
    engine.forget_room()
    hearings, seconds = decide(engine, to_16k(samples, rate))
    return summarize(hearings, engine.name, seconds)


def recognize_file(
    path: Path,
    library: Library,
    model: Path | None = None,
    log: logging.Logger | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Run the live pipeline on a WAV file; latency_ms is the processing time of the file.

    `engine` overrides the engine choice (an already loaded one, e.g. to recognize many files).
    """
    samples, rate = load_wav(path)
    if engine is None:
        engine = open_engine(library, model, log or logging.getLogger("stretch-coach"))
    return recognize_pcm(samples, rate, engine)


def recognize_files(
    paths: Iterable[Path],
    library: Library,
    model: Path | None = None,
    log: logging.Logger | None = None,
    engine: Engine | None = None,
) -> Iterator[dict[str, Any]]:
    """recognize_file's result for each file, with its "file" first, as each is done.

    A folder stands for its .wav files (recursively, sorted). A file that cannot be read
    gives {"file", "error"} and the others go on. The engine loads once, at the first
    readable file, and starts each file afresh (recognize_pcm), so that a file's verdict is
    the same alone or in a batch. Failing to load the engine (a bad --model) raises.
    """
    for given in paths:
        found = wav_files(given)
        if not found:
            yield {"file": str(given), "error": f"{given}: no .wav files in this folder"}
        for path in found:
            try:
                samples, rate = load_wav(path)
            except UserError as err:
                yield {"file": str(path), "error": str(err)}
                continue
            if engine is None:
                engine = open_engine(library, model, log or logging.getLogger("stretch-coach"))
            yield {"file": str(path), **recognize_pcm(samples, rate, engine)}
