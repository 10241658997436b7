"""Access codes: guessing locks a chat out, and expired or used codes are refused."""

from __future__ import annotations

import itertools
import math
import secrets

import pytest
from sqlmodel import select

from bot.app import App
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.engine import codes
from bot.engine.codes import ALPHABET, LENGTH, new_code
from bot.engine.signals import scan
from bot.storage.db import transaction
from bot.storage.models import AccessCode, Alert
from tests.support.clinician import Colleague, audit_actions
from tests.support.participant import Participant

BAD_CODE = "Jeg fant ikke den koden."
LOCKED = "Det har vært for mange forsøk med feil kode."


def _wrong_code(app: App, real: str) -> str:
    """A code that was never issued, and that the escalation rules do not read as risk words
    (about one code in 1,100 holds "KMS", "KYS" or the like; a guess like that is read as it is)."""
    rules = app.dialogs.current.dialogs.escalation
    while True:
        guess = new_code()
        if guess != real and scan(rules, guess).action == "none":
            return guess


def test_codes_are_readable_and_have_over_40_bits() -> None:
    assert not set(ALPHABET) & set("0O1IL")
    assert LENGTH * math.log2(len(ALPHABET)) > 44


def test_brute_force_locks_the_chat_out_and_is_audited(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    code = kari.new_code("depression", "K-1")
    guesser = Participant(app, 6666)
    for _ in range(4):
        assert guesser.send(_wrong_code(app, code))[-1].text.startswith(BAD_CODE)
    assert guesser.send(_wrong_code(app, code))[-1].text.startswith(LOCKED)
    assert guesser.send(code)[-1].text.startswith(LOCKED), "even the right code waits out the lockout"
    assert [a.action for a in audit_actions(app)].count("code_lockout") == 1
    lockout = next(a for a in audit_actions(app) if a.action == "code_lockout")
    assert "6666" not in str(lockout.detail), "the chat is pseudonymous in the audit"

    other = Participant(app, 7777)
    other.send(_wrong_code(app, code))
    assert not other.last().text.startswith(LOCKED), "only the guessing chat is locked"

    clock.advance(minutes=61)
    assert guesser.send(code)[0].text.startswith("Velkommen!")
    assert guesser.course().label == "K-1"


def test_an_expired_code_is_refused(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    code = kari.new_code("depression", "K-1")
    clock.advance(days=30, seconds=1)
    user = Participant(app, 1001)
    assert user.send(f"/start {code}")[-1].text.startswith(BAD_CODE)


def test_a_code_works_until_it_expires(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    code = kari.new_code("depression", "K-1")
    clock.advance(days=29, hours=23)
    assert Participant(app, 1001).send(f"/start {code}")[0].text.startswith("Velkommen!")


def test_a_used_code_is_refused(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    code = kari.new_code("depression", "K-1")
    first = Participant(app, 1001)
    first.send(f"/start {code}")
    second = Participant(app, 1002)
    assert second.send(f"/start {code}")[-1].text.startswith(BAD_CODE)
    assert second.send(code.lower().replace("-", " "))[-1].text.startswith(BAD_CODE)
    redeemed = [a for a in audit_actions(app) if a.action == "code_redeemed"]
    assert [a.subject for a in redeemed] == ["K-1"]


def test_only_a_hash_of_the_code_is_stored(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    code = kari.new_code("depression", "K-1")
    with transaction(app.db) as session:
        row = session.exec(select(AccessCode)).one()
    stored = " ".join(str(value) for value in row.model_dump().values())
    assert code.replace("-", "") not in stored and code not in stored


def _alerts(app: App) -> list[Alert]:
    with transaction(app.db) as session:
        return list(session.exec(select(Alert)).all())


def test_no_code_group_is_a_group_the_shipped_rules_read(lighter_dialogs: DialogStore) -> None:
    """Every three-letter group a code can hold, scanned with the shipped rules: those read as risk
    words are the ones new codes avoid (a clinician hands the code out, and may read it aloud)."""
    escalation = lighter_dialogs.current.dialogs.escalation
    groups = ("".join(letters) for letters in itertools.product(codes.ALPHABET, repeat=3))
    assert {group for group in groups if scan(escalation, group).action != "none"} == codes.AVOID_GROUPS


def test_a_new_code_is_drawn_again_when_a_group_is_avoided(monkeypatch: pytest.MonkeyPatch) -> None:
    letters = iter("KMS7XY2QA" + "8ZWKYS3RB" + "8ZW7XY3RB")
    monkeypatch.setattr(secrets, "choice", lambda _alphabet: next(letters))
    assert codes.new_code() == "8ZW-7XY-3RB"


@pytest.mark.parametrize(("group", "action"), [("KMS", "alert"), ("KYS", "ask")])
def test_a_code_is_the_services_letters_not_risk_words(
    app: App, monkeypatch: pytest.MonkeyPatch, group: str, action: str
) -> None:
    """Codes are random letters: about one in 1,100 holds a group the rules read as risk words.
    Read as a text, "/start KMS-…" gave a new participant the crisis message and the team a
    false urgent alert (and a re-send timer), which made tests fail now and then."""
    kari = Colleague(app, 501, "Kari")
    drawn = iter([f"{group}-7XY-2QA", f"{group}-8ZW-3RB"])
    monkeypatch.setattr(codes, "new_code", lambda: next(drawn))
    first, second = kari.new_code("depression", "K-1"), kari.new_code("depression", "K-2")
    assert scan(app.dialogs.current.dialogs.escalation, first).action == action  # the rules do read it

    user = Participant(app, 1001)
    assert user.send(f"/start {first}")[0].text.startswith("Velkommen!")
    assert user.course().label == "K-1"
    typed = Participant(app, 1002)
    assert typed.send(second.lower())[0].text.startswith("Velkommen!"), "typed, not as /start"
    user.send(f"/start {first}")  # the link opened again: the code is used, and still only a code
    assert _alerts(app) == []

    stranger = Participant(app, 1003)
    stranger.send(f"{group}-7XY-2QB")  # never issued: the person's own words, read as any text
    [alert] = _alerts(app)
    assert alert.chat_id == 1003 and alert.evidence == [{"kind": "words", "words": group}]
    assert (alert.held_until is not None) == (action == "ask")  # asked directly first, or alerted at once
