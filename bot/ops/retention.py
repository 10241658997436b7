"""Retention: what is kept, for how long, and what is left once that time is up.

- The text of a finished outbox row (sent, or set aside) is cleared after
  GUIDEBOT_OUTBOX_RETENTION_DAYS (30): its payload and image. The row itself (chat,
  kind, times) goes GUIDEBOT_RETENTION_DAYS after that.
- A closed course is anonymised GUIDEBOT_RETENTION_DAYS (365) after it was closed. What
  the outcome report (`guidebot report`) needs stays: the program, the dates, the
  states, the weekly score totals and bands, and the alerts' levels and times. Its
  label becomes `anon-<id>`; its chat id, clinician, answers, score items, alert
  evidence and messages, its code, its sent messages and its label in the audit go.
  A course with an alert no clinician has acknowledged waits until one has.
- Alerts with no course (raised before a code was redeemed, or left by /delete until
  acknowledged) lose their messages, evidence and chat id GUIDEBOT_RETENTION_DAYS after
  they were acknowledged.
- Codes never redeemed go GUIDEBOT_RETENTION_DAYS after they expired; failed code
  attempts (a hashed chat key, for the lockout) after a day.

When a course was closed is not written by whoever closes it: each pass stamps
`closed_at` on closed courses that have none. A course closed before this version is
counted from the first pass after the upgrade, so it is kept longer, never shorter.

Every statement reads through an index, so a pass with nothing to do is cheap; each
pass does at most `batch` courses and rows of each kind, and returns how many it did.
Each query is ordered by all the columns of its index: the rows to do are exactly the
ones the planner cannot count (old, and not yet done), and without that order PostgreSQL
expects to find them at once in a table scan, which then reads the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, update
from sqlalchemy import select as columns
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col, select

from bot.config import Settings
from bot.storage import report_facts
from bot.storage.models import (
    AccessCode,
    Alert,
    Answer,
    AuditEntry,
    CodeAttempt,
    Course,
    DashboardLink,
    DashboardSession,
    Message,
    OutboxItem,
    Score,
)

ANONYMOUS_PREFIX = "anon-"
NO_LABEL = "-"  # the label of an alert with no course, as the engine writes it
CODE_ATTEMPTS_KEPT = timedelta(days=1)
SIGN_INS_KEPT = timedelta(days=1)  # dashboard links and sessions, after they expired
BATCH = 500
_COURSE_RETENTION = (col(Course.state), col(Course.anonymised_at), col(Course.closed_at))  # ix_course_retention


@dataclass
class RetentionDone:
    closed_stamped: int = 0
    courses_anonymised: int = 0
    outbox_cleared: int = 0
    outbox_deleted: int = 0
    alerts_cleared: int = 0
    codes_deleted: int = 0
    code_attempts_deleted: int = 0
    sign_ins_deleted: int = 0

    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def add(self, other: RetentionDone) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def apply_retention(session: Session, now: datetime, settings: Settings, batch: int = BATCH) -> RetentionDone:
    """One pass, in the caller's transaction."""
    keep = timedelta(days=settings.retention_days)
    outbox_keep = timedelta(days=settings.outbox_retention_days)
    done = RetentionDone()
    done.closed_stamped = _stamp_closed(session, now, batch)
    done.courses_anonymised = _anonymise_courses(session, now, now - keep, batch)
    done.outbox_cleared = _clear_outbox(session, now, now - outbox_keep, batch)
    done.outbox_deleted = _delete_rows(
        session,
        OutboxItem,
        col(OutboxItem.id),
        col(OutboxItem.cleared_at) <= now - keep,
        (col(OutboxItem.cleared_at), col(OutboxItem.created_at)),
        batch,
    )
    done.alerts_cleared = _clear_lone_alerts(session, now - keep, batch)
    done.codes_deleted = _delete_rows(
        session,
        AccessCode,
        col(AccessCode.id),
        col(AccessCode.redeemed_at).is_(None) & (col(AccessCode.expires_at) <= now - keep),
        (col(AccessCode.redeemed_at), col(AccessCode.expires_at)),
        batch,
    )
    done.code_attempts_deleted = _delete_rows(
        session,
        CodeAttempt,
        col(CodeAttempt.id),
        col(CodeAttempt.at) <= now - CODE_ATTEMPTS_KEPT,
        (col(CodeAttempt.at),),
        batch,
    )
    for sign_in in (DashboardLink, DashboardSession):
        done.sign_ins_deleted += _delete_rows(
            session,
            sign_in,
            col(sign_in.id),
            col(sign_in.expires_at) <= now - SIGN_INS_KEPT,
            (col(sign_in.expires_at),),
            batch,
        )
    return done


def _stamp_closed(session: Session, now: datetime, batch: int) -> int:
    ids = session.exec(
        select(Course.id)
        .where(Course.state == "closed", col(Course.anonymised_at).is_(None), col(Course.closed_at).is_(None))
        .order_by(*_COURSE_RETENTION)
        .limit(batch)
    ).all()
    if ids:
        session.execute(update(Course).where(col(Course.id).in_(ids)).values(closed_at=now))
    return len(ids)


def _anonymise_courses(session: Session, now: datetime, closed_before: datetime, batch: int) -> int:
    unacknowledged = exists().where(col(Alert.course_id) == col(Course.id), col(Alert.acknowledged_at).is_(None))
    courses = session.exec(
        select(Course)
        .where(
            Course.state == "closed",
            col(Course.anonymised_at).is_(None),
            col(Course.closed_at) <= closed_before,
            ~unacknowledged,
        )
        .order_by(*_COURSE_RETENTION)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for course in courses:
        _anonymise(session, course, now)
    return len(courses)


def _anonymise(session: Session, course: Course, now: datetime) -> None:
    assert course.id is not None
    course_id, label = course.id, course.label
    anonymous = f"{ANONYMOUS_PREFIX}{course_id}"
    facts = course.scratch.get(report_facts.KEY) or report_facts.kept_facts(session, course)
    session.execute(delete(Answer).where(col(Answer.course_id) == course_id))
    session.execute(delete(Message).where(col(Message.course_id) == course_id))
    session.execute(update(Score).where(col(Score.course_id) == course_id).values(items={}))
    session.execute(
        update(Alert)
        .where(col(Alert.course_id) == course_id)
        .values(label=anonymous, evidence=[], messages=[], chat_id=None)
    )
    session.execute(
        delete(OutboxItem).where(
            col(OutboxItem.course_id) == course_id,
            col(OutboxItem.sent_at).is_not(None) | col(OutboxItem.failed).is_not(None),
        )
    )
    session.execute(update(AuditEntry).where(col(AuditEntry.subject) == label).values(subject=None))
    session.execute(delete(AccessCode).where(col(AccessCode.label) == label))
    closed_from = course.scratch.get("closed_from")
    course.label = anonymous
    course.chat_id = None
    course.clinician_id = None
    course.flow = course.step = course.paused_from = None
    course.checkin_weekday = None
    course.checkin_time = None
    course.scratch = {**({"closed_from": closed_from} if closed_from else {}), report_facts.KEY: facts}
    course.anonymised_at = now
    session.add(course)
    session.flush()
    session.add(AuditEntry(at=now, actor="retention", action="course_anonymised", subject=anonymous))


def _clear_outbox(session: Session, now: datetime, created_before: datetime, batch: int) -> int:
    ids = session.exec(
        select(OutboxItem.id)
        .where(
            col(OutboxItem.cleared_at).is_(None),
            col(OutboxItem.created_at) <= created_before,
            col(OutboxItem.sent_at).is_not(None) | col(OutboxItem.failed).is_not(None),
        )
        .order_by(col(OutboxItem.cleared_at), col(OutboxItem.created_at))
        .limit(batch)
    ).all()
    if ids:
        session.execute(
            update(OutboxItem).where(col(OutboxItem.id).in_(ids)).values(payload={}, image=None, cleared_at=now)
        )
    return len(ids)


def _clear_lone_alerts(session: Session, acknowledged_before: datetime, batch: int) -> int:
    ids = session.exec(
        select(Alert.id)
        .where(
            col(Alert.course_id).is_(None),
            col(Alert.acknowledged_at) <= acknowledged_before,
            col(Alert.chat_id).is_not(None) | (col(Alert.label) != NO_LABEL),
        )
        .order_by(col(Alert.course_id))
        .limit(batch)
    ).all()
    if ids:
        session.execute(
            update(Alert).where(col(Alert.id).in_(ids)).values(label=NO_LABEL, evidence=[], messages=[], chat_id=None)
        )
    return len(ids)


def _delete_rows(
    session: Session,
    table: type[SQLModel],
    key: Mapped[int | None],
    condition: ColumnElement[bool],
    order: tuple[Mapped[Any], ...],
    batch: int,
) -> int:
    ids = session.execute(columns(key).where(condition).order_by(*order).limit(batch)).scalars().all()
    if ids:
        session.execute(delete(table).where(key.in_(ids)))
    return len(ids)
