"""The scheduler's due-scan reads ranges of indexes, not every course (issue 11), and
migration 0009 adds and removes those indexes on SQLite and PostgreSQL.

Made-up courses, now = 2026-03-10 12:00 UTC, expiry after 30 days without activity:
  R-1 active, check-in due an hour ago            -> due
  R-2 checkin, reminder due two hours ago         -> due (before R-1)
  R-3 active, due tomorrow                        -> not yet
  B-1 completed, a booster due 30 minutes ago     -> due (after R-1)
  B-2 completed, an old check-in time left over   -> not due (only boosters after completion)
  X-1 closed, old due time and no activity        -> nothing: closed
  X-2 dropped_out, due long ago (not running)     -> not due; no activity for 40 days -> expires
  P-1 paused, no activity for 31 days             -> expires
Alerts: one open with a re-send due, one open due later, one acknowledged with an old re-send time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command  # noqa: TID253 (migrations are what these test)
from sqlalchemy import Engine, event, inspect
from sqlmodel import Session

from bot.channels.telegram.inbox import earlier_pending
from bot.engine.events import Event
from bot.scheduler import due_events
from bot.storage.db import alembic_config, make_engine, migrate, transaction
from bot.storage.models import Alert, Course, InboxItem

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TTL = 30
INDEXES = {
    ("course", "ix_course_due_scan"),
    ("course", "ix_course_expiry_scan"),
    ("alert", "ix_alert_resend_scan"),
    ("inbox", "ix_inbox_unprocessed"),
    ("answer", "ix_answer_key_course"),
}


def _indexes(url: str) -> set[tuple[str, str]]:
    engine = make_engine(url)
    try:
        found = inspect(engine)
        return {
            (table, str(index["name"]))
            for table in ("course", "alert", "inbox", "answer")
            for index in found.get_indexes(table)
        }
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrate(url)
    assert _indexes(url) >= INDEXES
    assert ("course", "ix_course_due_at") not in _indexes(url)
    command.downgrade(alembic_config(url), "0008")
    assert not _indexes(url) & INDEXES
    assert ("course", "ix_course_due_at") in _indexes(url)
    command.upgrade(alembic_config(url), "head")
    assert _indexes(url) >= INDEXES


def test_migration_0009_adds_and_removes_the_indexes_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'indexes.db'}")


def test_migration_0009_adds_and_removes_the_indexes_on_postgresql(fresh_postgres: str) -> None:
    _round_trip(fresh_postgres)


def _course(label: str, state: str, *, due: timedelta | None = None, kind: str = "checkin", idle: int = 1) -> Course:
    return Course(
        label=label,
        program="depression",
        state=state,
        due_at=NOW + due if due is not None else None,
        due_kind=kind if due is not None else None,
        started_at=NOW - timedelta(days=60),
        last_activity_at=NOW - timedelta(days=idle),
    )


def _alert(course: Course, resend: timedelta, *, acknowledged: bool = False) -> Alert:
    assert course.id is not None
    return Alert(
        course_id=course.id,
        label=course.label,
        signal="self_harm",
        level="urgent",
        week=1,
        created_at=NOW - timedelta(hours=3),
        updated_at=NOW - timedelta(hours=3),
        next_resend_at=NOW + resend,
        acknowledged_at=NOW - timedelta(hours=2) if acknowledged else None,
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _seed(session: Session) -> dict[str, int]:
    courses = [
        _course("R-1", "active", due=-timedelta(hours=1)),
        _course("R-2", "checkin", due=-timedelta(hours=2), kind="reminder"),
        _course("R-3", "active", due=timedelta(days=1)),
        _course("B-1", "completed", due=-timedelta(minutes=30), kind="booster"),
        _course("B-2", "completed", due=-timedelta(days=3)),
        _course("X-1", "closed", due=-timedelta(days=50), idle=50),
        _course("X-2", "dropped_out", due=-timedelta(days=45), idle=40),
        _course("P-1", "paused", idle=31),
    ]
    session.add_all(courses)
    session.flush()
    ids = {c.label: c.id for c in courses if c.id is not None}
    first = courses[0]
    alerts = [
        _alert(first, -timedelta(minutes=5)),
        _alert(first, timedelta(minutes=5)),
        _alert(first, -timedelta(days=1), acknowledged=True),
    ]
    session.add_all(alerts)
    session.flush()
    ids["alert"] = alerts[0].id or 0
    return ids


def test_the_due_scan_finds_what_is_due_in_order(db: Engine) -> None:
    with transaction(db) as session:
        ids = _seed(session)
    with transaction(db) as session:
        events = due_events(session, NOW, course_ttl_days=TTL)
    assert events == [
        Event.expiry(ids["X-2"]),
        Event.expiry(ids["P-1"]),
        Event.timer(ids["R-2"]),
        Event.timer(ids["R-1"]),
        Event.timer(ids["B-1"]),
        Event.alert_timer(ids["alert"]),
    ]
    with transaction(db) as session:
        assert due_events(session, NOW, course_ttl_days=TTL, limit=1) == [
            Event.expiry(ids["X-2"]),
            Event.timer(ids["R-2"]),
            Event.alert_timer(ids["alert"]),
        ]


class Statements:
    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self.record)

    def record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, parameters))


def _plans(engine: Engine, statements: list[tuple[str, Any]]) -> list[str]:
    """Each statement's query plan, as text; on PostgreSQL with sequential scans priced out,
    so that a usable index shows on these small tables."""
    plans: list[str] = []
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            for statement, parameters in statements:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
        else:
            cursor.execute("SET enable_seqscan = off")
            for statement, parameters in statements:
                cursor.execute("EXPLAIN " + statement, parameters)
                plans.append("\n".join(str(row[0]) for row in cursor.fetchall()))
        cursor.close()
    return plans


def test_the_due_scan_reads_its_indexes(db: Engine) -> None:
    with transaction(db) as session:
        _seed(session)
    statements = Statements(db)
    with transaction(db) as session:
        due_events(session, NOW, course_ttl_days=TTL)
    assert len(statements.seen) == 1  # one round trip: the four parts are one UNION ALL
    [plan] = _plans(db, statements.seen)
    for index, parts in (("ix_course_due_scan", 2), ("ix_alert_resend_scan", 1), ("ix_course_expiry_scan", 1)):
        assert plan.count(index) >= parts, plan
    assert "SCAN course" not in plan and "Seq Scan" not in plan, plan


def test_a_chats_earlier_unprocessed_update_is_found_by_the_partial_index(db: Engine) -> None:
    with transaction(db) as session:
        session.add_all(
            [
                InboxItem(
                    update_id=n,
                    chat_id=7 if n % 2 else 8,
                    payload={},
                    received_at=NOW,
                    processed_at=NOW if n < 5 else None,
                )
                for n in range(10)
            ]
        )
    statements = Statements(db)
    with transaction(db) as session:
        found = earlier_pending(session, 7, 9)
    assert found is not None and found.chat_id == 7
    with transaction(db) as session:
        assert session.get(InboxItem, found.row_id) is not None
    [plan] = _plans(db, statements.seen[:1])
    assert "ix_inbox_unprocessed" in plan, plan
