"""The dialogs against the contract (`bot/dialogs/contract.py`): the answers the code reads
are stored, by steps that give the right kind of value, and each flow runs the actions
that move a course on. Unknown actions and missing system texts are checked beside the
flows and texts (`check.py`, `locales.py`), from the same contract.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from bot.dialogs.contract import REQUIRED_ACTIONS, STORE_KEYS, Kind, StoreKey
from bot.dialogs.model import DialogSet, Flow, Step
from bot.dialogs.problems import Reader

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_contract(reader: Reader, dialogs: DialogSet) -> None:
    stored: set[str] = set()
    for flow in dialogs.flows.values():
        for step in flow.steps.values():
            expected = STORE_KEYS.get(step.store or "")
            if expected is not None:
                stored.add(expected.name)
                problem = _wrong_kind(step, expected)
                if problem:
                    reader.fail(Path(flow.file), step.line, f"step '{step.id}': store '{expected.name}' {problem}")
    for key in STORE_KEYS.values():
        if key.name not in stored:
            _missing_key(reader, dialogs, key)
    for flow_id, actions in REQUIRED_ACTIONS.items():
        owner = dialogs.flows.get(flow_id)
        if owner is None:
            continue
        done = {step.action for step in owner.steps.values() if step.kind == "do"}
        for action in actions:
            if action not in done:
                line = _first_line(owner)
                reader.fail(Path(owner.file), line, f"flow '{owner.id}' never runs the action '{action}'")


def _wrong_kind(step: Step, key: StoreKey) -> str | None:
    """What is wrong with `step` as the source of `key`'s value, or None."""
    if step.kind != "ask":
        return f"must be an ask step ({key.kind})"
    values = [choice.value for choice in step.choices]
    if key.kind is Kind.WEEKDAY:
        if not values or any(v not in {str(n) for n in range(7)} for v in values) or step.input != "choice":
            return 'must be a weekday: choices with the values "0" (Monday) to "6" (Sunday)'
    elif key.kind is Kind.TIME:
        if step.input != "time" or any(not _TIME.match(v) for v in values):
            return 'must be a time: input: time (and any choices "HH:MM")'
    elif key.kind is Kind.TEXT:
        if values or step.input != "text":
            return "must be free text: no choices, no input type"
    elif key.kind is Kind.CHOICE:
        missing = [v for v in key.values if v not in values]
        if not values:
            return "must be a choice"
        if missing:
            return f"must offer the choice values the code reads: {', '.join(missing)} missing"
    return None


def _missing_key(reader: Reader, dialogs: DialogSet, key: StoreKey) -> None:
    """No step stores `key`: report it where it is expected, at the likeliest rename if there is one."""
    flow = dialogs.flows.get(key.flow)
    if flow is None:
        reader.fail(
            Path(dialogs.source) / "flows" / f"{key.flow}.yaml",
            1,
            f"no step stores '{key.name}' ({key.kind}), which the code reads",
        )
        return
    unknown = {step.store: step for step in flow.steps.values() if step.store and step.store not in STORE_KEYS}
    close = difflib.get_close_matches(key.name, list(unknown), n=1, cutoff=0.6)
    step = unknown[close[0]] if close else flow.steps.get(key.name)
    line = step.line if step is not None else _first_line(flow)
    hint = f" (is '{step.store}' it, renamed?)" if step is not None and step.store else ""
    reader.fail(
        Path(flow.file),
        line,
        f"no step stores '{key.name}' ({key.kind}), which the code reads; the code expects 'store: {key.name}'{hint}",
    )


def _first_line(flow: Flow) -> int:
    return min((step.line for step in flow.steps.values()), default=1) or 1
