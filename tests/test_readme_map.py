"""The README's Development map names every module of skill/, one line each, so a newcomer
finds any concern from the map."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def map_entries() -> list[str]:
    """The first word of each line of the map (the code block under "## Development")."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Development\n", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no map under ## Development"
    return [line.split()[0] for line in block.group(1).splitlines() if line.strip()]


def modules() -> list[str]:
    """Every module and subpackage of skill/ as the map names it: 'wiring.py', 'core/'."""
    names = ["skill/"]
    for path in sorted((REPO / "skill").rglob("*")):
        if "__pycache__" in path.parts or path.name == "__init__.py":
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            names.append(f"{path.name}/")
        elif path.suffix == ".py":
            names.append(path.name)
    return names


def test_the_map_names_every_module_once() -> None:
    entries = map_entries()
    missing = [name for name in modules() if name not in entries]
    assert missing == [], f"add to the README's Development map: {missing}"
    listed_twice = {name for name in entries if name.endswith(".py") and entries.count(name) > 1}
    assert listed_twice == set()


def test_the_map_names_no_module_that_is_gone() -> None:
    known = set(modules())
    gone = [e for e in map_entries() if e.endswith(".py") and e not in known]
    assert gone == []
