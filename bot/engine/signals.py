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
        # The learned net reads only what the rules had nothing to say about: where a rule
        # matched and an exception or a denial kept it quiet, the rules have judged.
        learned = rules.learned
        if not matches and learned.enabled and learned.probability(text) >= learned.threshold:
            return Scan("ask", (), _gist(text))
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


def _gist(text: str, words: int = 8) -> str:
    """The evidence of a learned ask: the opening words, as the rules' evidence is matched words."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def explain(rules: EscalationRules, text: str) -> list[dict[str, object]]:
    """Every rule that matched and why an exception kept it quiet, then the learned net's reading."""
    rows: list[dict[str, object]] = [
        {
            "rule": m.rule.id,
            "category": m.rule.category,
            "signal": m.rule.signal,
            "action": m.rule.action,
            "pattern": m.pattern,
            "words": m.words,
            **({"exception": m.excepted_by} if m.excepted_by else {}),
        }
        for m in find_matches(rules.text, text)
    ]
    learned = rules.learned
    if learned.enabled:
        probability = learned.probability(text)
        rows.append(
            {
                "rule": "learned",
                "signal": learned.signal,
                "action": "ask",
                "probability": round(probability, 3),
                "threshold": learned.threshold,
                **({} if probability >= learned.threshold else {"exception": "below threshold"}),
            }
        )
    return rows
