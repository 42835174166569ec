"""Fuzz the loader: whatever a user file holds, the answer is Problems, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.library import loader
from skill.library.loader import LoadResult, Problem, load_library

# A small stand-in for the built-in folder, so each example parses little besides the fuzz.
BUILTIN = """\
exercises:
  - id: cat_cow
    name: cat-cow
    position: floor
    steps: [Round your back.]
    dosage: {hold_s: 0, rep_s: 10, reps: 5}
  - id: bird_dog
    name: bird dog
    position: floor
    steps: ["Reach your {side} arm forward."]
    dosage: {hold_s: 5, reps: 5, sides: alternating}
routines:
  - id: upper_back
    name: upper back
    steps: [cat_cow, {exercise: bird_dog, reps: 2}]
"""


@pytest.fixture(scope="module")
def builtin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("builtin")
    (folder / "builtin.yaml").write_text(BUILTIN, encoding="utf-8")
    return folder


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["cat_cow", "bird_dog", "upper_back", "none", "each", "floor", "{side}", "{oops}", "-1", ""]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def entry(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping with mostly real keys, some typos, and any values."""
    key = st.sampled_from(keys) | st.text(max_size=8)
    return st.dictionaries(key, values, max_size=len(keys) + 2)


dosage = st.fixed_dictionaries({}, optional={k: scalars for k in loader.DOSAGE_KEYS})
exercise = entry(tuple(loader.EXERCISE_KEYS)).flatmap(
    lambda e: st.builds(lambda d: {**e, "dosage": d}, dosage) if "dosage" in e else st.just(e)
)
routine = entry(loader.ROUTINE_KEYS).flatmap(
    lambda r: st.builds(
        lambda s: {**r, "steps": s},
        st.lists(
            st.sampled_from(["cat_cow", "bird_dog", "nope"]) | entry(loader.STEP_KEYS), max_size=4
        ),
    )
)
documents = (
    st.fixed_dictionaries(
        {},
        optional={
            "exercises": st.lists(exercise, max_size=3),
            "routines": st.lists(routine, max_size=3),
        },
    )
    | values
)


def load_user_file(builtin_dir: Path, data: bytes) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "user.yaml").write_bytes(data)
        return load_library(builtin_dir, Path(tmp))


def assert_only_problems(result: LoadResult) -> None:
    assert all(isinstance(p, Problem) and str(p) for p in result.problems)
    # a user file may replace a built-in, never lose one: a broken override leaves it in place
    assert "upper_back" in result.library.routines
    assert {"cat_cow", "bird_dog"} <= set(result.library.exercises)
    for routine in result.library.routines.values():
        assert routine.steps
        assert all(s.exercise_id in result.library.exercises for s in routine.steps)


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(documents)
def test_structured_documents_give_only_problems(builtin_dir: Path, doc: Any) -> None:
    data = yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")
    assert_only_problems(load_user_file(builtin_dir, data))


@settings(FAST, max_examples=400)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_raw_bytes_give_only_problems(builtin_dir: Path, data: bytes) -> None:
    assert_only_problems(load_user_file(builtin_dir, data))


def test_hostile_yaml_gives_problems(builtin_dir: Path) -> None:
    cases = [
        b"a: &a [*a]\n",  # recursive alias
        b"[" * 5000,  # deep nesting
        b"exercises: !!python/object:os.system {}\n",  # unsafe tag
        b"when: 2024-13-45\n",  # impossible date
        b"? [a, b]\n: c\n",  # non-scalar key
        b"---\na: 1\n---\nb: 2\n",  # two documents
        "exercises:\n  - \ufeffid: x\n".encode(),
    ]
    for data in cases:
        result = load_user_file(builtin_dir, data)
        assert result.problems, data[:40]
        assert_only_problems(result)


@FAST
@given(routine)
def test_any_override_of_a_builtin_routine_leaves_one_in_place(builtin_dir: Path, doc: Any) -> None:
    data = yaml.safe_dump({"routines": [{**doc, "id": "upper_back"}]}, allow_unicode=True)
    assert_only_problems(load_user_file(builtin_dir, data.encode("utf-8")))


@pytest.mark.parametrize(
    "step",
    [
        "nope",  # an unknown exercise
        "{exercise: cat_cow, rep_s: 0}",  # a moving rep with no time
        "{exercise: bird_dog, sides: none}",  # says {side} but would have no sides
    ],
)
def test_an_override_broken_only_in_its_steps_keeps_the_builtin(
    builtin_dir: Path, step: str
) -> None:
    data = f"routines:\n  - {{id: upper_back, name: mine, steps: [cat_cow, {step}]}}\n"
    result = load_user_file(builtin_dir, data.encode("utf-8"))
    assert_only_problems(result)
    assert result.library.routines["upper_back"].name == "upper back"
    assert [p.outcome for p in result.problems] == [
        "routine 'upper_back' is skipped; the built-in upper back is kept"
    ]
