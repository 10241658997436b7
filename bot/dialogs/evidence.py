"""An alert's evidence as data: a kind and its values, rendered through the texts `evidence.<kind>`.

Stored in `Alert.evidence` as JSON (`{"kind": "risk_item", "instrument": "PHQ-9", "item": 9,
"value": 2}`), so each reader sees it in their own language. Rows from before this
was data hold plain strings; those render as they are.
"""

from __future__ import annotations

import contextlib
from typing import Any

from bot.dialogs.render import Renderer

Entry = dict[str, Any]

# The kinds, each with the sample values the checker renders its text with.
SAMPLES: dict[str, Entry] = {
    "risk_item": {"instrument": "PHQ-9", "item": 9, "value": 2},
    "choice": {"step": "age", "value": "under_16"},
    "words": {"words": "vil ikke leve"},
    "score": {"instrument": "PHQ-9", "total": 20},
    "rise": {"instrument": "PHQ-9", "baseline": 8, "total": 15},
    "contact_requested": {},
    "blocked": {},
    "missed_week": {"week": 3},
    "missed_weeks": {"count": 2},
}
TEXTS: dict[str, dict[str, Any]] = {f"evidence.{kind}": values for kind, values in SAMPLES.items()}


def risk_item(instrument: str, item: int, value: int) -> Entry:
    """The risk item of an instrument answered with `value` (item numbered from 1)."""
    return {"kind": "risk_item", "instrument": instrument, "item": item, "value": value}


def choice(step: str, value: str) -> Entry:
    """A flagged choice in a flow."""
    return {"kind": "choice", "step": step, "value": value}


def words(matched: str) -> Entry:
    """The words of a message that matched a rule (never the whole message)."""
    return {"kind": "words", "words": matched}


def score(instrument: str, total: int) -> Entry:
    return {"kind": "score", "instrument": instrument, "total": total}


def rise(instrument: str, baseline: int, total: int) -> Entry:
    return {"kind": "rise", "instrument": instrument, "baseline": baseline, "total": total}


def contact_requested() -> Entry:
    return {"kind": "contact_requested"}


def blocked() -> Entry:
    return {"kind": "blocked"}


def missed_week(week: int) -> Entry:
    return {"kind": "missed_week", "week": week}


def missed_weeks(count: int) -> Entry:
    return {"kind": "missed_weeks", "count": count}


def render_entry(renderer: Renderer, locale: str, entry: object) -> str:
    """One piece of evidence in `locale`: a stored plain string as it is, data through its text."""
    if not isinstance(entry, dict):
        return str(entry)
    kind = str(entry.get("kind", ""))
    key = f"evidence.{kind}"
    values = {k: v for k, v in entry.items() if k != "kind"}
    if renderer.has(locale, key):
        with contextlib.suppress(Exception):  # a stored entry the text no longer fits still shows, as data
            return renderer.render(locale, key, values)
    return " ".join([kind, *(f"{k}={v}" for k, v in values.items())]).strip()


def render_all(renderer: Renderer, locale: str, entries: list[Any]) -> list[str]:
    return [render_entry(renderer, locale, entry) for entry in entries]
