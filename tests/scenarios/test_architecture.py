"""The tree tells the pipeline: what each package may import, no import
cycle (imports for types and inside functions included), a pure decision
core, and modules of one idea.

The table below is the code map of ARCHITECTURE.md; a new import that
crosses it fails here, with the line that made it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"

STAGES = ("listen", "understand", "decide", "act", "record")

#: What each package may import from the others (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": set(),
    "settings": {"model"},
    "text": {"model"},
    "rank": {"model", "text"},
    "web": {"text", "settings"},
    "catalog": {"model", "text", "rank", "web", "settings", "errors"},
    "mastodon": {"model", "settings", "errors"},
    "ops": {"settings", "errors"},
    "record": {"model", "errors"},
    "listen": {"mastodon", "record", "ops", "model", "errors"},
    "understand": {"model", "text", "rank", "catalog", "web", "errors"},
    "decide": {"model", "text", "rank", "catalog", "understand"},
    "act": {
        "understand",
        "decide",
        "mastodon",
        "record",
        "ops",
        "catalog",
        "model",
        "text",
        "settings",
        "errors",
    },
    "app": {
        "listen",
        "understand",
        "decide",
        "act",
        "record",
        "catalog",
        "mastodon",
        "web",
        "ops",
        "model",
        "text",
        "settings",
        "errors",
    },
    "console": {
        "ops",
        "record",
        "decide",
        "understand",
        "catalog",
        "app",
        "model",
        "text",
        "settings",
        "errors",
    },
    "cli": {"*"},
    "__main__": {"cli"},
}

#: What the decision core may import (its whole closure at run time): only
#: pure packages; no database, no network, no HTTP, no settings reader.
IO_MODULES = (
    "sqlite3",
    "httpx",
    "mastodon",
    "requests",
    "pydantic_settings",
    "bot.record",
    "bot.mastodon",
    "bot.web",
    "bot.ops",
    "bot.settings",
    "bot.catalog.load",
    "bot.act",
    "bot.listen",
)

#: A module is one idea: a few hundred lines (the house style says 400, 450
#: at most where a split would cut one idea in two).
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every ``bot`` module ``path`` imports, at any depth (type-only and
    function-level imports included), with the line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                yield (name if name in MODULES else node.module), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "bot"


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {
            target
            for target, _ in _imports(path)
            if target in MODULES and target != name and not target.startswith(f"{name}.")
        }
    return graph


def test_every_stage_of_the_pipeline_is_a_package() -> None:
    for stage in STAGES:
        assert (BOT / stage / "__init__.py").is_file(), stage
        assert ast.get_docstring(ast.parse((BOT / stage / "__init__.py").read_text())), stage


def test_each_package_imports_only_what_the_code_map_allows() -> None:
    crossings = []
    for name, path in MODULES.items():
        source = _package(name)
        if source == "bot":
            continue
        allowed = ALLOWED[source]
        for target, line in _imports(path):
            if not target.startswith("bot.") or "*" in allowed:
                continue
            package = _package(target)
            if package not in (source, "bot") and package not in allowed:
                crossings.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert crossings == []


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert [" -> ".join(cycle) for cycle in cycles] == []


def test_the_decision_core_loads_no_io() -> None:
    """In a fresh interpreter, importing ``bot.decide`` loads no database, HTTP
    or Mastodon module, and no module of the stages that do I/O."""
    probe = (
        "import sys, bot.decide\n"
        f"io = {IO_MODULES!r}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in io"
        " or any(m == p or m.startswith(p + '.') for p in io))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert loaded == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_is_one_idea(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by idea"
