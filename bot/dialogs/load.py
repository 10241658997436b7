"""Read the dialog directory into a DialogSet, or say exactly what is wrong."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from bot.dialogs import verdict
from bot.dialogs.check import check_semantics
from bot.dialogs.contract import RISK_ITEM
from bot.dialogs.learned import Examples, LearnedNet
from bot.dialogs.locales import LocaleTable, read_locales
from bot.dialogs.matcher import TextRules, compile_rules
from bot.dialogs.model import (
    Band,
    Branch,
    Choice,
    DialogSet,
    EscalationRules,
    Flow,
    Instrument,
    Item,
    Locale,
    Localized,
    Option,
    Part,
    Program,
    Schedule,
    SignalRule,
    Step,
    Week,
)
from bot.dialogs.problems import DialogsInvalid, Problem, Reader
from bot.dialogs.yamlfile import ListNode, Node

__all__ = ["DialogsInvalid", "Problem", "load_dialogs"]

STEP_KINDS = ("say", "ask", "measure", "do", "branch")
INPUTS = ("text", "choice", "number", "time")
LEVELS = ("urgent", "high", "notice")


class _Texts:
    """Resolves the text keys that programs and instruments name, in every locale."""

    def __init__(self, reader: Reader, locales: LocaleTable) -> None:
        self.reader = reader
        self.locales = locales
        self.used: dict[str, str] = {}  # key -> where it is named, for the completeness check

    def localized(self, path: Path, node: Node, key: str) -> Localized:
        value = node.get(key)
        line = node.line_of(key)
        if not isinstance(value, str) or not value.strip():
            self.reader.fail(path, line, f"'{key}' must name a text key; the texts are in dialogs/locales/<code>/")
            return {code: "" for code in self.locales}
        if self.locales and not any(value in table.entries for table in self.locales.values()):
            self.reader.fail(path, line, f"'{key}': text '{value}' is in no locale")
        self.used.setdefault(value, f"{self.reader.name(path)}:{line} uses it")
        return {code: table.entries.get(value, "") for code, table in self.locales.items()}


def load_dialogs(root: Path, *, trust: bool = False, remember: bool = False) -> DialogSet:
    """Load and validate every dialog file under `root`; raise DialogsInvalid.

    `trust`: when these exact files (and this code) passed the full check before, skip it
    (see verdict.py); `remember`: record a pass for such a later load. Without either, every
    file is read and checked in full, as `guidebot dialogs check` does.
    """
    if not root.is_dir():
        raise DialogsInvalid([Problem(str(root), 0, "dialogs directory not found")])
    snap = verdict.snapshot(root) if trust or remember else None
    trusted = snap is not None and trust and verdict.known_good(snap.digest)
    reader = Reader(root, snap.files if snap is not None else None)
    locales = read_locales(reader, root)
    texts = _Texts(reader, locales)
    instruments = _instruments(texts, root / "instruments")
    programs = _programs(texts, root / "programs")
    flows = _flows(reader, root / "flows")
    schedule = _schedule(reader, root / "schedule.yaml", instruments, flows)
    escalation = _escalation(reader, root / "escalation.yaml", trusted)
    if reader.problems:
        raise DialogsInvalid(reader.problems)
    dialogs = DialogSet(
        flows=flows,
        programs=programs,
        instruments=instruments,
        schedule=schedule,
        escalation=escalation,
        texts={code: table.entries for code, table in locales.items()},
        source=str(root),
        locales={code: locales[code].meta for code in sorted(locales, key=lambda c: _locale_order(locales[c].meta))},
    )
    hashed = snap is not None and not reader.unhashed and verdict.unchanged(root, snap)
    if trusted:
        if hashed:
            return dialogs  # these bytes passed the whole check before; templates compile on first use
        return load_dialogs(root, remember=remember)  # a file came or went meanwhile: all of it again
    check_semantics(reader, dialogs, locales, texts.used)
    if reader.problems:
        raise DialogsInvalid(reader.problems)
    if snap is not None and remember and hashed:
        verdict.remember_good(snap.digest)
    return dialogs


def _locale_order(locale: Locale) -> tuple[int, bool, str]:
    return locale.order, not locale.original, locale.code


def _yaml_files(reader: Reader, folder: Path) -> list[Path]:
    if not folder.is_dir():
        reader.fail(folder, 0, "folder is missing")
        return []
    return sorted(folder.glob("*.yaml"))


def _instruments(texts: _Texts, folder: Path) -> dict[str, Instrument]:
    reader = texts.reader
    result: dict[str, Instrument] = {}
    for path in _yaml_files(reader, folder):
        node = reader.read(path)
        if node is None:
            continue
        ident = str(node.get("id", path.stem))
        options = tuple(
            Option(reader.integer(path, o, "value"), texts.localized(path, o, "label"))
            for o in _nodes(reader, path, node, "options")
        )
        items = tuple(
            Item(str(i.get("key", "")), texts.localized(path, i, "text"), bool(i.get("risk", False)))
            for i in _nodes(reader, path, node, "items")
        )
        bands = tuple(
            Band(reader.integer(path, b, "max"), str(b.get("key", "")), texts.localized(path, b, "label"))
            for b in _nodes(reader, path, node, "bands")
        )
        if not options or not items or not bands:
            continue
        result[ident] = Instrument(
            id=ident,
            name=str(node.get("name", ident)),
            stem=texts.localized(path, node, "stem"),
            options=options,
            items=items,
            bands=bands,
            caseness=reader.integer(path, node, "caseness"),
            reliable_change=reader.integer(path, node, "reliable_change"),
            short_form_of=str(node.get("short_form_of")) if node.get("short_form_of") else None,
        )
    return result


def _programs(texts: _Texts, folder: Path) -> dict[str, Program]:
    reader = texts.reader
    result: dict[str, Program] = {}
    for path in _yaml_files(reader, folder):
        node = reader.read(path)
        if node is None:
            continue
        ident = str(node.get("id", path.stem))
        parts = tuple(
            Part(
                number=index + 1,
                title=texts.localized(path, p, "title"),
                about=texts.localized(path, p, "about"),
                homework=texts.localized(path, p, "homework"),
                link=_links(reader, path, p, texts.locales),
            )
            for index, p in enumerate(_nodes(reader, path, node, "parts"))
        )
        if not parts:
            continue
        result[ident] = Program(
            id=ident,
            title=texts.localized(path, node, "title"),
            summary=texts.localized(path, node, "summary"),
            parts=parts,
        )
    return result


def _links(reader: Reader, path: Path, part: Node, locales: LocaleTable) -> dict[str, str]:
    """A part's optional `link: {nb: https://..., en: https://...}`: its module, per locale."""
    value = part.get("link")
    if value is None:
        return {}
    line = part.line_of("link")
    if not isinstance(value, Node):
        reader.fail(path, line, "'link' must map a locale code to an address, e.g. {nb: https://...}")
        return {}
    links: dict[str, str] = {}
    for code, address in value.items():
        if str(code) not in locales:
            reader.fail(path, line, f"'link': unknown locale '{code}'")
        elif not isinstance(address, str) or not address.startswith(("https://", "http://")):
            reader.fail(path, line, f"'link': the {code} address must start with https://")
        else:
            links[str(code)] = address
    return links


def _nodes(reader: Reader, path: Path, node: Node, key: str) -> list[Node]:
    value = node.get(key)
    if not isinstance(value, ListNode) or not value:
        reader.fail(path, node.line_of(key), f"'{key}' must be a non-empty list")
        return []
    good = [v for v in value if isinstance(v, Node)]
    if len(good) != len(value):
        reader.fail(path, value.line, f"every entry of '{key}' must be a mapping")
    return good


def _flows(reader: Reader, folder: Path) -> dict[str, Flow]:
    result: dict[str, Flow] = {}
    uses: list[tuple[Path, str, str, Node]] = []  # (file, flow, step, node) of each `use:` step
    for path in _yaml_files(reader, folder):
        node = reader.read(path)
        if node is None:
            continue
        ident = str(node.get("id", path.stem))
        steps_node = node.get("steps")
        if not isinstance(steps_node, Node) or not steps_node:
            reader.fail(path, node.line_of("steps"), "'steps' must be a mapping of step ids")
            continue
        steps: dict[str, Step] = {}
        for step_id, step_node in steps_node.items():
            line = steps_node.line_of(step_id)
            if not isinstance(step_node, Node):
                reader.fail(path, line, f"step '{step_id}' must be a mapping")
                continue
            if "use" in step_node:
                uses.append((path, ident, step_id, step_node))
                steps[step_id] = Step(id=step_id, kind="say", line=step_node.line)  # filled in below
                continue
            step = _step(reader, path, step_id, step_node)
            if step is not None:
                steps[step_id] = step
        start = str(node.get("start", next(iter(steps_node))))
        result[ident] = Flow(id=ident, start=start, steps=steps, file=reader.name(path))
        if start not in steps_node:
            reader.fail(path, node.line_of("start"), f"start step '{start}' does not exist")
    for path, ident, step_id, step_node in uses:
        _use_step(reader, path, result, ident, step_id, step_node)
    return result


def _use_step(reader: Reader, path: Path, flows: dict[str, Flow], ident: str, step_id: str, node: Node) -> None:
    """`use: intake.checkin_day`: the step is that step of another flow (its question, choices
    and answer key), so the two stay the same; only `next` may be given beside it."""
    for key in node:
        if key not in ("use", "next"):
            reader.fail(path, node.line_of(key), f"step '{step_id}': a 'use' step takes only 'next' beside it")
    flow_id, _, source_id = str(node["use"]).partition(".")
    source = flows[flow_id].steps.get(source_id) if flow_id in flows else None
    if source is None or source.kind != "ask" or any(c.next for c in source.choices):
        reader.fail(path, node.line_of("use"), f"step '{step_id}': 'use' names a question step without choice targets")
        return
    flows[ident].steps[step_id] = replace(
        source, id=step_id, next=str(node["next"]) if "next" in node else None, line=node.line
    )


def _step(reader: Reader, path: Path, step_id: str, node: Node) -> Step | None:
    kinds = [k for k in STEP_KINDS if k in node]
    if len(kinds) != 1:
        reader.fail(path, node.line, f"step '{step_id}' needs exactly one of: {', '.join(STEP_KINDS)}")
        return None
    kind = kinds[0]
    known = {*STEP_KINDS, "input", "choices", "store", "next", "image", "min", "max"}
    for key in node:
        if key not in known:
            reader.fail(path, node.line_of(key), f"step '{step_id}': unknown field '{key}'")
    choices = tuple(_choice(reader, path, step_id, c) for c in node.get("choices") or [])
    value = node[kind]
    measure: tuple[str, ...] | None = None
    if kind == "measure":
        if value == "scheduled":
            measure = None
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            measure = tuple(value)
        else:
            reader.fail(path, node.line_of(kind), f"step '{step_id}': measure is 'scheduled' or a list of instruments")
    branches: tuple[Branch, ...] = ()
    if kind == "branch":
        if not isinstance(value, list) or not all(isinstance(b, Node) and "when" in b and "next" in b for b in value):
            reader.fail(path, node.line_of(kind), f"step '{step_id}': branch is a list of {{when, next}}")
        else:
            branches = tuple(Branch(str(b["when"]), str(b["next"])) for b in value)
    input_kind = str(node.get("input", "choice" if choices else "text"))
    if input_kind not in INPUTS:
        reader.fail(path, node.line_of("input"), f"step '{step_id}': input must be one of {', '.join(INPUTS)}")
    if input_kind == "choice" and not choices:
        reader.fail(path, node.line, f"step '{step_id}': a choice question needs choices")
    return Step(
        id=step_id,
        kind=kind,
        text=str(value) if kind in ("say", "ask") else None,
        input=input_kind,
        choices=choices,
        store=str(node["store"]) if "store" in node else None,
        measure=measure,
        action=str(value) if kind == "do" else None,
        branches=branches,
        next=str(node["next"]) if "next" in node else None,
        image=str(node["image"]) if "image" in node else None,
        minimum=node.get("min") if isinstance(node.get("min"), int) else None,
        maximum=node.get("max") if isinstance(node.get("max"), int) else None,
        line=node.line,
    )


def _choice(reader: Reader, path: Path, step_id: str, node: Any) -> Choice:
    if not isinstance(node, Node) or "value" not in node or "text" not in node:
        line = node.line if isinstance(node, Node) else 0
        reader.fail(path, line, f"step '{step_id}': each choice needs 'value' and 'text'")
        return Choice(value="", text="")
    return Choice(
        value=str(node["value"]),
        text=str(node["text"]),
        next=str(node["next"]) if "next" in node else None,
        flag=str(node["flag"]) if "flag" in node else None,
    )


def _schedule(reader: Reader, path: Path, instruments: dict[str, Instrument], flows: dict[str, Flow]) -> Schedule:
    node = reader.read(path)
    empty = Schedule(weeks={1: Week(1, "intake", ())})
    if node is None:
        return empty
    weeks: dict[int, Week] = {}
    for week_node in _nodes(reader, path, node, "weeks"):
        number = reader.integer(path, week_node, "week")
        names = week_node.get("instruments", [])
        if not isinstance(names, list):
            reader.fail(path, week_node.line_of("instruments"), "'instruments' must be a list")
            names = []
        for name in names:
            if name not in instruments:
                reader.fail(path, week_node.line_of("instruments"), f"week {number}: unknown instrument '{name}'")
        flow = str(week_node.get("flow", ""))
        if flow not in flows:
            reader.fail(path, week_node.line_of("flow"), f"week {number}: unknown flow '{flow}'")
        weeks[number] = Week(
            number=number,
            flow=flow,
            instruments=tuple(str(n) for n in names),
            review_parts=tuple(week_node.get("review_parts") or ()),
            next_parts=tuple(week_node.get("next_parts") or ()),
        )
    if sorted(weeks) != list(range(1, len(weeks) + 1)):
        reader.fail(path, node.line_of("weeks"), "weeks must be numbered 1, 2, 3 … without gaps")
    risk_item = str(node.get("risk_item", RISK_ITEM))
    instrument_id, _, item_key = risk_item.partition(".")
    if instrument_id not in instruments or item_key not in {i.key for i in instruments[instrument_id].items}:
        reader.fail(path, node.line_of("risk_item"), f"risk_item '{risk_item}' is not an instrument item")
    hours = node.get("reminder_hours", [24, 72])
    return Schedule(
        waking_hours=_waking_hours(reader, path, node),
        booster_days=_booster_days(reader, path, node),
        weeks=weeks or empty.weeks,
        reminder_hours=tuple(int(h) for h in hours),
        missed_weeks_to_dropout=reader.integer(path, node, "missed_weeks_to_dropout", 2),
        min_days_between_checkins=reader.integer(path, node, "min_days_between_checkins", 4),
        first_checkin_min_days=reader.integer(path, node, "first_checkin_min_days", 3),
        risk_item=risk_item,
    )


def _waking_hours(reader: Reader, path: Path, node: Node) -> tuple[str, str]:
    """`waking_hours: {from: "08:00", to: "21:00"}`: when reminders may be sent."""
    waking = node.get("waking_hours")
    if waking is None:
        return ("08:00", "21:00")
    times = (waking.get("from"), waking.get("to")) if isinstance(waking, Node) else (None, None)
    start, end = (_clock_time(t) for t in times)
    if start is None or end is None or start == end:
        problem = '\'waking_hours\' must be {from: "HH:MM", to: "HH:MM"}, two different times'
        reader.fail(path, node.line_of("waking_hours"), problem)
        return ("08:00", "21:00")
    return (start, end)


def _clock_time(value: Any) -> str | None:
    """'08:00' or '8:00' -> '08:00'; None if it is not a time of day."""
    hour, _, minute = str(value).strip().partition(":")
    if not (hour.isdigit() and minute.isdigit() and 0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
        return None
    return f"{int(hour):02d}:{int(minute):02d}"


def _booster_days(reader: Reader, path: Path, node: Node) -> tuple[int, ...]:
    """`booster_days: [30, 91]`: days after the closing for each booster check-in; [] or 0 turns them off."""
    raw = node.get("booster_days", [30, 91])
    if raw is None or raw == 0:
        return ()
    if not isinstance(raw, list) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in raw):
        reader.fail(path, node.line_of("booster_days"), "'booster_days' must be a list of whole days, or 0")
        return ()
    return tuple(sorted(d for d in raw if d > 0))


def _escalation(reader: Reader, path: Path, trusted: bool = False) -> EscalationRules:
    node = reader.read(path)
    if node is None:
        return EscalationRules(signals={})
    signals: dict[str, SignalRule] = {}
    signals_node = node.get("signals")
    if not isinstance(signals_node, Node):
        reader.fail(path, node.line_of("signals"), "'signals' must be a mapping")
        return EscalationRules(signals={})
    for name, rule in signals_node.items():
        if not isinstance(rule, Node):
            reader.fail(path, signals_node.line_of(name), f"signal '{name}' must be a mapping")
            continue
        level = str(rule.get("level", ""))
        if level not in LEVELS:
            reader.fail(path, rule.line_of("level"), f"signal '{name}': level must be one of {', '.join(LEVELS)}")
        if rule.get("phrases") is not None:
            reader.fail(
                path,
                rule.line_of("phrases"),
                f"signal '{name}': phrases moved to the `text:` rules (text.rules[].patterns)",
            )
        thresholds_node = rule.get("thresholds") or {}
        thresholds = {str(k): int(v) for k, v in thresholds_node.items()} if isinstance(thresholds_node, dict) else {}
        signals[str(name)] = SignalRule(
            name=str(name),
            level=level,
            thresholds=thresholds,
            tell_user=bool(rule.get("tell_user", level != "notice")),
        )
    return EscalationRules(
        signals=signals,
        text=_text_rules(reader, path, node, signals),
        learned=_learned(reader, path, node, signals, trusted),
    )


def _learned(reader: Reader, path: Path, node: Node, signals: dict[str, SignalRule], trusted: bool) -> LearnedNet:
    """The `learned:` block: example files (globs beside escalation.yaml) and a threshold.

    The net is keyed by the example files' bytes. They are parsed here (and their problems
    reported) unless `trusted` says these bytes passed before; then only when training needs them.
    """
    block = node.get("learned")
    if block is None:
        return LearnedNet()
    if not isinstance(block, Node):
        reader.fail(path, node.line_of("learned"), "'learned' must be a mapping")
        return LearnedNet()
    files: list[tuple[str, Path, bytes]] = []
    parsed: dict[str, list[str]] = {"risk": [], "benign": []}  # unless trusted: read now, in file order
    for label in ("risk", "benign"):
        globs = block.get(label)
        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            reader.fail(
                path, block.line_of(label), f"learned.{label} must list example files, e.g. examples/{label}_*.yaml"
            )
            continue
        for pattern in globs:
            found = sorted(path.parent.glob(pattern))
            if not found:
                reader.fail(path, block.line_of(label), f"learned.{label}: no example file matches '{pattern}'")
            for file in found:
                try:
                    files.append((label, file, reader.data(file)))
                except OSError as exc:
                    reader.fail(file, 1, f"cannot read: {exc}")
                    continue
                if not trusted:
                    parsed[label].extend(_example_texts(reader.fail, file, files[-1][2]))
    try:
        threshold = float(block.get("threshold", 0.7))
    except (TypeError, ValueError):
        threshold = -1.0
    if not 0.0 < threshold < 1.0:
        reader.fail(path, block.line_of("threshold"), "learned.threshold must be a number between 0 and 1")
        threshold = 0.7
    signal = str(block.get("signal", "risk_words"))
    if signal not in signals:
        reader.fail(path, block.line_of("signal"), f"learned.signal: unknown signal '{signal}'")
    min_words = block.get("min_words", 4)
    if not isinstance(min_words, int) or min_words < 1:
        reader.fail(path, block.line_of("min_words"), "learned.min_words must be a whole number of 1 or more")
        min_words = 4

    def texts(fail: Callable[[Path, int, str], None]) -> tuple[list[str], list[str]]:
        found: dict[str, list[str]] = {"risk": [], "benign": []}
        for label, file, data in files:
            found[label].extend(_example_texts(fail, file, data))
        return found["risk"], found["benign"]

    def later() -> tuple[list[str], list[str]]:
        # Keeps only the example files' bytes alive, not the reader and its snapshot of the folder.
        def fail(file: Path, line: int, message: str) -> None:  # cannot happen: these bytes passed
            raise DialogsInvalid([Problem(Reader(file.parent).name(file), line, message)])

        return texts(fail)

    if not trusted:
        examples = Examples(parsed["risk"], parsed["benign"])
    elif all(file in reader.files for _, file, _ in files):
        examples = Examples(read=later)
    else:  # an example file outside the dialogs folder: not covered by the record, so read it now
        examples = Examples(*texts(reader.fail))
    keyed = [(label, data) for label, _, data in files]
    return LearnedNet.from_files(keyed, examples, threshold, signal, min_words)


_EXAMPLES: dict[str, tuple[list[str], list[tuple[int, str]]]] = {}


def _example_texts(fail: Callable[[Path, int, str], None], file: Path, data: bytes) -> list[str]:
    """The `text` of each entry in an example file (a list of {text: ...}).

    Example files are long (thousands of lines), so they are read with libyaml where
    it is there, and the same bytes are not parsed twice in a process.
    """
    key = hashlib.sha256(data).hexdigest()
    cached = _EXAMPLES.get(key)
    if cached is None:
        try:
            cached = _read_examples(data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
        except UnicodeDecodeError as exc:
            fail(file, 1, f"cannot read: {exc}")
            return []
        _EXAMPLES[key] = cached
    texts, problems = cached
    for line, message in problems:
        fail(file, line, message)
    return texts


def _read_examples(raw: str) -> tuple[list[str], list[tuple[int, str]]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(raw, Loader=loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [(mark.line + 1 if mark is not None else 1, f"not valid YAML: {exc}")]
    if not isinstance(data, list):
        return [], [(1, "an example file is a list of entries with a 'text'")]
    item_lines = [n + 1 for n, line in enumerate(raw.splitlines()) if line.startswith("- ")]
    texts: list[str] = []
    problems: list[tuple[int, str]] = []
    for index, entry in enumerate(data):
        text = entry.get("text") if isinstance(entry, dict) else None
        if not isinstance(text, str) or not text.strip():
            line = item_lines[index] if index < len(item_lines) else 1
            problems.append((line, "each example needs a 'text'"))
            continue
        texts.append(text)
    return texts, problems


def _text_rules(reader: Reader, path: Path, node: Node, signals: dict[str, SignalRule]) -> TextRules:
    """The `text:` block: word groups, exceptions and rules matched against every text."""
    text = node.get("text")
    if text is None:
        return TextRules()
    if not isinstance(text, Node):
        reader.fail(path, node.line_of("text"), "'text' must be a mapping")
        return TextRules()

    def line(where: str) -> int:
        head, _, rest = where.partition(".")
        if head.startswith("rules[") and isinstance(text.get("rules"), ListNode):
            index = int(head[6:-1])
            return int(text["rules"].item_lines[index])
        child = text.get(head)
        if isinstance(child, Node) and rest:
            return child.line_of(rest)
        return text.line_of(head)

    compiled = compile_rules(text, lambda where, message: reader.fail(path, line(where), message))
    for index, rule in enumerate(compiled.rules):
        if rule.signal not in signals:
            reader.fail(path, line(f"rules[{index}]"), f"rule '{rule.id}': unknown signal '{rule.signal}'")
    return compiled
