"""The package's layers, read from the source: what each part of skill/ may import.

The core must run on a virtual clock with no device, file or engine behind it; the CLI is the
outermost shell, so nothing may reach back into it; the tools (demo, bench, corpora) are for
developers, so the service must never need them; and the product must never need its tests.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SKILL = Path(__file__).resolve().parents[1] / "skill"

# Libraries that reach a device, an engine or the network.
IO_LIBRARIES = ("sounddevice", "vosk", "pocketsphinx", "piper", "gpiozero", "sdnotify")
# `python -m skill` is the command too.
ENTRY_POINTS = ("skill.cli", "skill.__main__")
OUTER_PACKAGES = (
    "speech_in",
    "speech_out",
    "hardware",
    "service",
    "cli",
    "tools",
    "library",
    "web",
)


@dataclass(frozen=True)
class Violation:
    module: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module} imports {self.imported}: {self.rule}"


def imported_modules(source: str, module: str) -> list[str]:
    """Every module `source` imports, lazily or not, with relative imports made absolute."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            # `from skill.x import y` may import the module skill.x.y: count both.
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, *packages: str) -> bool:
    return any(name == pkg or name.startswith(pkg + ".") for pkg in packages)


def check(module: str, imports: list[str]) -> list[Violation]:
    """The layer rules for one module of skill/ and what it imports."""
    found: list[Violation] = []
    for name in imports:
        if _within(module, "skill.core"):
            if any(_within(name, lib) for lib in IO_LIBRARIES):
                found.append(Violation(module, name, "the core imports no I/O library"))
            if any(_within(name, f"skill.{pkg}") for pkg in OUTER_PACKAGES):
                found.append(Violation(module, name, "the core imports only the core"))
        if _within(name, "skill.cli") and not _within(module, *ENTRY_POINTS):
            found.append(Violation(module, name, "only the CLI imports skill.cli"))
        if _within(name, "skill.tools") and not _within(module, "skill.tools", "skill.cli"):
            found.append(Violation(module, name, "only tools and the CLI import skill.tools"))
        if _within(name, "tests") or _within(name, "speech_corpus"):
            found.append(Violation(module, name, "the package never imports its tests"))
    return found


def package_modules() -> dict[str, str]:
    """Every module of skill/ by dotted name, with its source."""
    modules = {}
    for path in sorted(SKILL.rglob("*.py")):
        parts = path.relative_to(SKILL.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path.read_text(encoding="utf-8")
    return modules


def test_every_module_of_skill_keeps_to_its_layer() -> None:
    modules = package_modules()
    assert "skill.core.player" in modules and "skill.cli.main" in modules  # the walk found the tree
    problems = [
        str(v) for name, src in modules.items() for v in check(name, imported_modules(src, name))
    ]
    assert problems == []


def loads_by_path(source: str) -> bool:
    """Whether `source` names the tests folder as a path, or loads a module from a file."""
    for node in ast.walk(ast.parse(source)):
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and (text == "tests" or text.startswith("tests/")):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "spec_from_file_location":
            return True
    return False


def test_the_package_never_loads_a_file_from_the_tests_folder() -> None:
    """Loading tests/ by path hides from the import rules, and fails in an installed package."""
    assert [name for name, src in package_modules().items() if loads_by_path(src)] == []


@pytest.mark.parametrize(
    "source",
    [
        'CORPUS = REPO / "tests" / "speech_corpus.py"',
        'spec = importlib.util.spec_from_file_location("corpus", path)',
        'load("tests/speech_corpus.py")',
    ],
)
def test_the_path_check_catches_a_file_load(source: str) -> None:
    assert loads_by_path(source)
    assert not loads_by_path('"""Built like the corpus in tests/speech_corpus.py."""')


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("skill.core.player", "import sounddevice", "the core imports no I/O library"),
        ("skill.core.plan", "from vosk import Model", "the core imports no I/O library"),
        ("skill.core.plan", "from skill.speech_out import voice", "the core imports only the core"),
        (
            "skill.core.player",
            "def f():\n    from skill.hardware.gpio import open_gpio",
            "the core imports only the core",
        ),
        ("skill.core.events", "from ..service import router", "the core imports only the core"),
        ("skill.service.service", "from skill.cli.main import main", "only the CLI imports"),
        ("skill.speech_in.asr", "import skill.cli.main", "only the CLI imports skill.cli"),
        ("skill.service.service", "from skill.tools import demo", "only tools and the CLI"),
        ("skill.tools.bench", "from tests import speech_corpus", "never imports its tests"),
    ],
)
def test_the_checker_catches_a_bad_import(module: str, source: str, rule: str) -> None:
    violations = check(module, imported_modules(source, module))
    assert any(rule in v.rule for v in violations), violations


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("skill.core.player", "from skill.core import phrases\nimport math"),
        ("skill.cli.cmd_demo", "from skill.tools.demo import run_demo\nfrom skill.cli import main"),
        ("skill.tools.bench", "from skill.tools import file_audio\nimport sounddevice"),
        ("skill.service.service", "from skill.speech_in.recognizer import open_engine"),
    ],
)
def test_the_checker_allows_what_the_layers_allow(module: str, source: str) -> None:
    assert check(module, imported_modules(source, module)) == []
