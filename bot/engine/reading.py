"""Every text a person writes is read for escalation signals, whatever else it is."""

from __future__ import annotations

from bot.dialogs import contract, evidence
from bot.engine import asking
from bot.engine.alerts import raise_signal
from bot.engine.signals import scan
from bot.engine.turn import Turn


def read_text(turn: Turn, text: str) -> str:
    """Read a text for escalation signals and act on them; returns the action taken ("alert", "ask", "none")."""
    result = scan(turn.dialogs.escalation, text)
    for hit in result.hits:
        raise_signal(turn, hit.signal, evidence.words(hit.evidence), message=text)
    if any(hit.signal == contract.ASKS_FOR_PERSON for hit in result.hits):
        turn.say("safety.contact_requested")
    if result.action == "ask":
        asking.ask(turn, result.asked, text)  # unclear: ask the person directly, the alert held meanwhile
    return result.action
