"""The tables. Users are known by their access code's label, never by name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel._compat import SQLModelConfig

from bot.storage.types import UTCDateTime

# Indexes the migrations make and the models leave out (the schema tests leave them out of the
# comparison too):
# - ix_answer_homework (0011): the homework answers by course with their value, for `guidebot cases`;
#   its columns differ by database.
# - ix_inbox_unprocessed (0009): the unprocessed rows of one chat by update_id (inbox.earlier_pending),
#   a partial index. Declared here, its `postgresql_where` would load SQLAlchemy's PostgreSQL dialect
#   in every process, also on SQLite: about 45 ms of each start.
MIGRATION_ONLY_INDEXES = frozenset({"ix_answer_homework", "ix_inbox_unprocessed"})


class Row(SQLModel):
    """What every table shares: pydantic's validation schema is built when a table is first validated
    or dumped, not when this module is imported. Rows are read and written through SQLAlchemy, which
    never needs it; building it for all the tables was about a fifth of this module's import, which
    every `guidebot run` pays before it is ready (docs/performance.md)."""

    model_config = SQLModelConfig(from_attributes=True, defer_build=True)


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Clinician(Row, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    name: str
    is_admin: bool = False
    active: bool = True
    created_at: datetime = _utc()


class AccessCode(Row, table=True):
    # Unused codes long expired are deleted by the retention pass (bot/ops/retention.py).
    __table_args__ = (Index("ix_accesscode_unused", "redeemed_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, index=True)
    program: str
    label: str = Field(unique=True, index=True)
    clinician_id: int | None = Field(default=None, foreign_key="clinician.id")
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    redeemed_at: datetime | None = _utc(default=None)


class Course(Row, table=True):
    # The retention pass finds closed courses not yet stamped, and those due for anonymising.
    # The scheduler's due-scan (bot/scheduler.py) reads, by state, what is due (due_at) and
    # what has expired (last_activity_at), oldest first: a range of each index, not every course.
    # (No index on due_at alone: PostgreSQL took it for the due-scan and walked every closed
    # course's old due time.)
    __table_args__ = (
        Index("ix_course_retention", "state", "anonymised_at", "closed_at"),
        Index("ix_course_due_scan", "state", "due_at"),
        Index("ix_course_expiry_scan", "state", "last_activity_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(unique=True, index=True)
    program: str
    chat_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    clinician_id: int | None = Field(default=None, foreign_key="clinician.id")
    locale: str = "nb"
    timezone: str = "Europe/Oslo"
    state: str = Field(default="intake", index=True)
    paused_from: str | None = None
    flow: str | None = None
    step: str | None = None
    ask_seq: int = 0
    week: int = 1
    missed_weeks: int = 0
    reminders_sent: int = 0
    checkin_weekday: int | None = None
    checkin_time: str | None = None
    due_at: datetime | None = _utc(default=None)  # indexed with state: ix_course_due_scan
    due_kind: str | None = None
    unreachable: bool = False
    started_at: datetime = _utc()
    last_activity_at: datetime = _utc()
    last_checkin_at: datetime | None = _utc(default=None)
    finished_at: datetime | None = _utc(default=None)
    next_step_of_care: str | None = None
    # Set by the retention pass: when it first saw the course closed, and when it anonymised it.
    closed_at: datetime | None = _utc(default=None)
    anonymised_at: datetime | None = _utc(default=None)
    # Set when a check-in is finished: the case is in its clinician's feedback queue until
    # they write (/msg) or mark it seen (/seen).
    feedback_due_at: datetime | None = _utc(default=None, index=True)
    scratch: dict[str, Any] = _json(dict)


class Answer(Row, table=True):
    # One question's answers across courses (homework done, the dropout reason), by course id:
    # `guidebot cases` and the report read a range of courses at a time.
    __table_args__ = (Index("ix_answer_key_course", "key", "course_id"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    week: int
    flow: str
    key: str
    value: Any = Field(sa_column=Column(JSON, nullable=True))
    created_at: datetime = _utc()


class Score(Row, table=True):
    # `guidebot cases` seeks each course's latest and previous total per instrument here.
    __table_args__ = (
        UniqueConstraint("course_id", "week", "instrument"),
        Index("ix_score_latest", "course_id", "instrument", "week", "total"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    week: int
    instrument: str
    total: int | None = None
    band: str | None = None
    items: dict[str, int] = _json(dict)
    created_at: datetime = _utc()


class Alert(Row, table=True):
    # The metrics read the oldest open urgent alert on every scrape; the due-scan, the open
    # alerts due for a re-send.
    __table_args__ = (
        Index("ix_alert_open", "level", "acknowledged_at", "created_at"),
        Index("ix_alert_resend_scan", "acknowledged_at", "next_resend_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int | None = Field(default=None, foreign_key="course.id", index=True)
    label: str
    signal: str
    level: str
    # Each entry a kind and its values ({"kind": "score", ...}, bot/dialogs/evidence.py); plain strings in old rows.
    evidence: list[Any] = _json(list)
    week: int
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    acknowledged_at: datetime | None = _utc(default=None)
    acknowledged_by: int | None = Field(default=None, foreign_key="clinician.id")
    resend_count: int = 0
    next_resend_at: datetime | None = _utc(default=None, index=True)
    admins_notified: bool = False
    # The whole messages that raised or joined the alert, for the clinicians' case view:
    # [{"text": ..., "edited": bool, "at": ISO time}]. The team chat shows only `evidence`.
    messages: list[dict[str, Any]] = _json(list)
    # Held while the person is asked directly ("ask"): the clinicians are told at this
    # time at the latest, or at once on "yes" or "rather not say".
    held_until: datetime | None = _utc(default=None)
    # The chat, for alerts from a chat with no course (no code redeemed yet).
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    # When the person erased their data (/delete) while no clinician had acknowledged the
    # alert: it stays until acknowledged, and is erased then (bot/engine/personal_data.py).
    erased_at: datetime | None = _utc(default=None)


class Message(Row, table=True):
    """A message between a clinician and a participant: "to_participant" or "from_participant"."""

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    direction: str
    text: str
    created_at: datetime = _utc()
    clinician_id: int | None = Field(default=None, foreign_key="clinician.id")


class InboxItem(Row, table=True):
    """A received update, stored before it is acknowledged to Telegram."""

    __tablename__ = "inbox"
    # ix_inbox_unprocessed, partial, is made by migration 0009 alone (MIGRATION_ONLY_INDEXES).
    __table_args__ = (Index("ix_inbox_pending", "processed_at", "chat_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    update_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    chat_id: int = Field(sa_type=BigInteger)
    payload: dict[str, Any] = _json(dict)
    received_at: datetime = _utc()
    processed_at: datetime | None = _utc(default=None)
    attempts: int = 0


class OutboxItem(Row, table=True):
    """A message committed for delivery; the sender delivers it at least once."""

    __tablename__ = "outbox"
    # Ids only ever grow, also on SQLite after the newest rows are erased: the sender loads
    # the rows above the highest id it has seen.
    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "chat_id", "id"),
        Index("ix_outbox_retention", "cleared_at", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    kind: str = "text"
    payload: dict[str, Any] = _json(dict)
    image: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # The course the row is to or about (a clinician's view of a case too): /delete erases it.
    course_id: int | None = Field(default=None, index=True)
    alert_id: int | None = None
    created_at: datetime = _utc()
    attempts: int = 0
    sent_at: datetime | None = _utc(default=None)
    failed: str | None = None
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    # When the retention pass cleared the text (payload and image) of this finished row.
    cleared_at: datetime | None = _utc(default=None)


class CodeAttempt(Row, table=True):
    """A failed code redemption, by a hashed chat key, for the lockout."""

    id: int | None = Field(default=None, primary_key=True)
    chat_key: str = Field(index=True)
    at: datetime = _utc(index=True)


class AuditEntry(Row, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc()
    actor: str
    action: str = Field(index=True)
    subject: str | None = Field(default=None, index=True)
    detail: dict[str, Any] = _json(dict)


class ServiceState(Row, table=True):
    """A durable fact about the service itself, by key (e.g. "team_chat_unreachable")."""

    key: str = Field(primary_key=True)
    value: dict[str, Any] = _json(dict)
    updated_at: datetime = _utc()


class Invite(Row, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    created_by: int = Field(foreign_key="clinician.id")
    name: str
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(default=None)


class DashboardLink(Row, table=True):
    """A one-time login link for the web dashboard, asked for with /dashboard; only its hash is kept."""

    __tablename__ = "dashboard_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    clinician_id: int = Field(foreign_key="clinician.id")
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(default=None)


class DashboardSession(Row, table=True):
    """A signed-in browser; the cookie holds the token, the table only its hash."""

    __tablename__ = "dashboard_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    clinician_id: int = Field(foreign_key="clinician.id")
    created_at: datetime = _utc()
    last_seen_at: datetime = _utc()
    expires_at: datetime = _utc()
    ended_at: datetime | None = _utc(default=None)
    # Opaque per-session names for the cases shown, so no label reaches a URL: handle -> course id.
    handles: dict[str, int] = _json(dict)


class Cover(Row, table=True):
    """A clinician away (/away UNTIL NAME) and the colleague who takes their alerts, queue and replies.

    The cover holds until `until` (the start of the day after UNTIL, in the service's time zone)
    or until /back sets `ended_at`; the rows stay as the record of who covered whom.
    """

    id: int | None = Field(default=None, primary_key=True)
    clinician_id: int = Field(foreign_key="clinician.id", index=True)
    colleague_id: int = Field(foreign_key="clinician.id", index=True)
    created_at: datetime = _utc()
    until: datetime = _utc()
    ended_at: datetime | None = _utc(default=None)
