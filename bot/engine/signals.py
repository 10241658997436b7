"""Finding escalation signals in what a user writes or answers.

There is no risk grading here: a signal is a reason for a human to make
contact, never a verdict about the person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.dialogs.matcher import decide, find_matches
from bot.dialogs.model import EscalationRules

_NON_WORD = re.compile(r"[^\w*]+")


def normalize_text(text: str) -> str:
    """Fold case, width and punctuation so that 'Kms!!' and 'kms' match alike."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = "".join(ch for ch in folded if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return " ".join(_NON_WORD.sub(" ", folded).split())


@dataclass(frozen=True)
class Hit:
    signal: str
    level: str
    evidence: str


Action = str  # "alert" | "ask" | "none"


@dataclass(frozen=True)
class Scan:
    """What one text calls for: `alert` (tell the clinicians now, crisis contacts to the
    person), `ask` (ask the person directly first) or `none`; `hits` are the signals
    to raise at once, `asked` the evidence behind an ask."""

    action: Action
    hits: tuple[Hit, ...] = ()
    asked: str = ""


def scan(rules: EscalationRules, text: str) -> Scan:
    """Everything a person writes goes through here: the text rules, then the verdict.

    With an alert, every live match is raised at once (an unsure one too: the person
    is getting the crisis contacts and a clinician anyway); with an ask, nothing is
    raised until the person has answered the direct question.
    """
    matches = find_matches(rules.text, text)
    action = decide(matches)
    if action == "none":
        return Scan("none")
    live = [m for m in matches if not m.excepted_by]
    if action == "ask":
        return Scan("ask", (), live[0].words)
    hits: dict[str, Hit] = {}
    for match in live:
        signal = rules.signals.get(match.rule.signal)
        if signal is not None and match.rule.signal not in hits:
            hits[match.rule.signal] = Hit(signal.name, signal.level, match.words)
    return Scan("alert", tuple(hits.values()))


def explain(rules: EscalationRules, text: str) -> list[dict[str, str]]:
    """Every rule that matched, and why an exception kept it quiet, for `--explain`."""
    return [
        {"rule": m.rule.id, "category": m.rule.category, "signal": m.rule.signal, "action": m.rule.action,
         "pattern": m.pattern, "words": m.words, **({"exception": m.excepted_by} if m.excepted_by else {})}
        for m in find_matches(rules.text, text)
    ]
