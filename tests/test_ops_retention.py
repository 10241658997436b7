"""Retention: old message text is cleared, long-closed courses are anonymised, and the
outcome report reads the same before and after."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.app import App, build_app
from bot.clinicians.report import outcome_rows
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.ops.retention import RetentionDone, apply_retention
from bot.storage.db import transaction
from bot.storage.models import AccessCode, Alert, Answer, AuditEntry, Course, OutboxItem, Score
from tests.support.cli import guidebot, use_database
from tests.support.clinician import Colleague
from tests.support.participant import Participant, do_checkin, do_intake, go_to_next_checkin
from tests.support.settings import make_settings
from tests.support.telegram_harness import running_bot

RISK = "Jeg vil ikke leve lenger, jeg har tenkt på å ta livet mitt"


def retention(app: App, **advance: float) -> RetentionDone:
    clock = app.engine.clock
    assert isinstance(clock, FakeClock)
    if advance:
        clock.advance(**advance)
    with transaction(app.db) as session:
        return apply_retention(session, clock.now(), app.settings)


def report(app: App) -> list[dict[str, object]]:
    with transaction(app.db) as session:
        return outcome_rows(session, app.dialogs.current.dialogs)


def a_closed_course(app: App, clock: FakeClock, kari: Colleague, chat_id: int, label: str) -> Participant:
    """Intake, a risk message (an urgent alert, acknowledged), one check-in, closed by the clinician."""
    user = kari.enrol(chat_id, label)
    do_intake(user, "nb", [2, 2, 2, 2, 2, 2, 2, 2, 0], [2, 2, 2, 2, 1, 1, 1])
    user.send(RISK)
    alert = user.alerts()[-1]
    kari.send(f"/ack {alert.id}")
    go_to_next_checkin(app, clock, user)
    do_checkin(user, [1, 1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0])
    kari.send(f"/close {label} group")
    user.receive()
    return user


def test_a_closed_course_is_anonymised_a_year_after_closing_and_the_report_stays_the_same(
    any_db_app: App, clock: FakeClock
) -> None:
    app = any_db_app
    kari = Colleague(app, 501)
    user = a_closed_course(app, clock, kari, 3001, "K-3001")
    course = user.course()
    assert course.state == "closed" and user.answer_rows() and user.alerts()
    before = report(app)
    assert before[-1]["finished_treatment"] == 1 and before[-1]["urgent_alerts"] == 1

    assert retention(app).closed_stamped == 1  # the first pass notes when it saw the course closed
    assert retention(app, days=364).courses_anonymised == 0
    done = retention(app, days=2)
    assert done.courses_anonymised == 1

    assert report(app) == before
    with transaction(app.db) as session:
        anonymous = session.get(Course, course.id)
        assert anonymous is not None
        assert anonymous.label == f"anon-{course.id}" and anonymous.chat_id is None
        assert anonymous.clinician_id is None and anonymous.checkin_time is None
        # Only what the report needs stays: where it closed from, the dropout reason and the days to start.
        kept = {"reason": None, "days_to_first": 0.0}
        assert anonymous.scratch == {"closed_from": "active", "report_facts": kept}
        assert anonymous.next_step_of_care == "group"
        assert anonymous.program == "depression" and anonymous.started_at == course.started_at
        assert session.exec(select(Answer).where(Answer.course_id == course.id)).all() == []
        scores = session.exec(select(Score).where(Score.course_id == course.id)).all()
        assert len(scores) >= 4 and all(s.items == {} and s.total is not None for s in scores)
        alerts = session.exec(select(Alert).where(Alert.course_id == course.id)).all()
        assert alerts and all(a.evidence == [] and a.messages == [] and a.label == anonymous.label for a in alerts)
        assert session.exec(select(OutboxItem).where(OutboxItem.course_id == course.id)).all() == []
        assert session.exec(select(AccessCode).where(AccessCode.label == "K-3001")).all() == []
        assert session.exec(select(AuditEntry).where(AuditEntry.subject == "K-3001")).all() == []
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "course_anonymised")).one().subject == (
            anonymous.label
        )
    assert retention(app, days=1).courses_anonymised == 0, "done once"


def test_a_course_with_an_alert_nobody_acknowledged_waits(any_db_app: App, clock: FakeClock) -> None:
    app = any_db_app
    kari = Colleague(app, 501)
    user = kari.enrol(3002, "K-3002")
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    user.send(RISK)
    kari.send("/close K-3002 none")
    retention(app)
    assert retention(app, days=400).courses_anonymised == 0
    assert user.course().label == "K-3002" and user.alerts()[-1].messages

    kari.send(f"/ack {user.alerts()[-1].id}")
    assert retention(app).courses_anonymised == 1


def test_running_courses_are_never_touched(any_db_app: App, clock: FakeClock) -> None:
    app = any_db_app
    kari = Colleague(app, 501)
    user = kari.enrol(3003, "K-3003")
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    answers = user.answers()
    retention(app, days=900)
    assert user.course().label == "K-3003" and user.answers() == answers


def test_sent_text_is_cleared_after_the_outbox_retention_and_the_row_later_goes(
    any_db_app: App, clock: FakeClock
) -> None:
    app = any_db_app
    now = clock.now()
    with transaction(app.db) as session:
        sent = message(session, now, "sendt for lenge siden", sent_at=now)
        aside = message(session, now, "satt til side", failed="blocked")
        waiting = message(session, now, "venter fortsatt")
        photo = message(session, now, "et diagram", sent_at=now, image=b"\x89PNG")

    assert retention(app, days=29).outbox_cleared == 0
    assert retention(app, days=2).outbox_cleared == 3
    with transaction(app.db) as session:
        rows = {row.id: row for row in session.exec(select(OutboxItem)).all()}
    assert rows[sent.id].payload == {} and rows[aside.id].payload == {} and rows[photo.id].image is None
    assert rows[waiting.id].payload["text"] == "venter fortsatt", "a row still to be sent keeps its text"
    assert rows[waiting.id].cleared_at is None

    assert retention(app, days=364).outbox_deleted == 0
    assert retention(app, days=2).outbox_deleted == 3
    with transaction(app.db) as session:
        assert [row.id for row in session.exec(select(OutboxItem)).all()] == [waiting.id]


def test_unused_codes_and_old_code_attempts_go(any_db_app: App, clock: FakeClock) -> None:
    app = any_db_app
    kari = Colleague(app, 501)
    kari.new_code("depression", "K-3004")
    Participant(app, 3005).send("/start AAA-AAA-AAA")  # a wrong code: one failed attempt
    assert retention(app, days=2).code_attempts_deleted == 1
    assert retention(app, days=392).codes_deleted == 0  # the code expired on day 30; day 394 now
    assert retention(app, days=2).codes_deleted == 1


def test_retention_settings_are_read(sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore) -> None:
    app = build_app(
        make_settings(sqlite_url, outbox_retention_days=2), clock, run_migrations=False, dialogs=shipped_dialogs
    )
    try:
        an_old_sent_message(app, clock.now())
        assert retention(app, days=3).outbox_cleared == 1
    finally:
        app.db.dispose()


def message(session: Session, created: datetime, text: str, **fields: Any) -> OutboxItem:
    row = OutboxItem(chat_id=42, payload={"text": text}, created_at=created, **fields)
    session.add(row)
    session.flush()
    return row


def an_old_sent_message(app: App, when: datetime) -> None:
    with transaction(app.db) as session:
        message(session, when, "gammel melding", sent_at=when)


async def test_the_running_bot_applies_retention_in_its_housekeeping(
    sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    before = build_app(make_settings(sqlite_url), clock, run_migrations=False, dialogs=shipped_dialogs)
    an_old_sent_message(before, clock.now() - timedelta(days=31))
    before.db.dispose()

    async with running_bot(sqlite_url, clock) as tg:  # housekeeping runs once at start (then hourly here)

        def cleared() -> bool:
            with transaction(tg.app.db) as session:
                return session.exec(select(OutboxItem)).one().payload == {}

        async with asyncio.timeout(10):
            while not cleared():  # noqa: ASYNC110 (the round's only trace is in the database)
                await asyncio.sleep(0.02)


def test_db_retention_for_cron(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> None:
    use_database(monkeypatch, tmp_path, sqlite_url)
    result = guidebot("db", "retention")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Outbox texts cleared: 0,")


def test_an_alert_from_a_chat_without_a_course_loses_its_text_a_year_after_it_was_acknowledged(
    any_db_app: App, clock: FakeClock
) -> None:
    app = any_db_app
    kari = Colleague(app, 501)
    Participant(app, 3006).send(RISK)  # before any code: the alert has the chat, not a course
    with transaction(app.db) as session:
        alert = session.exec(select(Alert)).one()
    assert alert.course_id is None and alert.chat_id == 3006 and alert.messages
    assert retention(app, days=400).alerts_cleared == 0, "not before someone acknowledged it"

    kari.send(f"/ack {alert.id}")
    assert retention(app, days=364).alerts_cleared == 0
    assert retention(app, days=2).alerts_cleared == 1
    with transaction(app.db) as session:
        cleared = session.exec(select(Alert)).one()
    assert (cleared.chat_id, cleared.messages, cleared.evidence, cleared.label) == (None, [], [], "-")
    assert cleared.level == alert.level and cleared.acknowledged_at is not None
    assert retention(app, days=1).alerts_cleared == 0, "done once"
