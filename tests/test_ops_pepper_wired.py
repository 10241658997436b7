"""GUIDEBOT_SECRET_KEY in use: new codes are stored peppered; codes made before the key still redeem."""

from __future__ import annotations

from sqlmodel import select

from bot.app import build_app
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.pepper import is_peppered
from bot.storage.db import transaction
from bot.storage.models import AccessCode
from tests.support.clinician import Colleague
from tests.support.participant import Participant
from tests.support.settings import make_settings


def test_codes_made_before_and_after_the_key_both_work(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    before = build_app(make_settings(sqlite_url), clock, run_migrations=False, dialogs=shipped_dialogs)
    old_code = Colleague(before, 501).new_code("depression", "K-4001")
    before.db.dispose()

    keyed = make_settings(sqlite_url, secret_key="made-up-test-pepper")
    app = build_app(keyed, clock, run_migrations=False, dialogs=shipped_dialogs)
    try:
        new_code = Colleague(app, 501, register=False).new_code("depression", "K-4002")
        with transaction(app.db) as session:
            stored = {c.label: c.code_hash for c in session.exec(select(AccessCode)).all()}
        assert not is_peppered(stored["K-4001"]) and is_peppered(stored["K-4002"])

        for chat_id, code, label in ((4001, old_code, "K-4001"), (4002, new_code, "K-4002")):
            user = Participant(app, chat_id)
            user.send(f"/start {code}")
            assert user.course().label == label
    finally:
        app.db.dispose()
