"""Every text a person writes is read for escalation signals, whatever else it is."""

from __future__ import annotations

from bot.dialogs import contract, evidence
from bot.engine import asking
from bot.engine.alerts import raise_signal
from bot.engine.codes import is_issued_code
from bot.engine.signals import scan
from bot.engine.turn import Turn


def read_text(turn: Turn, text: str) -> str:
    """Read a text for escalation signals and act on them; returns the action taken ("alert", "ask", "none")."""
    result = scan(turn.dialogs.escalation, text)
    if result.action != "none" and is_issued_code(turn.session, text, turn.config.secret_key):
        # "/start KMS-7XY-2QA", or the code typed: random letters the service made, not the person's
        # words. Only a code that was issued is passed; any other text is read as it is (and the
        # slow hash is paid only when the rules found something).
        return "none"
    for hit in result.hits:
        raise_signal(turn, hit.signal, evidence.words(hit.evidence), message=text)
    if any(hit.signal == contract.ASKS_FOR_PERSON for hit in result.hits):
        turn.say("safety.contact_requested")
    if result.action == "ask":
        asking.ask(turn, result.asked, text)  # unclear: ask the person directly, the alert held meanwhile
    return result.action
