"""The built-in library: every seed exercise present, sourced, in our own words, and safe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import skill.cli.main as cli
from skill.core.exercise import Library
from skill.paths import builtin_exercises_dir

# Every exercise issue 2 names, as people would say it.
ISSUE_EXERCISES = [
    "thread the needle",
    "chair thoracic extension",
    "pec stretch on a foam roll",
    "prone T raise",
    "snow angels",
    "long-sitting rounding stretch",
    "bird dog",
    "opposite arm/leg raise",
    "child's pose",
    "knee-to-chest",
    "cat-cow",
    "passive backbend",
    "shoulder rolls",
    "press-up",
    "prone on elbows",
    "corner stretch",
    "doorway stretch",
    "prone cobra",
    "thoracic extension on a towel roll",
    "thoracic extension on tennis balls",
    "cobra extension",
    "flexion/extension cat stretch",
    "standing lat side-bend",
    "doorway lat stretch",
    "side-lying rotation",
    "chair rotation",
    "rhomboid cross-body stretch",
    "seated side-bend sequence",
]
REQUIRED_ROUTINES = ("upper_back", "middle_back", "lower_back", "desk_break", "full_back")
DESK_POSITIONS = {"chair", "standing", "chair_or_standing", "doorway", "wall"}
COPY_RUN = 7  # words in a row shared with a seed page that count as copying


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower().replace("’", "")).split())


def words(text: str) -> list[str]:
    return norm(text.replace("'", "")).split()


@pytest.fixture(scope="module")
def library() -> Library:
    from skill.library.loader import load_library

    result = load_library(user_dir=Path("/nonexistent-stretch-coach"))
    assert result.problems == (), [str(p) for p in result.problems]
    return result.library


@pytest.fixture(scope="module")
def raw_exercises() -> list[dict[str, object]]:
    """The YAML as written, to see which dosage numbers were typed and which were left out."""
    found: list[dict[str, object]] = []
    for path in sorted(builtin_exercises_dir().rglob("*.yaml")):
        found += yaml.safe_load(path.read_text(encoding="utf-8")).get("exercises") or []
    return found


def names_of(library: Library) -> dict[str, str]:
    """Every way an exercise is named (name, id, alias, variant) -> its id."""
    out = {}
    for ex in library.exercises.values():
        for name in (ex.id, ex.name, *ex.aliases, *(v.name for v in ex.variants)):
            out[norm(name)] = ex.id
    return out


def spoken_texts(library: Library) -> list[tuple[str, str]]:
    texts = []
    for ex in library.exercises.values():
        parts = [*ex.setup, *ex.steps, *ex.cautions, ex.dosage_note]
        parts += [t for t in (ex.hold_cue, ex.easier, ex.harder, ex.release, ex.reposition) if t]
        parts += [ex.side_cue] if ex.side_cue else []
        parts += list(ex.rep_cues)
        parts += [v.note for v in ex.variants]
        texts += [(ex.id, t) for t in parts]
    texts += [(r.id, r.description) for r in library.routines.values()]
    return texts


@pytest.mark.parametrize("name", ISSUE_EXERCISES)
def test_every_issue_exercise_is_present(library: Library, name: str) -> None:
    assert norm(name) in names_of(library), f"no exercise named {name!r}"


def test_true_duplicates_are_merged(library: Library) -> None:
    names = names_of(library)
    cat = library.exercises["cat_cow"]
    assert names[norm("flexion/extension cat stretch")] == "cat_cow"
    assert {s.seed[:3] for s in cat.sources} == {"002", "003", "004"}
    assert {v.source.seed[:3] for v in cat.variants} == {"002", "003", "004"}
    assert names[norm("opposite arm/leg raise")] == names[norm("bird dog")]


def test_sources_point_at_seed_pages(library: Library, shared_dir: Path) -> None:
    for ex in library.exercises.values():
        assert ex.sources, ex.id
        for page in (*ex.sources, *(v.source for v in ex.variants)):
            seed = shared_dir / "seeds" / page.seed
            assert seed.is_file(), f"{ex.id}: {page.seed} is not a seed page"
            text = norm(seed.read_text(encoding="utf-8"))
            assert norm(page.title) in text, f"{ex.id}: title {page.title!r} not on {page.seed}"


def as_spoken(library: Library) -> list[tuple[str, str]]:
    """Every text the coach says, as said: each routine's beats with sides and counts filled
    in, and the replies (easier, harder, what do I need, help, ...)."""
    from skill.core import phrases
    from skill.core.plan import build_plan, fill_side

    texts = []
    for routine in library.routines.values():
        for beat in build_plan(library, routine).beats:
            texts.append((routine.id, fill_side(beat.text, beat.side)))
    texts += [("phrases", t) for t in phrases.fixed_phrases(library)]
    return texts


def seed_runs(shared_dir: Path) -> set[tuple[str, ...]]:
    runs = set()
    for seed in (shared_dir / "seeds").glob("*.txt"):
        w = words(seed.read_text(encoding="utf-8"))
        runs |= {tuple(w[i : i + COPY_RUN]) for i in range(len(w) - COPY_RUN + 1)}
    return runs


def copied_runs(texts: list[tuple[str, str]], runs: set[tuple[str, ...]]) -> list[str]:
    copied = []
    for where, text in texts:
        w = words(text)
        for i in range(len(w) - COPY_RUN + 1):
            if tuple(w[i : i + COPY_RUN]) in runs:
                copied.append(f"{where}: {' '.join(w[i : i + COPY_RUN])!r}")
    return copied


def test_spoken_text_is_not_copied_from_the_pages(library: Library, shared_dir: Path) -> None:
    runs = seed_runs(shared_dir)
    assert not copied_runs(spoken_texts(library), runs)
    assert not copied_runs(as_spoken(library), runs)


def test_copy_check_reads_sides_as_spoken(shared_dir: Path) -> None:
    """Page 004 says "grasp your right elbow with your left hand": a step written
    "Hold your {side} elbow with your {other} hand" copies seven words only once filled in."""
    from skill.core.plan import fill_side

    step = "Hold your {side} elbow with your {other} hand."
    runs = seed_runs(shared_dir)
    assert not copied_runs([("written", step)], runs)
    assert copied_runs([("spoken", fill_side(step, "right"))], runs)


def test_copy_check_would_catch_a_copied_sentence(shared_dir: Path) -> None:
    page = (shared_dir / "seeds" / "003_da66e15f78051f7e.txt").read_text(encoding="utf-8")
    page_words = words(page)
    seed_runs = {tuple(page_words[i : i + COPY_RUN]) for i in range(len(page_words))}
    copied = words("Face the corner of a room. Place your feet about 2 feet away!")
    assert any(tuple(copied[i : i + COPY_RUN]) in seed_runs for i in range(len(copied)))


def test_every_dosage_number_is_typed_or_marked_default(
    raw_exercises: list[dict[str, object]],
) -> None:
    """No silent model defaults: each field is written out, and ours are named in `defaults`."""
    for raw in raw_exercises:
        dosage = raw["dosage"]
        assert isinstance(dosage, dict)
        needed = ["hold_s", "reps", "sets", "sides", "rest_s"]
        if dosage["hold_s"] == 0:
            needed.append("rep_s")
        missing = [k for k in needed if k not in dosage]
        assert not missing, f"{raw['id']}: write out {missing}"
        if dosage.get("defaults"):
            assert raw.get("dosage_note"), f"{raw['id']}: explain the defaults in dosage_note"


def test_cautions_stop_on_pain_and_support_the_head(library: Library) -> None:
    for ex in library.exercises.values():
        text = " ".join(ex.cautions).lower()
        assert "hurt" in text or "pain" in text, ex.id
    for ex_id in ("towel_roll_extension", "tennis_ball_extension"):  # the page insists on a book
        ex = library.exercises[ex_id]
        assert "book" in ex.props and "book" in " ".join(ex.cautions)
    mild = [ex.id for ex in library.exercises.values() if any("mild" in c for c in ex.cautions)]
    assert {"cobra_extension", "chair_rotation", "rhomboid_stretch"} <= set(mild)


def test_two_sided_exercises_name_the_side(library: Library) -> None:
    for ex in library.exercises.values():
        if ex.dosage.sides != "none":
            assert any("{side}" in s for s in ex.steps), f"{ex.id}: say which side"


def test_required_routines_exist(library: Library) -> None:
    assert set(REQUIRED_ROUTINES) | {"quick_stretch"} <= set(library.routines)
    assert library.default_routine in library.routines


def test_desk_break_has_no_floor_work(library: Library) -> None:
    steps = library.routines["desk_break"].steps
    positions = {library.exercises[s.exercise_id].position for s in steps}
    assert positions <= DESK_POSITIONS, positions


def test_quick_stretch_takes_about_five_minutes(library: Library) -> None:
    from skill.core.plan import planned_total

    total = planned_total(library, library.routines["quick_stretch"])
    assert 4 * 60 <= total <= 6 * 60, total


def test_readme_documents_every_key_and_the_omission() -> None:
    from skill.library import loader

    readme = (builtin_exercises_dir() / "README.md").read_text(encoding="utf-8")
    keys = {*loader.EXERCISE_KEYS, *loader.DOSAGE_KEYS, *loader.ROUTINE_KEYS, "exercise"}
    assert all(f"`{k}`" in readme for k in keys), [k for k in keys if f"`{k}`" not in readme]
    assert "Is, Ys, Ts and Ws" in readme


def test_cli_list_shows_every_routine(
    library: Library,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for routine in library.routines.values():
        line = next(ln for ln in out.splitlines() if f" {routine.id} " in ln)
        count = len({s.exercise_id for s in routine.steps})
        assert re.search(rf"\b\d+:\d\d\s+{count} exercises?$", line), line
    assert next(ln for ln in out.splitlines() if " upper_back " in ln).startswith("*")


def test_cli_list_says_when_the_config_cannot_be_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """QA: list showed the library's default routine and said nothing of a config the
    service refuses to start on."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)
    (tmp_path / "stretch-coach").mkdir()
    (tmp_path / "stretch-coach" / "config.yaml").write_text("volume: 7\n")
    assert cli.main(["list"]) == 0
    err = capsys.readouterr().err
    assert "key 'volume' is 7" in err and "the service will not start" in err


def _list_with_config(monkeypatch: pytest.MonkeyPatch, home: Path, config: str) -> int:
    """`list` with `config` as the person's config file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)
    (home / "stretch-coach").mkdir()
    (home / "stretch-coach" / "config.yaml").write_text(config)
    return cli.main(["list"])


def test_cli_list_marks_a_default_routine_given_by_its_spoken_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """QA: 'default_routine: lower back' was "the default routine 'lower back' does not
    exist", though `show lower back` and voice take that name."""
    assert _list_with_config(monkeypatch, tmp_path, "default_routine: lower back\n") == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert next(ln for ln in out.splitlines() if " lower_back " in ln).startswith("*")


def test_cli_list_names_a_default_routine_that_is_no_routine(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _list_with_config(monkeypatch, tmp_path, "default_routine: lowr back\n") == 0
    out, err = capsys.readouterr()
    assert "key 'default_routine' is 'lowr back'" in err and "Did you mean" in err
    assert "using upper back until it is fixed" in err  # as the service does
    assert next(ln for ln in out.splitlines() if " upper_back " in ln).startswith("*")


def test_cli_check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)
    assert cli.main(["check"]) == 0
    assert "routines.yaml" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("routines:\n  - id: r\n    name: r\n    steps: [no_such]\n", encoding="utf-8")
    assert cli.main(["check", str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"checking {bad}" in captured.out
    assert f"{bad}:4: routine 'r', field 'steps': unknown exercise 'no_such'" in captured.err


def test_cli_list_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """`stretch-coach list | head -1`: the reader has gone; no BrokenPipeError traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, as after head has exited
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "skill", "list"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == 141  # 128 + SIGPIPE, as a shell reports a tool killed by it
