"""Loader: every class of bad input gets a message naming file, line, entry and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from skill.core.exercise import find_routine
from skill.library.loader import Problem, check_paths, load_library
from skill.paths import builtin_exercises_dir

GOOD_EXERCISE = """\
exercises:
  - id: neck_nod
    name: neck nod
    position: chair
    setup: [Sit tall.]
    steps: [Nod slowly.]
    dosage: {hold_s: 5, reps: 3, sides: none}
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_for(tmp_path: Path, text: str | bytes, name: str = "mine.yaml") -> list[Problem]:
    path = write(tmp_path / "user", name, text)
    return list(check_paths([path]))


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_builtin_library_is_valid() -> None:
    result = load_library(user_dir=Path("/nonexistent-stretch-coach"))
    assert result.problems == ()
    assert len(result.library.exercises) >= 24
    assert check_paths([builtin_exercises_dir()]) == ()


def test_problem_str_names_file_line_entry_and_field() -> None:
    p = Problem("a.yaml", 7, "routine 'x'", "steps", "empty routine")
    assert str(p) == "a.yaml:7: routine 'x', field 'steps': empty routine"
    assert str(Problem("a.yaml", 0, "", "", "not UTF-8")) == "a.yaml: not UTF-8"


def test_unknown_key_suggests_the_close_match(tmp_path: Path) -> None:
    text = GOOD_EXERCISE.replace("    setup:", "    stpes: [Oops.]\n    setup:")
    p = only(problems_for(tmp_path, text))
    assert (p.line, p.where, p.field) == (5, "exercise 'neck_nod'", "stpes")
    assert "did you mean 'steps'" in p.message
    assert str(p).startswith(f"{tmp_path / 'user' / 'mine.yaml'}:5: exercise 'neck_nod'")


def test_wrong_type(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, GOOD_EXERCISE.replace("reps: 3", "reps: three")))
    assert (p.line, p.field) == (7, "reps")
    assert "whole number" in p.message and "three" in p.message


def test_steps_must_be_a_list(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, GOOD_EXERCISE.replace("[Nod slowly.]", "Nod slowly.")))
    assert (p.line, p.field) == (6, "steps") and "list" in p.message


def test_negative_duration(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, GOOD_EXERCISE.replace("hold_s: 5", "hold_s: -5")))
    assert (p.line, p.field, p.where) == (7, "hold_s", "exercise 'neck_nod'")
    assert "too small" in p.message


def test_absurd_duration(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, GOOD_EXERCISE.replace("hold_s: 5", "hold_s: 6000")))
    assert p.field == "hold_s" and "absurd" in p.message and "600" in p.message


def test_invalid_sides_value(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, GOOD_EXERCISE.replace("sides: none", "sides: both")))
    assert p.field == "sides" and "none, each, alternating" in p.message


def test_side_placeholder_needs_two_sides(tmp_path: Path) -> None:
    text = GOOD_EXERCISE.replace("[Nod slowly.]", '["Turn to the {side}."]')
    p = only(problems_for(tmp_path, text))
    assert p.field == "steps" and "sides" in p.message


def test_unknown_exercise_reference(tmp_path: Path) -> None:
    text = """\
    routines:
      - id: mine
        name: mine
        steps:
          - cat_cow
          - thread_the_needel
    """
    p = only(problems_for(tmp_path, text))
    assert (p.line, p.where, p.field) == (6, "routine 'mine'", "steps")
    assert "unknown exercise 'thread_the_needel'" in p.message
    assert "did you mean 'thread_the_needle'" in p.message


def test_duplicate_id(tmp_path: Path) -> None:
    folder = tmp_path / "user"
    write(folder, "a.yaml", GOOD_EXERCISE)
    write(folder, "b.yaml", GOOD_EXERCISE)
    p = only(list(check_paths([folder])))
    assert p.file.endswith("b.yaml") and p.field == "id" and "duplicate" in p.message
    assert "a.yaml:2" in p.message


def test_duplicate_key(tmp_path: Path) -> None:
    p = only(
        problems_for(
            tmp_path,
            GOOD_EXERCISE.replace(
                "    position: chair\n", "    position: chair\n    position: floor\n"
            ),
        )
    )
    assert (p.line, p.field) == (5, "position") and "twice" in p.message


def test_empty_routine(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, "routines:\n  - id: mine\n    name: mine\n    steps: []\n"))
    assert (p.line, p.where, p.field) == (4, "routine 'mine'", "steps")
    assert "empty routine" in p.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, "routines:\n  - id: mine\n    name: [unclosed\n"))
    assert p.line >= 3 and "YAML syntax error" in p.message


def test_non_utf8_file(tmp_path: Path) -> None:
    p = only(problems_for(tmp_path, b"routines:\n  - id: caf\xe9\n"))
    assert p.line == 2 and "UTF-8" in p.message and "0xe9" in p.message


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    problems = check_paths([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [p.message for p in problems] == [
        "no such file or directory",
        "no .yaml or .yml files in this folder",
    ]


def test_user_file_overrides_and_adds(tmp_path: Path) -> None:
    user = tmp_path / "user"
    write(user, "mine.yaml", GOOD_EXERCISE.replace("neck_nod", "cat_cow"))
    write(
        user,
        "routines.yaml",
        "routines:\n  - id: nod\n    name: nodding\n"
        "    steps: [cat_cow, {exercise: childs_pose, hold_s: 20}]\n",
    )
    result = load_library(user_dir=user)
    assert result.problems == ()
    lib = result.library
    assert lib.exercises["cat_cow"].name == "neck nod"
    routine = lib.routines["nod"]
    assert routine.steps[1].dosage.hold_s == 20
    assert routine.steps[1].dosage.sides == lib.exercises["childs_pose"].dosage.sides
    # a built-in routine that uses cat_cow now gets the user's version of it
    assert lib.routines["quick_stretch"].steps[0].dosage.hold_s == 5


def test_broken_user_file_is_skipped_and_builtins_still_load(tmp_path: Path) -> None:
    user = tmp_path / "user"
    write(user, "bad.yaml", GOOD_EXERCISE.replace("hold_s: 5", "hold_s: -1"))
    write(user, "syntax.yaml", "exercises: [\n")
    result = load_library(user_dir=user)
    assert {Path(p.file).name for p in result.problems} == {"bad.yaml", "syntax.yaml"}
    assert "neck_nod" not in result.library.exercises
    assert {"upper_back", "quick_stretch", "desk_break"} <= set(result.library.routines)


def test_check_accepts_user_file_using_builtin_exercises(tmp_path: Path) -> None:
    text = "routines:\n  - id: mine\n    name: my mix\n    steps: [cat_cow, neck_nod]\n"
    assert problems_for(tmp_path, GOOD_EXERCISE + text) == []


@pytest.mark.parametrize(
    "query",
    ["upper back", "upper-back", "Upper Back Routine", "the upper back", "UPPER_BACK", "upper"],
)
def test_find_routine_matches_loosely(query: str) -> None:
    library = load_library(user_dir=Path("/nonexistent-stretch-coach")).library
    routine = find_routine(library, query)
    assert routine is not None and routine.id == "upper_back"


def test_find_routine_does_not_guess() -> None:
    library = load_library(user_dir=Path("/nonexistent-stretch-coach")).library
    assert find_routine(library, "") is None
    assert find_routine(library, "neck") is None
    lower = find_routine(library, "lower back")
    assert lower is not None and lower.id == "lower_back"


def test_routine_override_is_checked_like_a_dosage(tmp_path: Path) -> None:
    text = (
        "routines:\n  - id: r\n    name: r\n    steps:\n      - {exercise: cat_cow, reps: 9999}\n"
    )
    p = only(problems_for(tmp_path, text))
    assert (p.line, p.where, p.field) == (5, "routine 'r'", "reps") and "absurd" in p.message


@pytest.mark.parametrize(
    ("dosage", "says"),
    [
        ("hold_s: 5, hold_min_s: 8", "8 s is longer than hold_s (5 s)"),
        ("hold_s: 0, rep_s: 4, hold_min_s: 2", "a moving rep (hold_s 0) has no hold"),
        ("hold_s: 5, hold_min_s: 0", "should be above 0"),
        ("hold_s: 5, hold_min_s: -1", "too small"),
    ],
)
def test_the_shortest_hold_fits_the_hold(tmp_path: Path, dosage: str, says: str) -> None:
    p = only(problems_for(tmp_path, GOOD_EXERCISE.replace("hold_s: 5", dosage)))
    assert (p.line, p.where, p.field) == (7, "exercise 'neck_nod'", "hold_min_s"), str(p)
    assert says in p.message, p.message
    assert (
        problems_for(tmp_path, GOOD_EXERCISE.replace("hold_s: 5", "hold_s: 5, hold_min_s: 3")) == []
    )


def test_a_routine_may_hold_less_than_the_page_but_not_set_a_longer_minimum(
    tmp_path: Path,
) -> None:
    shorter = "routines:\n  - id: r\n    name: r\n    steps:\n      - {exercise: %s}\n"
    assert problems_for(tmp_path, shorter % "towel_roll_extension, hold_s: 5") == []
    p = only(problems_for(tmp_path, shorter % "towel_roll_extension, hold_min_s: 30"))
    assert (p.line, p.where, p.field) == (5, "routine 'r'", "hold_min_s")
    assert "towel_roll_extension" in p.message and "longer than hold_s (20 s)" in p.message


def test_hidden_editor_files_are_ignored(tmp_path: Path) -> None:
    user = tmp_path / "user"
    write(user, ".#mine.yaml", "exercises: [\n")
    write(user, "mine.yml", GOOD_EXERCISE)
    result = load_library(user_dir=user)
    assert result.problems == () and "neck_nod" in result.library.exercises


def test_a_file_over_1_mb_is_refused_by_name_and_the_rest_still_loads(tmp_path: Path) -> None:
    user = tmp_path / "user"
    padding = "# padding\n" * 500_000  # 5 MB of comments: valid YAML, but far too big
    big = write(user, "big.yaml", GOOD_EXERCISE.replace("neck_nod", "big_one") + padding)
    write(user, "mine.yaml", GOOD_EXERCISE)
    result = load_library(user_dir=user)
    p = only(list(result.problems))
    assert p.file == str(big) and "1 MB" in p.message and "5" in p.message
    assert "big.yaml" in str(p)
    assert "big_one" not in result.library.exercises
    assert "neck_nod" in result.library.exercises  # the other user file is not lost
    assert {"upper_back", "quick_stretch"} <= set(result.library.routines)
    assert only(list(check_paths([big]))).message == p.message


def test_a_file_of_exactly_1_mb_is_still_read(tmp_path: Path) -> None:
    text = GOOD_EXERCISE
    text += "#" * (1024 * 1024 - len(text.encode()) - 1) + "\n"
    assert problems_for(tmp_path, text) == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("exercises:\n\t- id: neck_nod\n", 2),
        (GOOD_EXERCISE.replace("    name: neck nod", "\tname: neck nod"), 3),
        (GOOD_EXERCISE.replace("    steps:", "  \t steps:"), 6),
    ],
)
def test_a_tab_used_for_indentation_is_named(tmp_path: Path, text: str, line: int) -> None:
    p = only(problems_for(tmp_path, text))
    assert "tab" in p.message and p.line == line, str(p)
    assert "spaces" in p.message


def test_one_broken_routine_does_not_hide_the_good_ones_in_its_file(tmp_path: Path) -> None:
    user = tmp_path / "user"
    path = write(
        user,
        "mine.yaml",
        """routines:
  - id: evening
    name: evening
    description: A short evening stretch.
    steps: [cat_cow, childs_pose]
  - id: broken
    name: broken
    description: Broken.
    steps:
      - exercise: cat_cow
        hold_s: -5
""",
    )
    result = load_library(user_dir=user)
    p = only(list(result.problems))
    assert p.file == str(path) and "routine 'broken'" in str(p) and "hold_s" in str(p)
    assert "evening" in result.library.routines
    assert "broken" not in result.library.routines


def test_a_misspelt_change_of_position_is_named_with_the_choices(tmp_path: Path) -> None:
    text = GOOD_EXERCISE.replace("    setup:", "    rep_change: rollover\n    setup:")
    p = only(problems_for(tmp_path, text))
    assert (p.line, p.field) == (5, "rep_change")
    assert "did you mean 'roll_over'" in p.message and "same, shift, switch" in p.message


def test_movement_cues_may_name_the_side_only_in_a_two_sided_exercise(tmp_path: Path) -> None:
    text = GOOD_EXERCISE.replace("    setup:", "    rep_cues: ['Now to the {side}.']\n    setup:")
    p = only(problems_for(tmp_path, text))
    assert p.field == "rep_cues" and "sides is 'none'" in p.message


def test_an_exercise_is_a_stretch_unless_it_says_strength(tmp_path: Path) -> None:
    user = tmp_path / "user"
    write(user, "a.yaml", GOOD_EXERCISE)
    write(
        user,
        "b.yaml",
        GOOD_EXERCISE.replace("neck_nod", "lift").replace(
            "    setup:", "    kind: strength\n    setup:"
        ),
    )
    exercises = load_library(user_dir=user).library.exercises
    assert (exercises["neck_nod"].kind, exercises["lift"].kind) == ("stretch", "strength")
    text = GOOD_EXERCISE.replace("    setup:", "    kind: strenght\n    setup:")
    p = only(problems_for(tmp_path, text))
    assert (p.line, p.field) == (5, "kind")
    assert "did you mean 'strength'" in p.message and "stretch, strength" in p.message


@pytest.mark.parametrize(
    ("cue", "sides", "says"),
    [
        ("'{side} arm, {other} leg.'", "each", None),
        ("Arm and leg.", "each", "should name the side"),
        ("'{side} arm.'", "none", "sides is 'none'"),
    ],
)
def test_a_side_cue_must_name_the_side(tmp_path: Path, cue: str, sides: str, says: str) -> None:
    text = GOOD_EXERCISE.replace("    setup:", f"    side_cue: {cue}\n    setup:")
    text = text.replace("sides: none", f"sides: {sides}")
    problems = problems_for(tmp_path, text)
    if says is None:
        assert problems == []
        return
    p = only(problems)
    assert (p.line, p.field) == (5, "side_cue") and says in p.message, str(p)
