"""English fallback engine end to end: real PocketSphinx, real and synthesized audio.

The property that matters most is asserted exactly: no command from any negative clip
(other people's speech, noise, non-command words, the coach's own sentences through the
echo gate, as the service hears them). Accuracy is asserted at a floor below the measured run.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skill.core.exercise import Library
from skill.core.intents import (
    BARGE_IN_COMMANDS,
    command_phrases,
    normalize,
    support_rank,
    supports,
)
from skill.errors import ConfigError
from skill.library.loader import load_library
from skill.speech_in.asr_sphinx import (
    Decode,
    SphinxEngine,
    Tuning,
    best_hypotheses,
    confidence,
    frames_per_phone,
    is_filler,
    jsgf_grammar,
    run_decoder,
    score_gap,
    uncovered,
)
from skill.speech_in.lexicon import (
    english_words,
    model_dir,
    phone_counts,
    phones_of,
    read_lexicon,
    verifier_unigrams,
    write_dictionary,
    write_unigram_lm,
)
from skill.speech_in.phone_match import names_another_command, phone_similarity, sounds_like
from skill.tools.asr_eval import Clip, evaluate, run_clip
from skill.tools.audio_mix import hiss, pcm16
from skill.tools.speech_corpus import (
    NEAR_MISSES,
    Corpus,
    PiperRenderer,
    build_corpus,
    cached,
    framed,
    near_miss_negatives,
    read_wav,
    trim,
)

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "test-audio"


def as_heard(pcm: np.ndarray, seed: str) -> np.ndarray:
    """Over a quiet microphone's hiss: a microphone never delivers digital silence, and the
    noise floor leaves digital silence out (so a padded recording gets the verdict it gets
    alone); between a synthetic voice's words that would leave only the speech to set it."""
    return pcm16(pcm + hiss(seed, len(pcm)))


# Floors a margin below the measured run (quick corpus, coach_every=4, every clip over a
# quiet mic's hiss). The corpus renders the same audio on every clone (Piper without its
# synthesis noise), so these are the values any clone measures; the margin (about 0.05, or a
# couple of clips) is for numerical differences between machines. Measured 2026-12-07 on
# the deterministic corpus: accuracy 0.454, Piper clean 0.562, noise at 20 dB SNR 0.262
# (10 dB: 0.123, no floor), 10 and 20 dB farther 0.631 and 0.585, stop and pause over the
# coach 0.846, 1 wrong command, 0 of the coach's sentences heard by the engine alone, 0
# false accepts.
MIN_ACCURACY = 0.41  # measured 0.454
# Each barge-in clip follows a sentence of the coach's (audio_mix.barge_in_versions): without
# it, a change to the coach's sentence list alone took this from 11 to 3 of 13.
MIN_BARGE_IN = 0.68  # measured 0.846 (11 of 13; the same in a fresh room for each clip)
MAX_UNGATED = 2  # measured 0
MIN_PIPER_CLEAN = 0.51  # measured 0.562
MIN_FARTHER = 0.53  # measured 0.631 (far10db) and 0.585 (far20db)
MIN_NOISE_20DB = 0.21  # measured 0.262
MAX_WRONG_COMMANDS = 3  # measured 1: "start upper back routine" over noise at 10 dB as the mid back
# Everyday words a sound or two from a command (speech_corpus.NEAR_MISSES, 222 clips), one
# engine in the corpus's order. Measured 13 (2026-12-07): "repeal" as repeat, "presume" as
# resume, "slow" as slower, "text" and "nest" as next, ... The free decode cannot tell them
# apart; a rule that took two-word phrases heard one sound off acted on 16.
MAX_NEAR_MISSES_ACTED_ON = 15


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library().library


@pytest.fixture(scope="module")
def corpus(shared_dir: Path, library: Library) -> Corpus:
    return build_corpus(CACHE, shared_dir, library, coach_every=4, quick=True)


@pytest.fixture(scope="module")
def summary(corpus: Corpus, library: Library) -> dict[str, Any]:
    return evaluate(lambda: SphinxEngine(library), corpus.positives, corpus.negatives)


def test_tuning_in_seconds_gives_the_frame_counts_it_had() -> None:
    """The spans are set in seconds; the engine counts frames, exactly as many as before."""
    tuning = Tuning()
    assert tuning.start_frames == (2, 3)
    assert tuning.preroll_frames == 5
    assert tuning.max_frames_per_phone == 28.0


def test_no_false_accepts_on_any_negative_clip(summary: dict[str, Any]) -> None:
    assert summary["negatives"] >= 30
    assert summary["false_accepts"] == 0, summary["false_accept_clips"]


def test_coach_never_triggers_itself(summary: dict[str, Any]) -> None:
    assert summary["selftrigger_clips"] >= 50
    assert summary["selftrigger_false_accepts"] == 0, summary["false_accept_clips"]


def test_engine_alone_never_hears_barge_in_words_in_coach_speech(
    summary: dict[str, Any], library: Library
) -> None:
    """The gate lets stop and pause through while the coach talks, so the engine itself must
    not find them in the coach's sentences (other commands it may find there are gated)."""
    table = command_phrases(library)
    ungated = summary["selftrigger_ungated_clips"]
    heard = [c for c in ungated if table[c.rsplit(" -> ", 1)[1]][0] in BARGE_IN_COMMANDS]
    assert heard == [], ungated
    # Knowing what the coach plays, the engine no longer makes segments of its voice at all.
    assert len(ungated) <= MAX_UNGATED, ungated


def test_accuracy_floor_on_commands(summary: dict[str, Any]) -> None:
    assert summary["command_accuracy"] >= MIN_ACCURACY, summary
    assert len(summary["wrong_command_clips"]) <= MAX_WRONG_COMMANDS, summary["wrong_command_clips"]
    by_cond = summary["command_accuracy_by_condition"]
    assert set(by_cond) == {"clean", "20db", "10db", "far10db", "far20db", "over_coach"}


def test_commands_from_farther_away_and_over_some_noise_are_heard(
    summary: dict[str, Any],
) -> None:
    by_cond = summary["command_accuracy_by_condition"]
    assert min(by_cond["far10db"], by_cond["far20db"]) >= MIN_FARTHER, by_cond
    assert by_cond["20db"] >= MIN_NOISE_20DB, by_cond


def test_stop_and_pause_over_the_coach_are_heard(summary: dict[str, Any]) -> None:
    """Before the echo reference (skill.speech_in.echo_reference) this was 0 of 16: the coach's echo
    kept the segment open, so a command was never alone in one."""
    assert summary["bargein_clips"] >= 10
    assert summary["bargein_accuracy"] >= MIN_BARGE_IN, summary["command_accuracy_by_condition"]


def test_clean_piper_commands_are_mostly_heard(summary: dict[str, Any]) -> None:
    piper_clean = summary["command_accuracy_by_source_condition"]["piper/clean"]
    assert piper_clean >= MIN_PIPER_CLEAN, summary["wrong_command_clips"]


def test_human_stop_clip_never_becomes_another_command(shared_dir: Path, library: Library) -> None:
    """The grammar decodes this speaker's "stop" as "start", which the fallback's grammar
    leaves out as a whole phrase (asr_sphinx.LEFT_OUT): a miss, never a started routine."""
    pcm, end = framed(read_wav(shared_dir / "audio" / "commands" / "stop_1.wav"))
    outcome = run_clip(SphinxEngine(library), Clip("stop", pcm, "stop", {}, "human", "clean", end))
    assert all(h.command is not None and h.command.name == "stop" for h in outcome.accepted)


def test_kitchen_noise_is_not_speech(shared_dir: Path, library: Library) -> None:
    """95 s of dishes: clatter stands far enough out of the room's noise to pass the SNR
    check when it is off, and then fits a command (measured: "stop" at +9.5); only the
    speech detector stops it. With every check on, nothing is heard either."""
    pcm = read_wav(shared_dir / "audio" / "noise" / "doing_the_dishes.wav")
    no_snr_check = SphinxEngine(library, tuning=Tuning(min_snr_db=0.0))
    hearings = [*no_snr_check.accept(pcm), *no_snr_check.flush()]
    assert [h.text for h in hearings if h.command] == []
    assert any("not speech: Silero" in h.reason for h in hearings)
    engine = SphinxEngine(library)
    assert [h for h in [*engine.accept(pcm), *engine.flush()] if h.command] == []


def test_the_verifier_expects_stop_and_pause_more_often_than_english_does() -> None:
    english = {"stop": -3.5, "star": -4.1, "the": -1.2}
    probs = verifier_unigrams(["stop", "quieter"], english, english, {"stop"}, 10.0)
    assert probs == {"stop": pytest.approx(-2.5), "star": -4.1, "the": -1.2, "quieter": -6.0}


def test_the_running_verifier_favours_only_the_one_word_barge_in_commands(
    library: Library,
) -> None:
    engine = SphinxEngine(library)
    lm = {}
    for line in (Path(engine._tmp.name) / "verify.lm").read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].startswith("-"):
            lm[fields[1]] = float(fields[0])
    top, commands = english_words(Tuning().verify_words)
    english = {**commands, **top}

    def odds(word: str) -> float:  # against "the": the model is normalised as a whole
        return lm[word] - lm["the"] - (english[word] - english["the"])

    favoured = math.log10(Tuning().barge_in_prior)
    assert favoured > 0
    assert odds("stop") == pytest.approx(favoured, abs=1e-3)
    assert odds("pause") == pytest.approx(favoured, abs=1e-3)
    for word in ("start", "hold", "on", "help", "next"):  # "hold on" is a pause, of two words
        assert odds(word) == pytest.approx(0, abs=1e-3)


SPEECH_THREADS = """
import os
from skill.speech_in.asr_sphinx import speech_detector
detector = speech_detector()
detector.process_samples([0.0] * 512)
print(len(os.listdir("/proc/self/task")))
"""


@pytest.mark.parametrize(("limit", "threads"), [(None, 1), ("3", 3)])
def test_speech_check_runs_on_one_thread_unless_told(limit: str | None, threads: int) -> None:
    """Silero's ggml build started 4 OpenMP threads per 32 ms window, which made a window
    cost 1.5-2.7 ms instead of 0.13 ms here; a limit set by the admin still wins."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    if limit:
        env["OMP_THREAD_LIMIT"] = limit
    done = subprocess.run(
        [sys.executable, "-c", SPEECH_THREADS], env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) == threads


def test_speech_after_a_command_word_is_not_that_command(library: Library) -> None:
    """ "Next: bird dog." starts with a command word; the rest is speech the command does not
    cover, so the engine alone (no echo gate) rejects it."""
    pcm, _ = framed(
        cached(CACHE, "coach|Next: bird dog.", partial(PiperRenderer(), "Next: bird dog."))
    )
    pcm = as_heard(pcm, "Next: bird dog.")
    engine = SphinxEngine(library)
    hearings = [*engine.accept(pcm), *engine.flush()]
    assert [h.command for h in hearings] == [None]
    assert "outside the command words" in hearings[0].reason


def test_a_segment_decodes_the_same_whatever_came_before(
    shared_dir: Path, library: Library
) -> None:
    """The decoders' front end carried state across segments: the grammar scored this clip
    -1962 alone and -2124 after another one, so a result depended on what came before."""
    commands = shared_dir / "audio" / "commands"
    stop = read_wav(commands / "stop_1.wav").tobytes()
    other = read_wav(commands / "go_1.wav").tobytes()
    engine = SphinxEngine(library)
    for decoder in (engine._grammar, engine._loop):
        first = run_decoder(decoder, stop)
        run_decoder(decoder, other)
        assert run_decoder(decoder, stop) == first


def test_score_helpers() -> None:
    command = Decode("next", ((10, 49),), -800)
    loop = Decode("n eh k s t", ((10, 30), (31, 49), (60, 80)), -400)
    assert uncovered(command.spans, loop.spans) == 21
    assert score_gap(command, loop) == -10.0
    tuning = Tuning(min_score_unsure=-20.0)
    assert confidence(-20.0, tuning) == 0.5
    assert confidence(0.0, tuning) > 0.95 > 0.05 > confidence(-40.0, tuning)
    assert is_filler("<sil>") and is_filler("[NOISE]") and is_filler("+SPN+") and is_filler("SIL")
    assert not is_filler("next")


def test_words_are_timed_per_phone_of_their_shortest_pronunciation() -> None:
    phones = phone_counts(["how HH AW\n", "long L AO NG\n", "long(2) L AA NG G\n"])
    assert phones == {"how": 2, "long": 3}
    heard = Decode("how long", ((10, 39), (45, 64)), -900)  # 55 frames from first to last
    assert frames_per_phone(heard, phones) == 11.0
    assert frames_per_phone(Decode("", (), 0), phones) == 0.0


def test_silence_and_reset_give_nothing(library: Library) -> None:
    engine = SphinxEngine(library)
    assert engine.accept(np.zeros(16000 * 3, dtype=np.int16)) == []
    engine.accept((np.random.default_rng(1).normal(0, 3000, 8000)).astype(np.int16))
    engine.reset()
    assert [h for h in engine.flush() if h.command] == []


def test_grammar_is_exactly_the_phrases_with_optional_wake_word() -> None:
    text = jsgf_grammar(["next", "stop"], wake_word="Coach")
    assert "public <command> = coach ( /1/ next | /1/ stop );" in text


def expand(tokens: list[str]) -> list[tuple[float, str]]:
    """The phrases of one of jsgf_grammar's expansions, each with its probability."""
    if tokens[0] != "(":
        words = []
        while tokens and tokens[0] not in ("(", "|", ")"):
            words.append(tokens.pop(0))
        rest = expand(tokens) if tokens and tokens[0] == "(" else [(1.0, "")]
        head = " ".join(w for w in words if w != "<NULL>")
        return [(p, f"{head} {tail}".strip()) for p, tail in rest]
    tokens.pop(0)
    branches = []
    while True:
        weight = float(tokens.pop(0).strip("/"))
        branches.append((weight, expand(tokens)))
        if tokens.pop(0) == ")":
            break
    total = sum(w for w, _ in branches)
    return [(w / total * p, phrase) for w, inner in branches for p, phrase in inner]


def test_the_grammar_tree_holds_exactly_the_phrases_each_as_likely(library: Library) -> None:
    phrases = sorted(p for p in command_phrases(library) if p != "start")
    body = jsgf_grammar(phrases).split("public <command> = ", 1)[1].rsplit(";", 1)[0]
    found = expand(body.replace("(", " ( ").replace(")", " ) ").split())
    assert sorted(phrase for _, phrase in found) == phrases
    assert {round(p * len(phrases), 9) for p, _ in found} == {1.0}
    assert body.count("start") == 1  # one "start" for the 100-odd phrases that begin with it


def test_a_word_the_dictionary_lacks_is_left_out_of_it(tmp_path: Path) -> None:
    counts = write_dictionary(["next", "zzyzxq"], tmp_path / "d.dict")
    assert list(counts) == ["next"]
    assert "zzyzxq" not in (tmp_path / "d.dict").read_text()


def test_a_routine_named_with_made_up_words_leaves_only_its_own_phrases_out(
    tmp_path: Path,
) -> None:
    """A custom routine named 'zumbafy flow' stopped the fallback from starting at all."""
    user = tmp_path / "routines"
    user.mkdir()
    (user / "mine.yaml").write_text(
        "routines:\n  - id: zumba_flow\n    name: zumbafy flow\n    steps: [cat_cow]\n"
    )
    library = load_library(user_dir=user).library
    engine = SphinxEngine(library)
    assert engine.missing_words == ["zumbafy"]
    assert not [p for p in engine._table if "zumbafy" in p]
    assert engine._table["next"] == ("next", {})
    assert "start upper back" in engine._table


def test_a_wake_word_the_recognizer_cannot_hear_stops_it_with_a_clear_message(
    library: Library,
) -> None:
    with pytest.raises(ConfigError, match=r"wake_word 'hey jarvs'.*'jarvs'.*hey jarvis"):
        SphinxEngine(library, wake_word="hey jarvs")


def test_pronunciations_are_kept_for_the_next_start_and_follow_the_dictionary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skill.speech_in import lexicon

    model = tmp_path / "model"
    model.mkdir()
    source = model / "cmudict-en-us.dict"
    source.write_text("next N EH K S T\nstop S T AA P\nstop(2) S T AO P\nstopped S T AA P T\n")
    monkeypatch.setattr(lexicon, "model_dir", lambda: model)
    cache = tmp_path / "cache"
    assert lexicon.pronunciations({"stop"}, cache) == ["stop S T AA P\n", "stop(2) S T AO P\n"]
    (kept,) = cache.glob("pronunciations-*.dict")
    kept.write_text("stop S T OW P\n")  # what the next start reads, not the dictionary
    assert lexicon.pronunciations({"stop"}, cache) == ["stop S T OW P\n"]
    source.write_text("stop S T AA P\n")  # a new dictionary: looked up again
    assert lexicon.pronunciations({"stop"}, cache) == ["stop S T AA P\n"]
    assert len(list(cache.glob("pronunciations-*.dict"))) == 1  # the old one is gone
    unwritable = tmp_path / "a-file"
    unwritable.write_text("")
    assert lexicon.pronunciations({"stop"}, unwritable / "cache") == ["stop S T AA P\n"]


def test_a_pause_inside_a_phrase_does_not_end_it(library: Library) -> None:
    """The segment is decoded early, after a short silence; when the person goes on, that
    verdict (on "start" alone) must be dropped and the whole phrase decided at its end."""
    piper = PiperRenderer()
    first = cached(CACHE, "piper|Start.", partial(piper, "Start."))
    rest = cached(CACHE, "piper|upper back routine.", partial(piper, "upper back routine."))
    tuning = Tuning(early_decode_s=0.1)  # the VAD's hangover eats part of a 0.25 s gap
    gap = np.zeros(int(16000 * 0.25), dtype=np.int16)  # past early_decode_s, short of the end
    assert tuning.early_decode_s < 0.25 < tuning.end_silence_s
    pcm, _ = framed(np.concatenate([trim(first), gap, trim(rest)]))
    engine = SphinxEngine(library, tuning=tuning)
    hearings = [*engine.accept(pcm), *engine.flush()]
    assert [h.text for h in hearings] == ["start upper back routine"], hearings


@pytest.mark.parametrize(("spoken", "acts_early"), [("Pause.", True), ("Which routines?", False)])
def test_stop_and_pause_act_before_the_endpoint(
    library: Library, spoken: str, acts_early: bool
) -> None:
    """Stop and pause act on the early decode, before the endpoint (0.15 s of silence, not
    0.3); other commands wait out the endpoint's silence in case the person goes on.
    (Timing only: without the verifier, which hears this Piper "Pause." as "boss".)"""
    pcm, _ = framed(cached(CACHE, f"piper|{spoken}", partial(PiperRenderer(), spoken)))
    pcm = as_heard(pcm, spoken)

    def decided_at(tuning: Tuning) -> float:
        engine = SphinxEngine(library, tuning=tuning)
        hearings = [h for h in [*engine.accept(pcm), *engine.flush()] if h.command]
        assert len(hearings) == 1, [h.reason for h in hearings]
        return hearings[0].audio_end_s

    at_endpoint = decided_at(Tuning(early_decode_s=Tuning().end_silence_s, verify=False))
    gained = at_endpoint - decided_at(Tuning(verify=False))
    sooner = Tuning().end_silence_s - Tuning().early_decode_s
    assert gained == pytest.approx(sooner if acts_early else 0.0, abs=0.031), gained


def test_verifier_support_needs_the_words_in_order_and_few_others() -> None:
    assert supports("stop", "stop", 2)
    assert supports("to stop it", "stop", 2)
    assert supports("stopped", "stop", 0)  # a drawn-out ending is not another word
    assert not supports("yes", "previous", 2)
    assert not supports("long how", "how long", 2)
    assert not supports("a b c stop", "stop", 2)
    assert support_rank(["yes", "guess", "again"], "again", 2) == 2
    assert support_rank(["yes", "guess"], "again", 2) is None


LEXICON = {
    "start": ["S", "T", "AA", "R", "T"],
    "star": ["S", "T", "AA", "R"],
    "quick": ["K", "W", "IH", "K"],
    "we": ["W", "IY"],
    "stop": ["S", "T", "AA", "P"],
    "the": ["DH", "AH"],
    "up": ["AH", "P"],
    "upper": ["AH", "P", "ER"],
    "full": ["F", "UH", "L"],
    "back": ["B", "AE", "K"],
    "that": ["DH", "AE", "T"],
}
TABLE = {"start quick": ("start", {"routine": "quick"}), "stop": ("stop", {})}


@pytest.mark.parametrize(
    ("heard", "agrees"),
    [
        (["start we", "star we"], True),  # 3 phones of 9 apart
        (["start quick"], True),
        (["we"], False),
        (["stop"], False),
    ],
)
def test_a_long_command_needs_a_hypothesis_close_to_it_by_phones(
    heard: list[str], agrees: bool
) -> None:
    want = phones_of("start quick", LEXICON)
    tuning = Tuning()
    alike, margin = tuning.min_phrase_similarity, tuning.rival_margin
    assert sounds_like(want, heard, LEXICON, alike, margin) is agrees


@pytest.mark.parametrize(
    ("want", "heard", "agrees"),
    [
        # 'start up back' is 0.69 alike the full back, 0.91 the upper back: clearly closer
        ("start the full back", ["star that back", "start up back"], False),
        ("start upper back", ["star that back", "start up back"], True),
        # 'star that back' is a little closer to the upper back (0.64) than the full (0.62)
        ("start the full back", ["star that back"], True),
    ],
)
def test_a_long_command_is_refused_when_a_hypothesis_sounds_clearly_like_another(
    want: str, heard: list[str], agrees: bool
) -> None:
    phrases = ["start the full back", "start upper back"]
    rivals = [phones_of(p, LEXICON) for p in phrases if p != want]
    tuning = Tuning()
    alike, margin = tuning.min_phrase_similarity, tuning.rival_margin
    assert sounds_like(phones_of(want, LEXICON), heard, LEXICON, alike, margin, rivals) is agrees


@pytest.fixture(scope="module")
def engine(library: Library) -> SphinxEngine:
    return SphinxEngine(library)


@pytest.mark.parametrize(
    ("command", "heard", "agrees"),
    [
        ("stop", ["stopped it"], True),  # its stem, and another word
        ("quieter", ["quite", "quieter"], True),
        ("i'm done", ["i'm down"], False),  # one phone off is another phrase
        ("hold on", ["old on"], False),
        ("quieter", ["quiet"], False),
        ("start upper back", ["start up back"], True),  # long: close by phones
    ],
)
def test_a_short_command_agrees_only_with_a_hypothesis_of_its_own_words(
    engine: SphinxEngine, command: str, heard: list[str], agrees: bool
) -> None:
    assert engine._agrees(heard, command, engine._table[command]) is agrees


def test_a_wake_word_before_the_command_does_not_loosen_the_agreement(library: Library) -> None:
    """With "coach" before every command, "coach next" has 8 phones: counted as a long
    command, 'coach text' (0.88 alike it) would do."""
    engine = SphinxEngine(library, wake_word="coach")
    target = engine._table["next"]
    assert not engine._agrees(["coach text"], "coach next", target)
    assert engine._agrees(["coach next"], "coach next", target)
    routine = "start upper back"
    assert engine._agrees(["coach start up back"], f"coach {routine}", engine._table[routine])


@pytest.mark.parametrize("spoken", ["I'm down.", "No, back.", "Old on."])
def test_a_phrase_one_sound_off_a_command_is_not_acted_on(library: Library, spoken: str) -> None:
    """Said lying on the floor, "I'm down" is not "I'm done": the free decode hears it as
    itself, and the grammar's "i'm done" must not stand on it (at three paces)."""
    piper = PiperRenderer()
    acted = []
    for pace in (1.0, 0.85, 1.2):
        key = f"piper|{spoken}|{pace}"
        pcm, _ = framed(cached(CACHE, key, partial(piper, spoken, pace)))
        engine = SphinxEngine(library)
        hearings = [*engine.accept(as_heard(pcm, key)), *engine.flush()]
        acted += [(pace, h.text) for h in hearings if h.command is not None]
    assert acted == []


def test_near_misses_are_words_near_a_command_not_commands(library: Library) -> None:
    table = command_phrases(library)
    for spoken in NEAR_MISSES:
        words = normalize(spoken)
        assert words not in table, spoken
        assert not any(supports(words, phrase, 2) for phrase in table), spoken


def test_few_words_near_a_command_are_acted_on(library: Library) -> None:
    engine = SphinxEngine(library)
    acted = []
    for clip in near_miss_negatives(CACHE):
        outcome = run_clip(engine, clip)
        acted += [f"{clip.name} -> {h.text}" for h in outcome.accepted]
    assert len(acted) <= MAX_NEAR_MISSES_ACTED_ON, acted


@pytest.mark.parametrize(
    ("heard", "other"),
    [
        (["star we", "stop", "start we"], True),
        (["start quick", "stop"], True),
        (["start quick", "start", "star we"], False),  # "start" alone is no command here
        (["start quick"], False),
        ([], False),
    ],
)
def test_a_verifier_hypothesis_that_is_another_command_outright_is_found(
    heard: list[str], other: bool
) -> None:
    assert names_another_command(heard, TABLE["start quick"], TABLE) is other


def test_phone_similarity_is_one_minus_edit_distance_per_phone() -> None:
    assert phone_similarity(["S", "T", "AA", "P"], ["S", "T", "AA", "P"]) == 1.0
    assert phone_similarity(["S", "T", "AA", "P"], ["S", "T", "AA", "R", "T"]) == 0.6
    assert phone_similarity([], []) == 1.0
    lexicon = {"how": ["HH", "AW"], "long": ["L", "AO", "NG"]}
    assert phones_of("how long", lexicon) == ["HH", "AW", "L", "AO", "NG"]
    assert phones_of("how zzz", lexicon) == ["HH", "AW", "?"]


def test_the_word_list_matches_the_installed_model(library: Library) -> None:
    """The shipped list (scripts/english_words.py) has the most frequent words first, every
    one in the English dictionary, and the built-in command words' own frequencies."""
    top, commands = english_words(2000)
    assert len(top) == 2000 and list(top)[:3] == ["the", "to", "i"]
    values = list(top.values())
    assert values == sorted(values, reverse=True)
    lexicon = read_lexicon(model_dir() / "cmudict-en-us.dict")
    assert set(top) <= set(lexicon)
    wanted = {w for phrase in command_phrases(library) for w in phrase.split()}
    assert wanted <= set(top) | set(commands), wanted - set(top) - set(commands)


def test_the_verifier_model_is_a_valid_unigram_arpa(tmp_path: Path) -> None:
    import pocketsphinx

    path = tmp_path / "v.lm"
    write_unigram_lm({"stop": -3.0, "yes": -3.0, "no": -2.7}, path)
    model = pocketsphinx.NGramModel(pocketsphinx.Config(), pocketsphinx.LogMath(), str(path))
    assert model.size() == 1
    assert model.prob(["stop"]) == model.prob(["yes"]) < model.prob(["no"])


def test_yes_and_no_are_not_commands(shared_dir: Path, library: Library) -> None:
    """What the verifier is for: real "yes" and "no" that the grammar alone made commands."""
    from skill.tools import human_corpus as hc

    picked = [
        r for r in hc.read_manifest(shared_dir) if r.source == "an4" and r.label in ("yes", "no")
    ]
    corpus = hc.build(shared_dir, picked, conditions=("recorded",))
    engine = SphinxEngine(library)
    heard = [
        o.accepted[0].text for o in map(partial(run_clip, engine), corpus.negatives) if o.accepted
    ]
    assert len(corpus.negatives) >= 30
    assert heard == []


def test_what_help_teaches_is_heard_in_the_coachs_voice(library: Library) -> None:
    """Every phrase the spoken help names, said by the coach's Piper voice (no synthesis
    noise) at two paces: a floor over the set, and never another command. Measured
    2026-12-06, once "wait" and "again" were no longer commands: 13 of 19 heard at both
    paces ("pause", "stop", "faster" and "harder" at neither, "hold on" and "how long left"
    at one)."""
    from skill.core.intents import FIXED_PHRASES, TAUGHT
    from skill.speech_in.recognizer import decide, summarize
    from skill.speech_out.voice import load_voice
    from skill.tools.audio_mix import resample

    voice = load_voice(None, 1.0)
    engine = SphinxEngine(library)
    heard_both = 0
    taught = [p for phrases, _ in TAUGHT for p in phrases]
    for phrase in taught:
        got = []
        for pace in (1.0, 1.3):
            quiet = voice.variant(pace, noise_scale=0.0, noise_w_scale=0.0)
            text = phrase.replace("i'm", "I'm").capitalize() + "."

            def render(q: Any = quiet, t: str = text) -> Any:
                return resample(q.synthesize(t).astype(np.float32), voice.sample_rate)

            pcm = cached(CACHE, f"help-coach|{text}|{pace}", render)
            engine.reset()
            engine.forget_room()
            hearings, _ = decide(engine, np.concatenate([np.zeros(8000, np.int16), pcm]))
            got.append(summarize(hearings, engine.name, 0.0)["command"])
        assert set(got) <= {FIXED_PHRASES[phrase], None}, (phrase, got)
        heard_both += got == [FIXED_PHRASES[phrase]] * 2
    assert heard_both >= 10, heard_both


def test_a_decode_that_kept_no_lattice_gives_its_best_path() -> None:
    """Over the coach's echo, PocketSphinx's nbest() was None for one clip of the test
    corpus (a new coach sentence), and the TypeError would have ended the service's
    listener: the best path is all there is then."""
    from types import SimpleNamespace

    class NoLattice:
        def hyp(self) -> SimpleNamespace:
            return SimpleNamespace(hypstr="stop")

        def nbest(self) -> None:
            return None

    assert best_hypotheses(NoLattice(), 3) == ["stop"]
