"""Issue 10 against the engine: messages in /mydata and /delete, the reply step, the daily digest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.ops.retention import apply_retention
from bot.storage.db import transaction
from bot.storage.models import Course, Message, OutboxItem
from tests.support.clinician import Colleague, audit_actions
from tests.support.participant import Participant, do_checkin, do_intake
from tests.support.settings import full_forms_dialogs_dir, make_settings

NOTE = "Hei, takk for svarene dine denne uka."
REPLY = "Takk! Det var fint å få en melding."


def _messages(app: App) -> list[Message]:
    with transaction(app.db) as session:
        return list(session.exec(select(Message).order_by(col(Message.id))).all())


def _course(app: App, label: str) -> Course:
    with transaction(app.db) as session:
        return session.exec(select(Course).where(Course.label == label)).one()


def _exchange(kari: Colleague, user: Participant) -> None:
    kari.send(f"/msg {user.course().label} {NOTE}")
    user.receive()
    user.press("Svar veilederen")
    user.send(REPLY)
    kari.receive()


def test_messages_are_part_of_mydata_and_erased_by_delete(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    do_intake(user)
    _exchange(kari, user)
    assert any(REPLY in m.text for m in kari.inbox)

    user.send("/mydata")
    with transaction(app.db) as session:
        row = session.exec(select(OutboxItem).where(OutboxItem.kind == "document")).one()
        assert row.image is not None
        exported = json.loads(row.image)
    assert [(m["direction"], m["text"]) for m in exported["messages"]] == [
        ("to_participant", NOTE),
        ("from_participant", REPLY),
    ]

    user.send("/delete")
    user.press("Ja, slett alt")
    assert _messages(app) == []
    with transaction(app.db) as session:
        texts = [str(r.payload) for r in session.exec(select(OutboxItem)).all()]
    assert not any(NOTE in t or REPLY in t for t in texts)


def test_the_reply_step_can_be_cancelled_and_then_nothing_is_sent(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3002, "K-3002")
    do_intake(user)
    kari.send(f"/msg K-3002 {NOTE}")
    user.receive()
    user.press("Svar veilederen")
    cancelled = user.press("Avbryt")
    assert "sender ikke noe" in cancelled[-1].text
    user.send("bare en vanlig melding")
    assert not any("bare en vanlig melding" in m.text for m in kari.receive())
    assert [m.direction for m in _messages(app)] == ["to_participant"]


def test_a_closed_case_or_an_unknown_label_gets_no_message(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3003, "K-3003")
    do_intake(user)
    kari.send("/close K-3003 none")
    assert "kan ikke sende" in kari.send("/msg K-3003 hei")[-1].text
    assert "finner ingen sak" in kari.send("/msg K-9999 hei")[-1].text
    assert _messages(app) == []


@pytest.fixture
def digest_app(sqlite_url: str) -> Iterator[tuple[App, FakeClock]]:
    shipped_dialogs = DialogStore(full_forms_dialogs_dir())  # the course script answers the full forms
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    application = build_app(
        make_settings(sqlite_url, digest_time="08.00"), clock, run_migrations=False, dialogs=shipped_dialogs
    )
    yield application, clock
    application.db.dispose()


def test_the_daily_digest_lists_feedback_due_and_seen_clears_it(digest_app: tuple[App, FakeClock]) -> None:
    app, clock = digest_app
    kari = Colleague(app, 501, "Kari")
    ola = Colleague(app, 502, "Ola")
    user = kari.enrol(3004, "K-3004")
    do_intake(user)
    kari.send("/checkin K-3004")  # a clinician may open it at once; the person waits for the schedule's gap
    assert "uke 2" in user.receive()[0].text  # the check-in's first question, whose buttons the script presses
    do_checkin(user, [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    assert any("innen to virkedager" in t for t in user.texts())
    assert _course(app, "K-3004").feedback_due_at is not None
    app.run_due()  # 10.00 in Oslo on the first day: today's digest goes out now
    first = kari.receive()
    assert len(first) == 1 and "K-3004, ukesamtale 2" in first[0].text
    assert first[0].labels() == ["✓ K-3004: sett, ingen melding"]
    assert "K-3004" not in "".join(m.text for m in ola.receive())  # Ola owns no case here

    app.run_due()  # once a day
    assert kari.receive() == []

    clock.set(datetime(2026, 1, 6, 6, 30, tzinfo=UTC))  # 07.30 in Oslo: not yet
    app.run_due()
    assert kari.receive() == []

    kari.press("✓ K-3004: sett, ingen melding", first[0])
    assert kari.callbacks[-1] == "K-3004 er merket som sett. Saken er tatt ut av listen over tilbakemeldinger."
    assert _course(app, "K-3004").feedback_due_at is None
    assert "feedback_seen" in [a.action for a in audit_actions(app)]

    clock.set(datetime(2026, 1, 6, 7, 1, tzinfo=UTC))  # 08.01 in Oslo
    app.run_due()
    second = [m for m in kari.receive() if "Dagens oversikt" in m.text]
    assert len(second) == 1 and "K-3004" not in second[0].text and second[0].buttons == []


def test_messages_go_when_a_closed_course_is_anonymised(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3005, "K-3005")
    do_intake(user)
    _exchange(kari, user)
    kari.send("/close K-3005 none")
    assert len(_messages(app)) == 2
    with transaction(app.db) as session:
        apply_retention(session, clock.now(), app.settings)  # notes when it saw the course closed
    clock.advance(days=app.settings.retention_days + 1)
    with transaction(app.db) as session:
        assert apply_retention(session, clock.now(), app.settings).courses_anonymised == 1
    assert _messages(app) == []
