"""Load exercises and routines from YAML and say exactly what is wrong with a bad file.

The person fixing a file has no debugger on a Raspberry Pi, so every problem names the
file, the line, the exercise or routine and the field, and says what the problem costs.
Built-in files load first, then the user's directory, whose entries add to or replace
built-in ones by id. A broken exercise or routine is skipped whole, so a typo never
half-applies, and the built-in it meant to replace stays; the rest of its file still loads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from skill.core.exercise import (
    Change,
    Dosage,
    Exercise,
    Kind,
    Library,
    Position,
    Routine,
    RoutineStep,
    SourcePage,
    Variant,
    routine_key,
)
from skill.yaml_lines import (
    YamlMap,
    YamlSeq,
    YamlTextError,
    closest,
    describe_value,
    loose_key,
    parse_yaml_bytes,
)

YAML_SUFFIXES = (".yaml", ".yml")
POSITIONS = ("floor", "chair", "standing", "chair_or_standing", "doorway", "wall")
SIDES = ("none", "each", "alternating")
CHANGES = ("same", "shift", "switch", "roll_over", "get_up")
KINDS = ("stretch", "strength")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_TEXT = 500  # characters in one spoken sentence or note
# Bigger files are refused unread: every command loads the library, so one huge file
# would slow them all (the largest built-in file is a few kB).
MAX_FILE_BYTES = 1024 * 1024

# Dosage limits: (lowest, highest, whole number?). Highest values are "absurd" beyond.
DOSAGE_LIMITS: dict[str, tuple[float, float, bool]] = {
    "hold_s": (0, 600, False),
    "hold_min_s": (0, 600, False),
    "reps": (1, 100, True),
    "sets": (1, 20, True),
    "rest_s": (0, 600, False),
    "rep_s": (0, 120, False),
}
DOSAGE_KEYS = (*DOSAGE_LIMITS, "sides", "defaults")
EXERCISE_KEYS = (
    *("id", "name", "aliases", "sources", "position", "props", "setup", "steps", "dosage"),
    *("dosage_note", "cautions", "easier", "harder", "hold_cue", "variants"),
    *("release", "rep_cues", "reposition", "rep_change", "side_change", "kind", "side_cue"),
)
EXERCISE_REQUIRED = ("id", "name", "position", "steps", "dosage")
ROUTINE_KEYS = ("id", "name", "aliases", "description", "steps")
ROUTINE_REQUIRED = ("id", "name", "steps")
STEP_KEYS = ("exercise", *DOSAGE_LIMITS, "sides")
SOURCE_KEYS = ("seed", "title")
VARIANT_KEYS = ("name", "source", "note")
TOP_KEYS = ("exercises", "routines")
SPOKEN_KEYS = (
    *("setup", "steps", "hold_cue", "easier", "harder"),
    *("release", "rep_cues", "reposition", "side_cue"),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, precise enough to fix without reading the loader."""

    file: str
    line: int
    where: str  # "routine 'x'" / "exercise 'y'" / "" for the file itself
    field: str
    message: str
    # What the loader did about it ("routine 'x' is skipped; the built-in x is kept"): the
    # service starts anyway, so its log must say what the person will and will not get.
    outcome: str = ""

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        parts = [p for p in (self.where, f"field '{self.field}'" if self.field else "") if p]
        text = (
            f"{place}: {', '.join(parts)}: {self.message}" if parts else f"{place}: {self.message}"
        )
        return f"{text} ({self.outcome})" if self.outcome else text


@dataclass(frozen=True)
class Skipped:
    """An exercise or routine someone wrote that did not load, for a problem of its own or
    of its file: what needs it then says why it is missing, not that it does not exist."""

    kind: str  # "exercise" or "routine"
    id: str  # "" when it has no usable id
    names: tuple[str, ...]  # its id, name and aliases as written
    file: str
    line: int

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class LoadResult:
    library: Library
    problems: tuple[Problem, ...]
    skipped: tuple[Skipped, ...] = ()

    def skipped_routine(self, name: str) -> Skipped | None:
        """The routine `name` means (id, spoken name or alias, as a routine is found) among
        those that did not load; None when it names none of them."""
        key = routine_key(name)
        for entry in self.skipped:
            if key and entry.kind == "routine" and key in {routine_key(n) for n in entry.names}:
                return entry
        return None

    def why_missing(self, name: str) -> str:
        """Why `name` finds no routine when it names one that did not load; '' otherwise."""
        gone = self.skipped_routine(name)
        if gone is None:
            return ""
        return (
            f"routine {name!r} is in {gone.place}, which has a problem (see the warnings "
            "above); fix it there (`stretch-coach check` lists every problem)"
        )


FILE_SKIPPED = "this file is skipped"


def _file_problem(name: str, line: int, message: str) -> Problem:
    """A file that cannot be read as YAML (or at all): none of it loads."""
    return Problem(name, line, "", "", message, FILE_SKIPPED)


def _parse(path: Path, data: bytes) -> tuple[Any, list[Problem]]:
    """Bytes -> plain data with lines, or the syntax/encoding problem."""
    name = str(path)
    try:
        doc, twice_given = parse_yaml_bytes(data)
    except YamlTextError as err:
        return None, [_file_problem(name, err.line, err.message)]
    twice = "the last one is used"
    problems = [Problem(name, ln, "", key, "key given twice", twice) for ln, key in twice_given]
    return doc, problems


# --- validation ---------------------------------------------------------------------------


@dataclass
class _Ctx:
    """Where we are, for messages, and what we found."""

    file: str
    where: str = ""
    problems: list[Problem] = field(default_factory=list)
    outcome: str = ""  # what a problem found now costs: this entry, or a top-level key

    def add(self, line: int, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, self.where, key, message, self.outcome))


def _line(mapping: YamlMap, key: str) -> int:
    return mapping.key_lines.get(key, mapping.line)


def _unknown_keys(ctx: _Ctx, mapping: YamlMap, allowed: Sequence[str]) -> None:
    for key in mapping:
        if key in allowed:
            continue
        close = closest(str(key), allowed)
        hint = f"; did you mean '{close}'?" if close else f"; allowed: {', '.join(allowed)}"
        ctx.add(_line(mapping, key), str(key), f"unknown key{hint}")


def _not_one_of(value: Any, choices: Sequence[str]) -> str:
    """A value outside its choices, with the one meant when it is near ('Each' is each)."""
    close = closest(value, choices) if isinstance(value, str) else None
    hint = f" (did you mean '{close}'?)" if close else ""
    return f"should be one of {', '.join(choices)}; got {describe_value(value)}{hint}"


def _missing(ctx: _Ctx, mapping: YamlMap, required: Sequence[str]) -> None:
    for key in required:
        if key not in mapping:
            ctx.add(mapping.line, key, "missing (required)")


def _text(ctx: _Ctx, mapping: YamlMap, key: str, default: str | None = None) -> str | None:
    value = mapping.get(key, default)
    if key not in mapping:
        return default
    if not isinstance(value, str) or not value.strip():
        ctx.add(_line(mapping, key), key, f"should be text, got {describe_value(value)}")
        return None
    if len(value) > MAX_TEXT:
        ctx.add(_line(mapping, key), key, f"text longer than {MAX_TEXT} characters")
        return None
    return value.strip()


def _texts(ctx: _Ctx, mapping: YamlMap, key: str) -> tuple[str, ...]:
    if key not in mapping:
        return ()
    value = mapping[key]
    if not isinstance(value, list):
        ctx.add(_line(mapping, key), key, f"should be a list of text, got {describe_value(value)}")
        return ()
    out = []
    for item, line in zip(value, _item_lines(value, _line(mapping, key)), strict=True):
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_TEXT:
            ctx.add(line, key, f"each item should be short text, got {describe_value(item)}")
        else:
            out.append(item.strip())
    return tuple(out)


def _item_lines(seq: list[Any], fallback: int) -> list[int]:
    return list(seq.item_lines) if isinstance(seq, YamlSeq) else [fallback] * len(seq)


def _spoken(ctx: _Ctx, key: str, line: int, texts: Iterable[str], sides: str | None) -> None:
    """Only {side} and {other} may appear, and only in a two-sided exercise."""
    for text in texts:
        names = re.findall(r"\{([^{}]*)\}", text)
        bad = [n for n in names if n not in ("side", "other")]
        if bad or text.count("{") != len(names) or text.count("}") != len(names):
            ctx.add(line, key, f"only {{side}} and {{other}} may appear in braces: {text[:60]!r}")
        elif names and sides == "none":
            ctx.add(line, key, "uses {side}/{other} but dosage.sides is 'none'")


def _number(ctx: _Ctx, mapping: YamlMap, key: str) -> float | None:
    value = mapping[key]
    lo, hi, whole = DOSAGE_LIMITS[key]
    line = _line(mapping, key)
    kind = "a whole number" if whole else "a number of seconds"
    if isinstance(value, bool) or not isinstance(value, int | float):
        ctx.add(line, key, f"should be {kind}, got {describe_value(value)}")
        return None
    if not math.isfinite(value) or (whole and value != int(value)):
        ctx.add(line, key, f"should be {kind}, got {describe_value(value)}")
        return None
    if value < lo:
        ctx.add(line, key, f"{value} is too small; the least allowed is {lo}")
        return None
    if value > hi:
        ctx.add(line, key, f"{value} is absurd; the most allowed is {hi}")
        return None
    return int(value) if whole else float(value)


def _dosage_fields(ctx: _Ctx, mapping: YamlMap) -> dict[str, Any]:
    """The dosage keys present in `mapping`, checked (shared by exercises and routine steps)."""
    out: dict[str, Any] = {}
    for key in DOSAGE_LIMITS:
        if key in mapping:
            number = _number(ctx, mapping, key)
            if number is not None:
                out[key] = number
    if "sides" in mapping:
        sides = mapping["sides"]
        if sides in SIDES:
            out["sides"] = sides
        else:
            ctx.add(_line(mapping, "sides"), "sides", _not_one_of(sides, SIDES))
    return out


def _dosage(ctx: _Ctx, value: Any, line: int) -> Dosage | None:
    if not isinstance(value, YamlMap):
        ctx.add(
            line, "dosage", f"should be a mapping of hold_s, reps, ..., got {describe_value(value)}"
        )
        return None
    _unknown_keys(ctx, value, DOSAGE_KEYS)
    _missing(ctx, value, ("hold_s",))
    fields = _dosage_fields(ctx, value)
    defaults = _texts(ctx, value, "defaults")
    for name in defaults:
        if name not in DOSAGE_LIMITS and name != "sides":
            ctx.add(_line(value, "defaults"), "defaults", f"'{name}' is not a dosage field")
    if "hold_s" not in fields:
        return None
    if fields["hold_s"] == 0 and fields.get("rep_s", 0) <= 0:
        ctx.add(_line(value, "hold_s"), "rep_s", "a moving rep (hold_s 0) needs rep_s > 0")
    wrong = _hold_min_problem(fields["hold_s"], fields.get("hold_min_s"))
    if wrong:
        ctx.add(_line(value, "hold_min_s"), "hold_min_s", wrong)
    return Dosage(**fields, defaults=defaults)


def _hold_min_problem(hold_s: float, hold_min_s: float | None) -> str | None:
    """Why `hold_min_s` cannot be the shortest of these holds; None when it can (or is unset)."""
    if hold_min_s is None:
        return None
    if hold_s == 0:
        return "a moving rep (hold_s 0) has no hold to keep a minimum for; leave hold_min_s out"
    if hold_min_s <= 0:
        return "should be above 0 (the shortest hold the page gives), or left out"
    if hold_min_s > hold_s:
        return (
            f"{hold_min_s:g} s is longer than hold_s ({hold_s:g} s); it is the shortest a hold "
            "may get at a quicker pace, so at most hold_s"
        )
    return None


def _source(ctx: _Ctx, value: Any, line: int, key: str) -> SourcePage | None:
    if not isinstance(value, YamlMap):
        ctx.add(line, key, f"should be a mapping with seed and title, got {describe_value(value)}")
        return None
    _unknown_keys(ctx, value, SOURCE_KEYS)
    _missing(ctx, value, SOURCE_KEYS)
    seed, title = _text(ctx, value, "seed"), _text(ctx, value, "title")
    return SourcePage(seed, title) if seed and title else None


def _list_of_maps(ctx: _Ctx, mapping: YamlMap, key: str) -> list[tuple[Any, int]]:
    if key not in mapping:
        return []
    value = mapping[key]
    if not isinstance(value, list):
        ctx.add(_line(mapping, key), key, f"should be a list, got {describe_value(value)}")
        return []
    return list(zip(value, _item_lines(value, _line(mapping, key)), strict=True))


def _variants(ctx: _Ctx, mapping: YamlMap) -> tuple[Variant, ...]:
    out = []
    for item, line in _list_of_maps(ctx, mapping, "variants"):
        if not isinstance(item, YamlMap):
            ctx.add(
                line, "variants", f"each variant should be a mapping, got {describe_value(item)}"
            )
            continue
        _unknown_keys(ctx, item, VARIANT_KEYS)
        _missing(ctx, item, VARIANT_KEYS)
        name, note = _text(ctx, item, "name"), _text(ctx, item, "note")
        source = (
            _source(ctx, item["source"], _line(item, "source"), "source")
            if "source" in item
            else None
        )
        if name and note and source:
            out.append(Variant(name, source, note))
    return tuple(out)


def _entry_id(ctx: _Ctx, item: YamlMap) -> str | None:
    value = item.get("id")
    if "id" not in item:
        return None
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        msg = f"should be lower_case_with_underscores, got {describe_value(value)}"
        fixed = loose_key(value) if isinstance(value, str) else ""
        if ID_PATTERN.match(fixed):
            msg += f"; write '{fixed}'"
        ctx.add(_line(item, "id"), "id", msg)
        return None
    return value


def _sources(ctx: _Ctx, item: YamlMap) -> tuple[SourcePage, ...]:
    pages = (
        _source(ctx, src, line, "sources") for src, line in _list_of_maps(ctx, item, "sources")
    )
    return tuple(page for page in pages if page)


def _sides_valid(item: YamlMap) -> bool:
    """Whether the exercise's sides are as written: an invalid one is reported on its own, and
    the 'none' left in its place says nothing about the text that names a side."""
    dosage = item.get("dosage")
    return not isinstance(dosage, YamlMap) or dosage.get("sides", "none") in SIDES


def _check_spoken(ctx: _Ctx, item: YamlMap, built: dict[str, Any], sides: str | None) -> None:
    for key in SPOKEN_KEYS:
        value = built[key]
        texts = value if isinstance(value, tuple) else (value,) if isinstance(value, str) else ()
        _spoken(ctx, key, _line(item, key), texts, sides)


def _change(ctx: _Ctx, item: YamlMap, key: str, default: Change) -> Change:
    """One of CHANGES (the planner times each); a typo gets a did-you-mean."""
    value = item.get(key, default)
    if value in CHANGES:
        return cast(Change, value)
    ctx.add(_line(item, key), key, _not_one_of(value, CHANGES))
    return default


def _kind(ctx: _Ctx, item: YamlMap) -> Kind:
    """stretch (the default) or strength; a typo gets a did-you-mean."""
    value = item.get("kind", "stretch")
    if value in KINDS:
        return cast(Kind, value)
    ctx.add(_line(item, "kind"), "kind", _not_one_of(value, KINDS))
    return "stretch"


def _exercise(ctx: _Ctx, item: Any, line: int) -> Exercise | None:
    if not isinstance(item, YamlMap):
        ctx.add(line, "", f"each exercise should be a mapping, got {describe_value(item)}")
        return None
    before = len(ctx.problems)
    ex_id = _entry_id(ctx, item)
    ctx.where = f"exercise '{ex_id or '?'}'"
    _unknown_keys(ctx, item, EXERCISE_KEYS)
    _missing(ctx, item, EXERCISE_REQUIRED)
    position = item.get("position")
    if "position" in item and position not in POSITIONS:
        ctx.add(_line(item, "position"), "position", _not_one_of(position, POSITIONS))
    dosage = _dosage(ctx, item["dosage"], _line(item, "dosage")) if "dosage" in item else None
    sources = _sources(ctx, item)
    built: dict[str, Any] = dict(
        name=_text(ctx, item, "name"),
        props=_texts(ctx, item, "props"),
        setup=_texts(ctx, item, "setup"),
        steps=_texts(ctx, item, "steps"),
        cautions=_texts(ctx, item, "cautions"),
        aliases=_texts(ctx, item, "aliases"),
        easier=_text(ctx, item, "easier"),
        harder=_text(ctx, item, "harder"),
        hold_cue=_text(ctx, item, "hold_cue"),
        release=_text(ctx, item, "release"),
        rep_cues=_texts(ctx, item, "rep_cues"),
        reposition=_text(ctx, item, "reposition"),
        rep_change=_change(ctx, item, "rep_change", "same"),
        side_change=_change(ctx, item, "side_change", "switch"),
        kind=_kind(ctx, item),
        side_cue=_text(ctx, item, "side_cue"),
        dosage_note=_text(ctx, item, "dosage_note", "") or "",
        variants=_variants(ctx, item),
    )
    if isinstance(item.get("steps"), list) and not built["steps"]:
        ctx.add(_line(item, "steps"), "steps", "needs at least one spoken step")
    _check_spoken(ctx, item, built, dosage.sides if dosage and _sides_valid(item) else None)
    cue = built["side_cue"]
    if cue and "{side}" not in cue and "{other}" not in cue:
        msg = "should name the side with {side} or {other}: '{side} arm, {other} leg.'"
        ctx.add(_line(item, "side_cue"), "side_cue", msg)
    if len(ctx.problems) > before or not (ex_id and dosage and built["name"]):
        return None
    return Exercise(
        id=ex_id,
        sources=sources,
        position=cast(Position, position),
        dosage=dosage,
        file=ctx.file,
        line=item.line,
        **built,
    )


@dataclass(frozen=True)
class _StepRef:
    """A routine step before exercise ids are resolved (they may live in another file)."""

    exercise_id: str
    overrides: dict[str, Any]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)
    broken: bool = False  # a problem of its own: only whether its exercise exists is checked

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True)
class _RoutineDraft:
    id: str
    name: str
    description: str
    aliases: tuple[str, ...]
    steps: tuple[_StepRef, ...]
    file: str
    line: int
    # With a problem of its own it is skipped, but its steps and names are still checked,
    # so one run of `check` reports every problem; `outcome` is what its problems cost.
    broken: bool = False
    outcome: str = ""


def _step(ctx: _Ctx, item: Any, line: int) -> _StepRef | None:
    if isinstance(item, str):
        return _StepRef(item, {}, line)
    if not isinstance(item, YamlMap):
        msg = f"each step should be an exercise id or a mapping, got {describe_value(item)}"
        ctx.add(line, "steps", msg)
        return None
    before = len(ctx.problems)
    _unknown_keys(ctx, item, STEP_KEYS)
    exercise = item.get("exercise")
    if not isinstance(exercise, str):
        ctx.add(
            item.line, "exercise", f"each step needs an exercise id, got {describe_value(exercise)}"
        )
        return None
    overrides = _dosage_fields(ctx, item)
    broken = len(ctx.problems) > before
    return _StepRef(exercise, overrides, item.line, dict(item.key_lines), broken)


def _routine(ctx: _Ctx, item: Any, line: int) -> _RoutineDraft | None:
    if not isinstance(item, YamlMap):
        ctx.add(line, "", f"each routine should be a mapping, got {describe_value(item)}")
        return None
    before = len(ctx.problems)
    r_id = _entry_id(ctx, item)
    ctx.where = f"routine '{r_id or '?'}'"
    _unknown_keys(ctx, item, ROUTINE_KEYS)
    _missing(ctx, item, ROUTINE_REQUIRED)
    name = _text(ctx, item, "name")
    description = _text(ctx, item, "description", "") or ""
    aliases = _texts(ctx, item, "aliases")
    steps = []
    raw_steps = _list_of_maps(ctx, item, "steps")
    if "steps" in item and isinstance(item["steps"], list) and not raw_steps:
        ctx.add(_line(item, "steps"), "steps", "empty routine: list at least one exercise id")
    for step_item, step_line in raw_steps:
        step = _step(ctx, step_item, step_line)
        if step:
            steps.append(step)
    broken = len(ctx.problems) > before or not (r_id and name)
    return _RoutineDraft(
        r_id or "?",
        name or "",
        description,
        aliases,
        tuple(steps),
        ctx.file,
        item.line,
        broken,
        ctx.outcome if broken else "",
    )


# Built-in entries by (kind, id) -> spoken name: what a broken user entry leaves in place.
_Kept = dict[tuple[str, str], str]


def _skipped(kind: str, entry_id: str | None, kept: _Kept) -> str:
    """The outcome of a broken entry: it is skipped, and the built-in it meant to replace stays."""
    what = f"{kind} '{entry_id}'" if entry_id else f"this {kind}"
    builtin = kept.get((kind, entry_id)) if entry_id else None
    return f"{what} is skipped; the built-in {builtin} is kept" if builtin else f"{what} is skipped"


def _raw_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, YamlMap) else None
    return value if isinstance(value, str) and ID_PATTERN.match(value) else None


def _raw_names(item: Any) -> tuple[str, ...]:
    """An entry's id, name and aliases as written, whatever is wrong with them."""
    if not isinstance(item, YamlMap):
        return ()
    aliases = item.get("aliases")
    names = [item.get("id"), item.get("name"), *(aliases if isinstance(aliases, list) else ())]
    return tuple(n for n in names if isinstance(n, str))


@dataclass
class _Entries:
    """One key's entries: those that load, what was built of the broken ones (a routine's
    draft, still checked), and every broken one as Skipped."""

    good: list[Any] = field(default_factory=list)
    broken: list[Any] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _entries(
    ctx: _Ctx, doc: YamlMap, key: str, build: Callable[[_Ctx, Any, int], Any], kept: _Kept
) -> _Entries:
    out = _Entries()
    kind = key.removesuffix("s")
    ctx.outcome = "it is ignored"  # the key holds no list: none of its entries load
    for item, line in _list_of_maps(ctx, doc, key):
        ctx.where = ""
        # any problem in the entry drops the whole entry, so its outcome is known up front
        ctx.outcome = _skipped(kind, _raw_id(item), kept)
        before = len(ctx.problems)
        built = build(ctx, item, line)
        if built is not None and len(ctx.problems) == before:  # only the broken entry is lost
            out.good.append(built)
            continue
        if built is not None:
            out.broken.append(built)
        at = item.line if isinstance(item, YamlMap) else line
        out.skipped.append(Skipped(kind, _raw_id(item) or "", _raw_names(item), ctx.file, at))
    ctx.where = ""
    return out


@dataclass(frozen=True)
class _FileContent:
    file: str
    problems: tuple[Problem, ...]
    exercises: tuple[Exercise, ...] = ()
    routines: tuple[_RoutineDraft, ...] = ()
    broken_routines: tuple[_RoutineDraft, ...] = ()
    skipped: tuple[Skipped, ...] = ()


_TOP_KEY = re.compile(r"^([A-Za-z_]+)\s*:")
_ENTRY_WORD = re.compile(r"\b(id|name)\s*:\s*[\"']?([^,\n{}\[\]\"'#]+)")


def _written_in(text: str, file: str) -> tuple[Skipped, ...]:
    """The ids and names a file that cannot be read seems to hold, line by line under its
    `exercises:` and `routines:`: enough to tell what needs one of them where it is."""
    found = []
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        top = _TOP_KEY.match(line)
        section = top.group(1) if top else section
        if section not in TOP_KEYS:
            continue
        for key, value in _ENTRY_WORD.findall(line):
            word = value.strip()
            entry_id = word if key == "id" else ""
            found.append(Skipped(section.removesuffix("s"), entry_id, (word,), file, number))
    return tuple(found)


def _read_file(path: Path, kept: _Kept) -> _FileContent:
    """One file -> its valid entries and every problem in it (never raises)."""
    name = str(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
            size = max(len(data), path.stat().st_size)
    except OSError as err:
        return _FileContent(name, (_file_problem(name, 0, f"cannot read: {err.strerror}"),))
    if size > MAX_FILE_BYTES:
        msg = (
            f"the file is {size / (1 << 20):.1f} MB ({size:,} bytes), over the 1 MB limit "
            f"({MAX_FILE_BYTES:,} bytes) for an exercise or routine file; it was not read: "
            "split it or remove what is not needed"
        )
        return _FileContent(name, (_file_problem(name, 0, msg),))
    doc, problems = _parse(path, data)
    ctx = _Ctx(name, problems=problems, outcome=FILE_SKIPPED)
    if doc is None and not problems:
        return _FileContent(name, ())  # an empty file is fine
    if doc is not None and not isinstance(doc, YamlMap):
        ctx.add(
            1,
            "",
            f"the file should hold a mapping with exercises/routines, got {describe_value(doc)}",
        )
    if not isinstance(doc, YamlMap):
        written = _written_in(data.decode("utf-8", errors="replace"), name)
        return _FileContent(name, tuple(ctx.problems), skipped=written)
    ctx.outcome = "it is ignored"  # an unknown top-level key
    _unknown_keys(ctx, doc, TOP_KEYS)
    exercises = _entries(ctx, doc, "exercises", _exercise, kept)
    routines = _entries(ctx, doc, "routines", _routine, kept)
    return _FileContent(
        name,
        tuple(ctx.problems),
        tuple(exercises.good),
        tuple(routines.good),
        tuple(routines.broken),
        (*exercises.skipped, *routines.skipped),
    )


# --- assembling the library -----------------------------------------------------------------


def yaml_files(root: Path) -> list[Path]:
    """The YAML files under a directory (sorted, so load order is stable), or the file itself.

    The suffix matches in any case: some editors and phones save `Mine.YAML`.
    """
    if root.is_dir():
        return [p for p in _yaml_named(root) if p.is_file()]
    return [root]


def _yaml_named(folder: Path) -> list[Path]:
    """Everything under `folder` named like a YAML file, sorted, editor backups (dot
    files) left out: the files to read, and links to files that are gone."""
    found = (p for p in folder.rglob("*") if p.suffix.lower() in YAML_SUFFIXES)
    return sorted(p for p in found if not p.name.startswith("."))


def _folder_yaml(folder: Path) -> tuple[list[Path], list[Problem]]:
    """The YAML files under `folder` and its broken links, from one walk of it."""
    named = _yaml_named(folder)
    return [p for p in named if p.is_file()], _broken_links(named)


def _broken_links(named: list[Path]) -> list[Problem]:
    """A link named like a YAML file that points at nothing (a file moved or deleted): it is
    not read, and saying nothing would leave the person wondering where their routine went."""
    return [_link_problem(p) for p in named if p.is_symlink() and not p.exists()]


def _link_problem(path: Path) -> Problem:
    try:
        target = str(path.readlink())
    except OSError:
        target = "something"
    msg = f"a link to {target}, which does not exist: point it at your file, or remove it"
    return Problem(str(path), 0, "", "", msg, "nothing is read from it")


def user_files(user_dir: Path) -> tuple[list[Path], tuple[Problem, ...]]:
    """The person's YAML files: none before they make the folder, and a problem when the
    folder is a file (made by mistake), because then nothing of theirs loads, or for a link
    to a file that is gone."""
    if user_dir.is_dir():
        files, links = _folder_yaml(user_dir)
        return files, tuple(links)
    if not user_dir.exists():
        return [], ()
    msg = (
        f"'{user_dir.name}' is a file, not a folder: move it aside, make a folder named "
        f"'{user_dir.name}' here and put your .yaml files in it"
    )
    return [], (Problem(str(user_dir), 0, "", "", msg, "none of your files are read"),)


@dataclass
class _Gathered:
    """What the files hold, origin by origin (built-in, then the person's)."""

    exercises: dict[str, Exercise] = field(default_factory=dict)
    versions: dict[str, list[_RoutineDraft]] = field(default_factory=dict)
    broken: list[_RoutineDraft] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _merge(contents: list[_FileContent], into: _Gathered) -> None:
    """Add one origin's files; a repeated id within the same origin is a problem.

    An exercise replaces the one with its id. A routine is stacked on the version it
    replaces: whether it works is known only once every exercise is in (_resolve_newest).
    """
    seen: dict[tuple[str, str], str] = {}
    broken = [draft for content in contents for draft in content.broken_routines]
    for content in contents:
        into.problems.extend(content.problems)  # its broken entries are left out, not the file
        into.skipped.extend(content.skipped)
        for exercise in content.exercises:
            if _first_in_origin(seen, "exercise", exercise, into.problems):
                into.exercises[exercise.id] = exercise
        for draft in content.routines:
            if _first_in_origin(seen, "routine", draft, into.problems):
                into.versions.setdefault(draft.id, []).append(draft)
    for draft in broken:  # skipped anyway: the id it repeats is said now, not after a fix
        other = seen.get(("routine", draft.id))
        if other:
            msg = f"duplicate id; also defined in {other}"
            where = f"routine '{draft.id}'"
            into.problems.append(Problem(draft.file, draft.line, where, "id", msg, draft.outcome))
    into.broken.extend(broken)


def _first_in_origin(
    seen: dict[tuple[str, str], str],
    kind: str,
    entry: Exercise | _RoutineDraft,
    problems: list[Problem],
) -> bool:
    """Whether this id is new among its origin's files; a repeat is a problem and is skipped."""
    first = seen.get((kind, entry.id))
    if first is None:
        seen[(kind, entry.id)] = f"{entry.file}:{entry.line}"
        return True
    msg = f"duplicate id; already defined in {first}"
    where = f"{kind} '{entry.id}'"
    problems.append(Problem(entry.file, entry.line, where, "id", msg, "this one is skipped"))
    return False


def _names_the_side(exercise: Exercise) -> bool:
    """Whether what the exercise says fills in a side, so it needs two sides to make sense."""
    for key in SPOKEN_KEYS:
        value = getattr(exercise, key)
        texts = value if isinstance(value, tuple) else (value,) if isinstance(value, str) else ()
        if any("{side}" in text or "{other}" in text for text in texts):
            return True
    return False


def _step_problem(ref: _StepRef, exercise: Exercise, dosage: Dosage) -> tuple[str, str] | None:
    """(field, message) when the routine's overrides make the step impossible to coach."""
    if dosage.hold_s == 0 and dosage.rep_s <= 0:
        return "hold_s", f"'{ref.exercise_id}' with hold_s 0 needs rep_s > 0"
    if "hold_min_s" in ref.overrides:
        wrong = _hold_min_problem(dosage.hold_s, dosage.hold_min_s)
        if wrong:
            return "hold_min_s", f"'{ref.exercise_id}': hold_min_s {wrong}"
    if dosage.sides == "none" and _names_the_side(exercise):
        return "sides", (
            f"'{ref.exercise_id}' names the side ({{side}}/{{other}}) in what it says, so it "
            "cannot be done with sides 'none'; use 'each' or 'alternating', or leave sides out"
        )
    return None


def _exercise_words(exercises: dict[str, Exercise]) -> dict[str, str]:
    """What a person may write for an exercise's id: the id, its name or an alias."""
    words = {ex_id: ex_id for ex_id in exercises}
    for exercise in exercises.values():
        for word in (exercise.name, *exercise.aliases):
            words.setdefault(word, exercise.id)
    return words


@dataclass(frozen=True)
class _Exercises:
    """The exercises routines are resolved against, and those written that did not load."""

    loaded: dict[str, Exercise]
    skipped: dict[str, Skipped]

    @cached_property
    def words(self) -> dict[str, str]:
        return _exercise_words(self.loaded)

    def missing(self, ex_id: str) -> str:
        """Why a step's exercise is not there: skipped for its own problem, or unknown."""
        gone = self.skipped.get(ex_id)
        if gone:
            return f"'{ex_id}' is skipped (see its problem at {gone.place})"
        close = closest(ex_id, self.words)
        hint = f"; did you mean '{close}'?" if close else ""
        return f"unknown exercise '{ex_id}'{hint}"


def _resolve(draft: _RoutineDraft, known: _Exercises, problems: list[Problem]) -> Routine | None:
    steps = []
    where = f"routine '{draft.id}'"
    for ref in draft.steps:
        exercise = known.loaded.get(ref.exercise_id)
        if exercise is None:
            problems.append(
                Problem(draft.file, ref.line, where, "steps", known.missing(ref.exercise_id))
            )
            continue
        if ref.broken:  # its own problem is reported; what it asks for is not known
            continue
        dosage = exercise.dosage.override(**ref.overrides)
        wrong = _step_problem(ref, exercise, dosage)
        if wrong:
            key, msg = wrong
            problems.append(Problem(draft.file, ref.line_of(key), where, key, msg))
            continue
        steps.append(RoutineStep(ref.exercise_id, dosage))
    if draft.broken or len(steps) != len(draft.steps):
        return None
    return Routine(
        draft.id, draft.name, draft.description, tuple(steps), draft.aliases, draft.file, draft.line
    )


def _as_skipped(draft: _RoutineDraft) -> Skipped:
    names = (draft.id, draft.name, *draft.aliases)
    return Skipped("routine", draft.id, names, draft.file, draft.line)


def _resolve_newest(
    versions: list[_RoutineDraft], known: _Exercises, into: _Gathered
) -> Routine | None:
    """The newest version of a routine that works: a broken override leaves the built-in."""
    failed: list[tuple[_RoutineDraft, list[Problem]]] = []
    routine = None
    for draft in reversed(versions):
        found: list[Problem] = []
        routine = _resolve(draft, known, found)
        if routine:
            break
        failed.append((draft, found))
    for draft, found in failed:
        kept = {("routine", draft.id): routine.name} if routine else {}
        outcome = _skipped("routine", draft.id, kept)
        into.problems.extend(replace(p, outcome=outcome) for p in found)
        into.skipped.append(_as_skipped(draft))
    return routine


def _name_index(library: Library) -> dict[str, list[Routine]]:
    """Each spoken key (routine_key) -> the routines answering to it, in library order: the
    first is the one saying it finds (find_routine)."""
    index: dict[str, list[Routine]] = {}
    for routine in library.routines.values():
        keys = {routine_key(n) for n in (routine.id, routine.name, *routine.aliases)}
        for key in keys - {""}:
            index.setdefault(key, []).append(routine)
    return index


def _reports_clash(
    routine: Routine, other: Routine, order: dict[str, int], builtin: set[str]
) -> bool:
    """Which of two routines sharing a name gets the problem: the person's, since only they
    can rename it; between two of the same origin, the later one, which that name misses."""
    mine, theirs = routine.file not in builtin, other.file not in builtin
    if mine != theirs:
        return mine
    return order[routine.id] > order[other.id]


def _clash(
    routine: Routine, other: Routine, key: str, name: str, first: Routine, builtin: set[str]
) -> Problem:
    """The problem for `routine`'s `key` saying `name`, which `other` answers to as well
    (`first`: the routine saying `name` finds)."""
    other_builtin = other.file in builtin
    whose = "the built-in routine" if other_builtin else "routine"
    effect = (
        "saying it starts that one, not this"
        if first.id == other.id
        else f"so '{other.id}' can no longer be started by it"
    )
    if key == "aliases":
        advice = "choose another name for this alias, or remove it"
    elif other_builtin and routine.file not in builtin:
        advice = f"give this routine another name, or use id '{other.id}' to replace the built-in"
    else:
        advice = "give one of them another name"
    msg = (
        f"'{name}' also names {whose} '{other.id}' ({other.file}:{other.line}): {effect}; {advice}"
    )
    return Problem(routine.file, routine.line, f"routine '{routine.id}'", key, msg)


def _clashes_of(
    routine: Routine,
    index: dict[str, list[Routine]],
    builtin: set[str],
    order: dict[str, int] | None,
) -> list[Problem]:
    """The clashes `routine`'s names and aliases cause that it is the one to report (every
    one of them when `order` is None: a routine skipped for another problem)."""
    problems = []
    names = [("name", routine.name), *(("aliases", alias) for alias in routine.aliases)]
    for key, name in names:
        answering = index.get(routine_key(name), [])
        for other in answering:
            if other.id == routine.id:
                continue
            if order is None or _reports_clash(routine, other, order, builtin):
                problems.append(_clash(routine, other, key, name, answering[0], builtin))
    return problems


def _name_clashes(library: Library, builtin_files: set[str]) -> list[Problem]:
    """A spoken name or alias two routines share starts only the first of them ("start
    upper back"), so the other can never be reached by it. Names are looked up in an index,
    not compared pair by pair: a few thousand routines take as long to check as to load."""
    index = _name_index(library)
    order = {routine_id: place for place, routine_id in enumerate(library.routines)}
    # ids are not checked: the commands look an id up exactly, and nobody says one
    return [
        problem
        for routine in library.routines.values()
        for problem in _clashes_of(routine, index, builtin_files, order)
    ]


def _check_broken(
    draft: _RoutineDraft, known: _Exercises, index: dict[str, list[Routine]], builtin: set[str]
) -> list[Problem]:
    """What else is wrong with a routine skipped for a problem of its own (its exercises,
    and its names against the routines that loaded): one run of `check` shows it all."""
    found: list[Problem] = []
    _resolve(draft, known, found)
    shape = Routine(draft.id, draft.name, "", (), draft.aliases, draft.file, draft.line)
    found += _clashes_of(shape, index, builtin, None)
    return [replace(p, outcome=draft.outcome) for p in found]


def _kept(gathered: _Gathered) -> _Kept:
    kept = {("exercise", ex_id): exercise.name for ex_id, exercise in gathered.exercises.items()}
    kept.update(
        {("routine", r_id): versions[-1].name for r_id, versions in gathered.versions.items()}
    )
    return kept


def _by_file(problems: list[Problem], files: list[Path]) -> list[Problem]:
    """Problems file by file, in the order the files load, and by line within a file: what
    is wrong with one routine reads together."""
    rank = {str(path): place for place, path in enumerate(files)}
    return sorted(problems, key=lambda p: (rank.get(p.file, -1), p.line))


def _assemble(origins: Sequence[Sequence[Path]]) -> LoadResult:
    """Each origin's files in turn (built-in, then the person's); then every routine, against
    the exercises they make together."""
    gathered = _Gathered()
    for files in origins:
        kept = _kept(gathered)
        _merge([_read_file(p, kept) for p in files], gathered)
    skipped = {s.id: s for s in reversed(gathered.skipped) if s.kind == "exercise" and s.id}
    known = _Exercises(gathered.exercises, skipped)
    routines = {}
    for stack in gathered.versions.values():
        routine = _resolve_newest(stack, known, gathered)
        if routine:
            routines[routine.id] = routine
    library = Library(gathered.exercises, routines)
    builtin = {str(p) for p in origins[0]} if origins else set()
    problems = [*gathered.problems, *_name_clashes(library, builtin)]
    index = _name_index(library) if gathered.broken else {}
    for draft in gathered.broken:
        problems += _check_broken(draft, known, index, builtin)
    ordered = _by_file(problems, [p for files in origins for p in files])
    return LoadResult(library, tuple(ordered), tuple(gathered.skipped))


def _default_dirs(builtin_dir: Path | None, user_dir: Path | None) -> tuple[Path, Path]:
    from skill import paths

    return builtin_dir or paths.builtin_exercises_dir(), user_dir or paths.user_routines_dir()


def load_library(builtin_dir: Path | None = None, user_dir: Path | None = None) -> LoadResult:
    """Built-in files, then the user's (which add or replace by id). Never raises on bad input."""
    builtin, user = _default_dirs(builtin_dir, user_dir)
    files, problems = user_files(user)
    result = _assemble([yaml_files(builtin), files])
    return replace(result, problems=(*problems, *result.problems))


def files_to_check(paths: Sequence[Path]) -> list[Path]:
    """The files `check_paths` reads for these paths (for saying what was checked)."""
    return [f for p in paths for f in (yaml_files(p) if p.exists() else [p])]


def _given_files(paths: Sequence[Path]) -> tuple[list[Problem], list[Path]]:
    """The YAML files a person named, and what is wrong with a path that holds none."""
    problems: list[Problem] = []
    files: list[Path] = []
    for path in paths:
        found, links = _folder_yaml(path) if path.is_dir() else ([path], [])
        problems.extend(links)
        if path.is_symlink() and not path.exists():
            problems.append(_link_problem(path))
        elif not path.exists():
            problems.append(Problem(str(path), 0, "", "", "no such file or directory"))
        elif path.is_dir() and not found and not links:
            problems.append(Problem(str(path), 0, "", "", "no .yaml or .yml files in this folder"))
        else:
            files.extend(found)
    return list(dict.fromkeys(problems)), files  # a link given and in a folder given: once


def check_paths(
    paths: Sequence[Path], builtin_dir: Path | None = None, user_dir: Path | None = None
) -> tuple[Problem, ...]:
    """Validate files/dirs as the service would load them; report only their problems.

    Files inside the built-in directory count as built-in: a user file overriding a
    built-in id is fine, the same id twice among the built-ins (or among the others) is not.
    Any other file is checked as one of the person's, beside the files in `user_dir` (their
    folder; None for none), so a routine may use an exercise from another of their files.
    """
    builtin = (builtin_dir or _default_dirs(None, None)[0]).resolve()
    problems, given = _given_files(paths)
    builtin_files = yaml_files(builtin) if builtin.is_dir() else []
    beside = user_files(user_dir)[0] if user_dir else []
    loaded = {f.resolve() for f in (*builtin_files, *beside)}
    added = {f.resolve(): f for f in given if f.resolve() not in loaded}
    wanted = {f.resolve() for f in given}
    found = _assemble([builtin_files, [*beside, *added.values()]]).problems
    return (*problems, *(p for p in found if Path(p.file).resolve() in wanted))
