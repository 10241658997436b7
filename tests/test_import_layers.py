"""Control flows one way: no module imports, even for type checking, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "state_machines")
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module `path` imports, anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in modules and modules[name].name != "__init__.py"}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {name: _imports(path, modules) for name, path in modules.items()}
    for source, target in KNOWN_CYCLE_EDGES:
        graph[source].discard(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        trail.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return [*trail[trail.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        trail.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycle(_graph()) is None


def test_the_engine_knows_no_channel_and_no_clinician_desk() -> None:
    graph = _graph()
    for name, targets in graph.items():
        if name.startswith("bot.engine."):
            assert not {t for t in targets if t.startswith(("bot.channels.", "bot.clinicians."))}, name


def test_the_flow_stepper_calls_nothing_above_it() -> None:
    above = {"bot.engine.policy", "bot.engine.core", "bot.engine.weekly", "bot.engine.commands", "bot.engine.asking"}
    assert not _graph()["bot.engine.flows"] & above


def test_only_the_command_line_imports_the_command_line() -> None:
    for name, targets in _graph().items():
        assert "bot.cli" not in targets or name in {"bot.cli", "bot.entry"}, name


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_dialogs_code_imports_no_other_project_code() -> None:
    # The record of a passed dialogs check (bot/dialogs/verdict.py) is keyed by the code of
    # bot/dialogs/ alone: code it relied on elsewhere could change without a new check.
    graph = _graph()
    outside = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("bot.dialogs.")
        for target in targets
        if not target.startswith("bot.dialogs.")
    }
    assert outside == set()
