"""YAML as a person edits it: the safe loader only, every mapping and sequence remembering its
lines, and one readable message for whatever keeps a text from loading.

The exercise library and the config file both read hand-edited YAML on a Pi with no
debugger: each message names the line, a tab says "tab", and nothing in a file (a date that
is no date, brackets nested thousands deep) ends in a traceback.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml


class YamlMap(dict[Any, Any]):
    """A YAML mapping that remembers its own line and each key's line."""

    line: int = 0
    key_lines: dict[Any, int]


class YamlSeq(list[Any]):
    """A YAML sequence that remembers its own line and each item's line."""

    line: int = 0
    item_lines: list[int]


def describe_value(value: Any) -> str:
    """A wrong value in plain words ("a list", "the number 3"), never the reader's type names
    and never a repr of a big structure (aliases can explode it)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a {type(value).__name__}"


class YamlTextError(ValueError):
    """A text that is not YAML the safe loader can build; `line` is 1-based, 0 if unknown."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe loader (no arbitrary objects; libyaml when present) that records lines."""

    duplicate_keys: list[tuple[int, str]]


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    result = YamlMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicate_keys.append((line, str(key)))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> YamlSeq:
    result = YamlSeq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml_bytes(data: bytes) -> tuple[Any, list[tuple[int, str]]]:
    """`parse_yaml` of a file's bytes; text that is not UTF-8 is a YamlTextError naming the
    line of the first byte that is not (an editor saving Latin-1 writes 'é' as 0xe9)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        msg = f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8"
        raise YamlTextError(line, msg) from err
    return parse_yaml(text)


def parse_yaml(text: str) -> tuple[Any, list[tuple[int, str]]]:
    """The document, and the (line, key) of each key given twice in one mapping (YAML keeps
    the last in silence; the caller says what that costs). Raises YamlTextError."""
    loader = _LineLoader(text)
    loader.duplicate_keys = []
    try:
        return loader.get_single_data(), loader.duplicate_keys
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(text, err) from err
    except yaml.YAMLError as err:
        raise YamlTextError(0, f"YAML error: {err}") from err
    except RecursionError as err:
        raise YamlTextError(0, "YAML nested too deeply") from err
    except (ValueError, TypeError, OverflowError) as err:  # e.g. a date like 2024-13-45
        raise YamlTextError(0, f"YAML value cannot be read: {err}") from err
    finally:
        loader.dispose()


def _syntax_error(text: str, err: yaml.MarkedYAMLError) -> YamlTextError:
    """The reader's own words, after what they most likely mean for a hand-edited file."""
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark else 0
    opened = err.context_mark.line + 1 if err.context_mark else line
    tab = _tab_indent_line(text, line)
    if tab:
        msg = "a tab is used for indentation; YAML indents with spaces only"
        return YamlTextError(tab, f"YAML syntax error: {msg}")
    what = " ".join(p for p in (err.context, err.problem) if p) or "cannot be read"
    if "'\\t'" in what:
        what = f"a tab where YAML does not allow one (use spaces): {what}"
    if "simple key" in what:  # the key without its ':' is where the scan began
        line = opened
    hint = _plain_hint(what, line, opened)
    said = f"{hint} (YAML: {what})" if hint else what
    return YamlTextError(line, f"YAML syntax error: {said}")


_INDENT_HINT = (
    "check the indentation on line {line}: each level is two spaces deeper than the line it "
    "belongs to, and list items start with '- '"
)


def _plain_hint(what: str, line: int, opened: int) -> str:
    """What a reader's message most likely asks of a person editing by hand; '' if unsure."""
    if "could not find expected ':'" in what:
        return f"line {line} needs a ':' after its key ('name: x'), or its indentation is off"
    for opener, close in (("[", "]"), ("{", "}")):
        if f"or '{close}'" in what:
            return (
                f"the '{opener}' opened on line {opened} is not closed with '{close}', or two "
                "of its items have no ',' between them"
            )
    if "quoted scalar" in what and "end of stream" in what:
        return f"the quote opened on line {opened} is never closed"
    if "mapping values are not allowed" in what:
        return _INDENT_HINT.format(line=line) + "; a value holding ': ' needs quotes"
    jargon = ("expected '-' indicator", "expected key", "expected <block end>")
    if any(j in what for j in jargon):
        return _INDENT_HINT.format(line=line)
    return ""


def loose_key(text: str) -> str:
    """A word as a person may mean it: case, spaces and hyphens aside ('Cat-Cow' is cat_cow)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def closest(word: str, known: Iterable[str] | Mapping[str, str]) -> str | None:
    """The known word `word` most likely means: the same word in another case or with spaces
    or hyphens for underscores, else the nearest spelling; None when none is near. A mapping
    answers with its value ({'child's pose': 'childs_pose'}: a name finds its id)."""
    pairs = known.items() if isinstance(known, Mapping) else ((k, k) for k in known)
    by_key: dict[str, str] = {}
    for name, answer in pairs:
        by_key.setdefault(loose_key(name), answer)
    key = loose_key(word)
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1)
    return by_key[close[0]] if close else None


def _tab_indent_line(text: str, upto: int) -> int:
    """The first line (1-based) up to `upto` whose indentation holds a tab, else 0."""
    for number, line in enumerate(text.splitlines()[: max(upto, 1)], start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            return number
    return 0
