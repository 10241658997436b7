"""Access codes: guessing locks a chat out, and expired or used codes are refused."""

from __future__ import annotations

import math

from sqlmodel import select

from bot.app import App
from bot.clock import FakeClock
from bot.engine.codes import ALPHABET, LENGTH, new_code
from bot.storage.db import transaction
from bot.storage.models import AccessCode
from tests.support.clinician import Colleague, audit_actions
from tests.support.participant import Participant

BAD_CODE = "Jeg fant ikke den koden."
LOCKED = "Det har vært for mange forsøk med feil kode."


def _wrong_code(real: str) -> str:
    while True:
        guess = new_code()
        if guess != real:
            return guess


def test_codes_are_readable_and_have_over_40_bits() -> None:
    assert not set(ALPHABET) & set("0O1IL")
    assert LENGTH * math.log2(len(ALPHABET)) > 44


def test_brute_force_locks_the_chat_out_and_is_audited(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    code = kari.new_code("depression", "K-1")
    guesser = Participant(app, 6666)
    for _ in range(4):
        assert guesser.send(_wrong_code(code))[-1].text.startswith(BAD_CODE)
    assert guesser.send(_wrong_code(code))[-1].text.startswith(LOCKED)
    assert guesser.send(code)[-1].text.startswith(LOCKED), "even the right code waits out the lockout"
    assert [a.action for a in audit_actions(app)].count("code_lockout") == 1
    lockout = next(a for a in audit_actions(app) if a.action == "code_lockout")
    assert "6666" not in str(lockout.detail), "the chat is pseudonymous in the audit"

    other = Participant(app, 7777)
    other.send(_wrong_code(code))
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
