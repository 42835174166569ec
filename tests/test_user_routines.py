"""The person's own routine files: what a mistake in one costs, and that check agrees with
what the service loads (QA's findings on user files)."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import pytest

import skill.cli.main as cli
from skill.core import exercise
from skill.core.exercise import Library, Routine
from skill.library.loader import _name_clashes, check_paths, load_library
from skill.service import wiring

T = TypeVar("T")

BROKEN_OVERRIDE = """\
routines:
  - {id: good_one, name: good one, steps: [cat_cow]}
  - {id: upper_back, name: upper back, steps: [cat_cow, child_pose]}
"""
NECK_TILT = """\
exercises:
  - id: neck_tilt
    name: neck tilt
    position: chair
    steps: [Tilt your head toward your shoulder.]
    dosage: {hold_s: 10, reps: 2, sides: none}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def only(items: Sequence[T]) -> T:
    assert len(items) == 1, [str(i) for i in items]
    return items[0]


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An isolated config home; returns the user routines folder (not created)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)
    return tmp_path / "config" / "stretch-coach" / "routines"


# --- 1. a broken override keeps the built-in it tried to replace ---------------------------


def test_a_routine_override_naming_an_unknown_exercise_keeps_the_builtin(tmp_path: Path) -> None:
    path = write(tmp_path / "user", "o.yaml", BROKEN_OVERRIDE)
    result = load_library(user_dir=tmp_path / "user")
    routines = result.library.routines
    assert "good_one" in routines  # the rest of the file still loads
    assert routines["upper_back"].file.endswith("routines.yaml")  # the built-in, not lost
    p = only(result.problems)
    assert (p.file, p.line, p.where) == (str(path), 3, "routine 'upper_back'")
    assert "unknown exercise 'child_pose'" in p.message
    assert str(p).startswith(f"{path}:3: routine 'upper_back'")
    assert str(p).endswith("(routine 'upper_back' is skipped; the built-in upper back is kept)")


def test_an_invalid_routine_override_also_says_the_builtin_is_kept(tmp_path: Path) -> None:
    text = (
        "routines:\n  - {id: upper_back, name: upper back, steps: [{exercise: cat_cow, reps: 0}]}\n"
    )
    write(tmp_path / "user", "o.yaml", text)
    result = load_library(user_dir=tmp_path / "user")
    assert result.library.routines["upper_back"].file.endswith("routines.yaml")
    assert "the built-in upper back is kept" in str(only(result.problems))


def test_a_broken_exercise_override_says_the_builtin_is_kept(tmp_path: Path) -> None:
    text = NECK_TILT.replace("neck_tilt", "cat_cow").replace("hold_s: 10", "hold_s: -1")
    write(tmp_path / "user", "mine.yaml", text)
    result = load_library(user_dir=tmp_path / "user")
    assert result.library.exercises["cat_cow"].name == "cat-cow"
    assert "(exercise 'cat_cow' is skipped; the built-in cat-cow is kept)" in str(
        only(result.problems)
    )


def test_the_service_log_says_what_was_skipped_not_the_file(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(home, "o.yaml", BROKEN_OVERRIDE)
    log = logging.getLogger("test-user-routines")
    with caplog.at_level(logging.WARNING, logger=log.name):
        library = wiring.load_library(log)
    assert {"upper_back", "good_one"} <= set(library.routines)
    record = only([r.getMessage() for r in caplog.records])
    assert f"{path}:3" in record and "routine 'upper_back'" in record
    assert "the built-in upper back is kept" in record
    assert "this file was skipped" not in record


def test_list_keeps_the_default_routine_after_a_broken_override(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(home, "o.yaml", BROKEN_OVERRIDE)
    assert cli.main(["list"]) == 0
    out, err = capsys.readouterr()
    assert next(ln for ln in out.splitlines() if " upper_back " in ln).startswith("*")
    assert " good_one " in out
    assert "does not exist" not in err and "the built-in upper back is kept" in err


def test_file_level_problems_say_the_file_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "user", "syntax.yaml", "exercises: [\n")
    p = only(load_library(user_dir=tmp_path / "user").problems)
    assert str(p).endswith("(this file is skipped)")


# --- 2. an empty user folder is fine --------------------------------------------------------


@pytest.mark.parametrize("content", ["nothing", "a folder named x.yaml"])
def test_check_passes_with_an_empty_user_folder(
    home: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    home.mkdir(parents=True)
    if content != "nothing":
        (home / "x.yaml").mkdir()
    assert cli.main(["check"]) == 0
    out, err = capsys.readouterr()
    assert "all valid" in out and err == ""
    assert f"no routine files in {home}" in out


# --- 3. check FILE sees the person's other files ---------------------------------------------


def test_check_one_user_file_uses_exercises_from_the_others(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(home, "a_ex.yaml", NECK_TILT)
    routine = write(
        home, "b_rt.yaml", "routines:\n  - {id: necks, name: necks, steps: [neck_tilt]}\n"
    )
    assert cli.main(["check", str(routine)]) == 0
    assert "all valid" in capsys.readouterr().out
    assert check_paths([routine], user_dir=home) == ()


def test_check_one_user_file_reports_only_that_file(home: Path) -> None:
    write(home, "a_ex.yaml", NECK_TILT.replace("hold_s: 10", "hold_s: -1"))
    routine = write(
        home, "b_rt.yaml", "routines:\n  - {id: necks, name: necks, steps: [cat_cow]}\n"
    )
    assert check_paths([routine], user_dir=home) == ()
    assert only(check_paths([home], user_dir=home)).file == str(home / "a_ex.yaml")


def test_check_a_draft_outside_the_folder_as_if_it_were_added(home: Path, tmp_path: Path) -> None:
    write(home, "a_ex.yaml", NECK_TILT)
    draft = write(
        tmp_path, "draft.yaml", "routines:\n  - {id: d, name: draft, steps: [neck_tilt]}\n"
    )
    assert check_paths([draft], user_dir=home) == ()
    clash = write(tmp_path, "clash.yaml", NECK_TILT)
    p = only(check_paths([clash], user_dir=home))
    assert p.file == str(clash) and "duplicate id" in p.message and "a_ex.yaml:2" in p.message


# --- 4. sides: none on a two-sided exercise --------------------------------------------------


@pytest.mark.parametrize(
    ("step", "line"),
    [
        ("      - {exercise: thread_the_needle, sides: none}\n", 5),
        ("      - exercise: thread_the_needle\n        reps: 2\n        sides: none\n", 7),
    ],
)
def test_a_step_cannot_make_a_two_sided_exercise_one_sided(
    tmp_path: Path, step: str, line: int
) -> None:
    text = "routines:\n  - id: r\n    name: r\n    steps:\n" + step
    path = write(tmp_path / "user", "mine.yaml", text)
    p = only(check_paths([path]))
    assert (p.line, p.where, p.field) == (line, "routine 'r'", "sides")
    assert "{side}" in p.message and "'thread_the_needle'" in p.message
    assert "each" in p.message and "alternating" in p.message


def test_a_step_may_still_change_how_a_two_sided_exercise_alternates(tmp_path: Path) -> None:
    step = "{exercise: thread_the_needle, sides: alternating}"
    text = f"routines:\n  - {{id: r, name: r, steps: [{step}]}}\n"
    assert check_paths([write(tmp_path / "user", "mine.yaml", text)]) == ()


# --- 5. a user routine with a built-in's spoken name or alias -------------------------------

CLASH = "routines:\n  - {id: my_upper, name: upper back, aliases: [quick], steps: [cat_cow]}\n"


def test_a_routine_reusing_a_builtin_name_or_alias_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "user", "mine.yaml", CLASH)
    problems = check_paths([path])
    assert [(p.file, p.line, p.where, p.field) for p in problems] == [
        (str(path), 2, "routine 'my_upper'", "name"),
        (str(path), 2, "routine 'my_upper'", "aliases"),
    ]
    name, alias = (p.message for p in problems)
    assert "'upper back'" in name and "built-in routine 'upper_back'" in name
    assert "routines.yaml:5" in name and "id 'upper_back'" in name
    assert "'quick'" in alias and "built-in routine 'quick_stretch'" in alias
    assert "another name" in alias


def test_an_override_taking_another_builtins_name_is_named(tmp_path: Path) -> None:
    text = "routines:\n  - {id: upper_back, name: quick stretch, steps: [cat_cow]}\n"
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert (p.where, p.field) == ("routine 'upper_back'", "name")
    assert "built-in routine 'quick_stretch'" in p.message


def test_two_user_routines_with_one_name_are_named_once(tmp_path: Path) -> None:
    text = (
        "routines:\n  - {id: a_one, name: my mix, steps: [cat_cow]}\n"
        "  - {id: b_one, name: my mix, steps: [cat_cow]}\n"
    )
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert (p.line, p.where, p.field) == (3, "routine 'b_one'", "name")
    assert "routine 'a_one'" in p.message and "another name" in p.message


def test_list_warns_about_a_name_clash(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(home, "mine.yaml", CLASH)
    assert cli.main(["list"]) == 0
    err = capsys.readouterr().err
    assert "routine 'my_upper'" in err and "'upper_back'" in err and "'quick_stretch'" in err


def test_name_clashes_take_work_in_proportion_to_the_routines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QA: `check` took 50 s over 3,000 routines, comparing every name with every routine.
    Counting the names normalised catches a pairwise check without timing anything."""
    count = 3000
    routines = {
        f"r{i}": Routine(f"r{i}", f"routine {i}", "", (), (f"alias {i}",), "mine.yaml", i + 1)
        for i in range(count)
    }
    routines["late"] = Routine("late", "routine 7", "", (), ("alias 9",), "mine.yaml", count + 1)
    calls = 0
    normalise = exercise._normalise

    def counted(text: str) -> str:
        nonlocal calls
        calls += 1
        assert calls <= 10 * count, "names are compared pair by pair"
        return normalise(text)

    monkeypatch.setattr(exercise, "_normalise", counted)
    problems = _name_clashes(Library(routines=routines), set())
    assert [(p.where, p.field, p.line) for p in problems] == [
        ("routine 'late'", "name", count + 1),
        ("routine 'late'", "aliases", count + 1),
    ]
    assert "routine 'r7'" in problems[0].message and "routine 'r9'" in problems[1].message


# --- 6. file names and a routines file -------------------------------------------------------


def test_upper_case_suffixes_are_read(tmp_path: Path) -> None:
    write(tmp_path / "user", "MINE.YAML", NECK_TILT)
    write(tmp_path / "user", "more.Yml", NECK_TILT.replace("neck_tilt", "neck_roll"))
    result = load_library(user_dir=tmp_path / "user")
    assert result.problems == ()
    assert {"neck_tilt", "neck_roll"} <= set(result.library.exercises)


def test_a_routines_file_instead_of_a_folder_is_named(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(home.parent, "routines", NECK_TILT)
    p = only(load_library(user_dir=home).problems)
    assert p.file == str(home) and "a file, not a folder" in p.message
    assert cli.main(["check"]) == 1
    assert "a file, not a folder" in capsys.readouterr().err


# --- 8. one run of check shows every problem of a routine -------------------------------------

ALL_AT_ONCE = """\
routines:
  - id: my_morning
    name: upper back
    steps:
      - {exercise: cat_cow, hold: 20}
      - child_pose
      - cat_cows
"""


def test_check_reports_every_problem_of_a_routine_in_one_run(tmp_path: Path) -> None:
    """QA: `hold:` for hold_s, an unknown exercise, another, and a name the built-in upper
    back has took four runs of `check`, one problem each."""
    path = write(tmp_path / "user", "mine.yaml", ALL_AT_ONCE)
    problems = check_paths([path])
    assert [(p.line, p.field) for p in problems] == [
        (2, "name"),
        (5, "hold"),
        (6, "steps"),
        (7, "steps"),
    ]
    clash, hold, child, cats = (p.message for p in problems)
    assert "built-in routine 'upper_back'" in clash and "did you mean 'hold_s'" in hold
    assert "did you mean 'childs_pose'" in child and "did you mean 'cat_cow'" in cats
    assert all(p.outcome == "routine 'my_morning' is skipped" for p in problems)


def test_a_step_with_a_bad_value_still_has_its_exercise_checked(tmp_path: Path) -> None:
    text = "routines:\n  - {id: r, name: r, steps: [{exercise: cat_cws, reps: 0}, cat_cow]}\n"
    problems = check_paths([write(tmp_path / "user", "mine.yaml", text)])
    assert sorted(p.field for p in problems) == ["reps", "steps"]
    assert "unknown exercise 'cat_cws'" in next(p.message for p in problems if p.field == "steps")


def test_a_broken_routine_does_not_shadow_a_good_one_with_its_id(tmp_path: Path) -> None:
    text = (
        "routines:\n  - {id: r, name: r, steps: [{exercise: cat_cow, reps: 0}]}\n"
        "  - {id: r, name: r, steps: [cat_cow]}\n"
    )
    path = write(tmp_path / "user", "mine.yaml", text)
    result = load_library(user_dir=path.parent)
    reps, duplicate = result.problems
    assert (reps.field, duplicate.field) == ("reps", "id")
    assert duplicate.message == f"duplicate id; also defined in {path}:3"
    assert result.library.routines["r"].line == 3


# --- 9. a follow-on problem names its cause ---------------------------------------------------


def test_a_routine_needing_a_skipped_exercise_points_at_that_exercise(tmp_path: Path) -> None:
    """QA: "unknown exercise 'neck_tilt'", though it is defined in the same file (and was
    skipped for its own mistake)."""
    text = NECK_TILT.replace("hold_s: 10", "hold_s: -1") + (
        "routines:\n  - {id: necks, name: necks, steps: [neck_tilt]}\n"
    )
    path = write(tmp_path / "user", "mine.yaml", text)
    hold, step = check_paths([path])
    assert hold.field == "hold_s" and step.field == "steps"
    assert step.message == f"'neck_tilt' is skipped (see its problem at {path}:2)"


def test_an_invalid_sides_value_is_reported_alone(tmp_path: Path) -> None:
    """QA: `sides: both` also gave "uses {side}/{other} but dosage.sides is 'none'", a value
    the person never wrote."""
    text = NECK_TILT.replace("sides: none", "sides: both").replace(
        "Tilt your head", "'Tilt your head to the {side}"
    )
    text = text.replace("shoulder.]", "shoulder.']")
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert p.field == "sides" and "got text 'both'" in p.message


def test_a_routine_in_a_file_that_cannot_be_read_is_skipped_with_it(tmp_path: Path) -> None:
    """What named a routine in a file that is not YAML can tell it was there."""
    text = "routines:\n  - id: my_morning\n    name: my morning\n\tsteps: [cat_cow]\n"
    result = load_library(user_dir=write(tmp_path / "user", "mine.yaml", text).parent)
    found = result.skipped_routine("my morning")
    assert found is not None and found.file.endswith("mine.yaml") and found.line == 2
    assert result.skipped_routine("my evening") is None


def test_a_link_to_a_file_that_is_gone_is_named(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: `ln -s /nonexistent routines/gone.yaml` and check said "all valid"."""
    write(home, "mine.yaml", NECK_TILT)
    (home / "gone.yaml").symlink_to(home / "nowhere.yaml")
    p = only(load_library(user_dir=home).problems)
    assert p.file == str(home / "gone.yaml")
    assert f"a link to {home / 'nowhere.yaml'}, which does not exist" in p.message
    assert only(check_paths([home], user_dir=home)) == p
    assert cli.main(["check"]) == 1
    assert "gone.yaml: a link to" in capsys.readouterr().err


# --- 10. default_routine naming a routine that did not load ------------------------------------

TAB_IN_MINE = "routines:\n  - id: my_morning\n    name: my morning\n\tsteps: [cat_cow]\n"


def test_check_and_list_say_the_default_routine_is_in_a_broken_file(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: `default_routine: my morning` and a tab in mine.yaml stopped the whole coach; the
    service now uses upper back, and check and list say so and why."""
    mine = write(home, "mine.yaml", TAB_IN_MINE)
    config = write(home.parent, "config.yaml", "default_routine: my morning\n")
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    said = (
        f"{config}: default_routine 'my morning' is in {mine}:2, which has a problem (see "
        "above); using upper back until it is fixed"
    )
    assert err.index("a tab is used") < err.index(said)
    assert "2 problem(s) found" in err
    assert cli.main(["list"]) == 0
    out, err = capsys.readouterr()
    assert f"warning: {said}" in err
    assert next(ln for ln in out.splitlines() if " upper_back " in ln).startswith("*")


def test_show_of_a_routine_in_a_broken_file_names_the_file(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = write(home, "mine.yaml", TAB_IN_MINE)
    assert cli.main(["show", "my", "morning"]) == 1
    err = capsys.readouterr().err
    assert f"routine 'my morning' is in {mine}:2, which has a problem" in err
    assert "unknown routine" not in err


def test_show_marks_a_dosage_note_the_routine_overrides(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA: `show` printed "hold 20 s" and, under it, child's pose's note "we use thirty
    seconds": the note is about the exercise's own numbers, and now says so."""
    text = (
        "routines:\n  - id: my_morning\n    name: my morning\n    steps:\n"
        "      - {exercise: childs_pose, hold_s: 20, reps: 2}\n      - cat_cow\n"
    )
    write(home, "mine.yaml", text)
    assert cli.main(["show", "my_morning"]) == 0
    notes = [ln.strip() for ln in capsys.readouterr().out.splitlines() if "dosage" in ln]
    assert notes[0].startswith("dosage (the exercise's own; this routine: hold 20 s, 2 reps): ")
    assert "thirty seconds" in notes[0]
    assert notes[1].startswith("dosage: Each count is one pose")  # cat-cow as it is


# --- 7. messages a person who does not know YAML can act on ---------------------------------


def test_wrong_indentation_says_so_in_plain_words(tmp_path: Path) -> None:
    """QA: only the reader's jargon ("did not find expected '-' indicator")."""
    text = "routines:\n  - id: mine\n    name: mine\n   steps: [cat_cow]\n"
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert p.line == 4
    assert "check the indentation on line 4" in p.message
    assert "two spaces" in p.message and "list items start with '- '" in p.message
    assert "expected '-' indicator" in p.message  # the reader's words stay, after the hint


def test_a_key_too_deep_says_so_in_plain_words(tmp_path: Path) -> None:
    """QA: "mapping values are not allowed in this context" and nothing else."""
    text = "routines:\n  - id: mine\n    name: mine\n      steps: [cat_cow]\n"
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert "check the indentation on line 4" in p.message
    assert "mapping values are not allowed" in p.message


@pytest.mark.parametrize(
    ("written", "meant"),
    [("Cat-Cow", "cat_cow"), ("cat cow", "cat_cow"), ("child's pose", "childs_pose")],
)
def test_an_exercise_id_written_loosely_gets_a_suggestion(
    tmp_path: Path, written: str, meant: str
) -> None:
    """QA: 'Cat-Cow' as a step got no "did you mean 'cat_cow'"."""
    text = f'routines:\n  - {{id: mine, name: mine, steps: ["{written}"]}}\n'
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert f"unknown exercise '{written}'; did you mean '{meant}'?" in p.message


def test_an_id_written_with_capitals_and_hyphens_says_how_to_write_it(tmp_path: Path) -> None:
    text = NECK_TILT.replace("id: neck_tilt", "id: Neck-Tilt")
    p = only(check_paths([write(tmp_path / "user", "mine.yaml", text)]))
    assert p.field == "id" and "write 'neck_tilt'" in p.message
