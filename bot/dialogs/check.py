"""The checks that need the whole dialog set: graph, texts and templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError

from bot.dialogs.context import build_context, sample_facts
from bot.dialogs.contract import ACTIONS, REQUIRED_FLOWS, REQUIRED_SIGNALS
from bot.dialogs.contract_check import check_contract
from bot.dialogs.locales import LocaleTable, check_complete
from bot.dialogs.model import DialogSet, Flow, Step
from bot.dialogs.problems import Reader
from bot.dialogs.render import Renderer
from bot.dialogs.system import SYSTEM_TEXTS


def check_semantics(reader: Reader, dialogs: DialogSet, locales: LocaleTable, used: dict[str, str]) -> None:
    """`used`: the text keys the programs and instruments name, with where."""
    needed = {key: "the code expects it: bot/dialogs/system.py" for key in SYSTEM_TEXTS}
    for flow in dialogs.flows.values():
        _check_flow(reader, dialogs, flow, needed)
    check_complete(reader, locales, {**needed, **used})
    for name in REQUIRED_FLOWS:
        if name not in dialogs.flows:
            reader.fail(Path(dialogs.source) / "flows", 0, f"the '{name}' flow is missing")
    for name in REQUIRED_SIGNALS:
        if name not in dialogs.escalation.signals:
            reader.fail(Path(dialogs.source) / "escalation.yaml", 1, f"signal '{name}' is missing")
    _check_programs(reader, dialogs)
    check_contract(reader, dialogs)
    if not reader.problems:
        _check_templates(reader, dialogs, locales)
        _check_conditions(reader, dialogs)


def _check_flow(reader: Reader, dialogs: DialogSet, flow: Flow, needed: dict[str, str]) -> None:
    path = Path(flow.file)

    def need_text(key: str, step: Step) -> None:
        if not any(key in texts for texts in dialogs.texts.values()):
            reader.fail(path, step.line, f"step '{step.id}': text '{key}' is in no locale")
        needed.setdefault(key, f"{reader.name(path)}:{step.line} uses it")

    edges: dict[str, list[str]] = {}
    for step in flow.steps.values():
        targets: list[tuple[str, str]] = []
        following = flow.following(step)
        if step.kind == "ask" and step.choices:
            for choice in step.choices:
                targets.append((choice.next or following or "", f"choice '{choice.value}'"))
                need_text(choice.text, step)
                if choice.flag and choice.flag not in dialogs.escalation.signals:
                    reader.fail(path, step.line, f"step '{step.id}': unknown signal '{choice.flag}'")
        elif step.kind == "branch":
            targets.extend((b.next, "branch") for b in step.branches)
            if following:
                targets.append((following, "next"))
        elif following:
            targets.append((following, "next"))
        if step.next and step.next not in flow.steps:
            reader.fail(path, step.line, f"step '{step.id}': next '{step.next}' does not exist")
        for target, what in targets:
            if target and target not in flow.steps and target != step.next:
                reader.fail(path, step.line, f"step '{step.id}': {what} goes to '{target}', which does not exist")
        edges[step.id] = [t for t, _ in targets if t in flow.steps]
        if step.text:
            need_text(step.text, step)
        if step.kind == "measure":
            for name in step.measure or ():
                instrument_id, _, item_key = name.partition(".")  # an instrument, or one of its items
                instrument = dialogs.instruments.get(instrument_id)
                if instrument is None:
                    reader.fail(path, step.line, f"step '{step.id}': unknown instrument '{name}'")
                elif item_key and item_key not in {i.key for i in instrument.items}:
                    reader.fail(path, step.line, f"step '{step.id}': unknown item '{name}'")
        if step.kind == "do" and step.action not in ACTIONS:
            known = ", ".join(ACTIONS)
            reader.fail(path, step.line, f"step '{step.id}': unknown action '{step.action}' (known: {known})")
    _check_reachable(reader, path, flow, edges)


def _check_reachable(reader: Reader, path: Path, flow: Flow, edges: dict[str, list[str]]) -> None:
    if flow.start not in flow.steps:
        return
    seen = {flow.start}
    todo = [flow.start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for step in flow.steps.values():
        if step.id not in seen:
            reader.fail(path, step.line, f"step '{step.id}' cannot be reached from '{flow.start}'")
    ends = {s for s in flow.steps if not edges.get(s) and flow.following(flow.steps[s]) is None}
    can_end = set(ends)
    changed = True
    while changed:
        changed = False
        for source, targets in edges.items():
            if source not in can_end and any(t in can_end for t in targets):
                can_end.add(source)
                changed = True
    for step in flow.steps.values():
        if step.id in seen and step.id not in can_end:
            reader.fail(path, step.line, f"step '{step.id}' is a dead end: the flow can never finish from it")


def _check_programs(reader: Reader, dialogs: DialogSet) -> None:
    needed = max((n for w in dialogs.schedule.weeks.values() for n in (*w.review_parts, *w.next_parts)), default=0)
    for program in dialogs.programs.values():
        if len(program.parts) < needed:
            reader.fail(
                Path(dialogs.source) / "programs" / f"{program.id}.yaml",
                1,
                f"program '{program.id}' has {len(program.parts)} parts; the schedule uses {needed}",
            )


def _check_conditions(reader: Reader, dialogs: DialogSet) -> None:
    renderer = Renderer(dialogs.texts)
    program = next(iter(dialogs.programs))
    context = build_context(dialogs, sample_facts(dialogs, program), next(iter(dialogs.locales)))
    for flow in dialogs.flows.values():
        for step in flow.steps.values():
            for branch in step.branches:
                try:
                    renderer.condition(branch.when, context)
                except Exception as exc:  # noqa: BLE001 (any failure of an admin's condition)
                    problem = f"{type(exc).__name__}: {exc}"
                    reader.fail(Path(flow.file), step.line, f"step '{step.id}': condition fails: {problem}")


def _check_templates(reader: Reader, dialogs: DialogSet, locales: LocaleTable) -> None:
    renderer = Renderer(dialogs.texts)
    program = next(iter(dialogs.programs))
    for loc, table in locales.items():
        entries, lines, files = table.entries, table.lines, table.files
        context = build_context(dialogs, sample_facts(dialogs, program), loc)
        for key in entries:
            extra: dict[str, Any] = SYSTEM_TEXTS.get(key, {})
            if renderer.is_plain(loc, key):
                continue  # nothing to compile or to fail with sample data
            try:
                renderer.template(loc, key)
            except TemplateSyntaxError as exc:
                line = lines[key] + max((exc.lineno or 1) - 1, 0)
                reader.fail(files[key], line, f"text '{key}': template error: {exc.message}")
                continue
            try:
                renderer.render(loc, key, {**context, **extra})
            except TemplateError as exc:
                reader.fail(files[key], lines[key], f"text '{key}': cannot render with sample data: {exc}")
            except Exception as exc:  # noqa: BLE001 (any failure of an admin's template)
                problem = f"{type(exc).__name__}: {exc}"
                reader.fail(files[key], lines[key], f"text '{key}': fails with sample data: {problem}")
