"""The scheduler: what is due, found in the database, run as timer events.

A round reads what is due (a course's check-in, reminder or missed week; an alert
to release or re-send; a course idle for longer than GUIDEBOT_COURSE_TTL_DAYS),
writing nothing, then hands each to the engine as a timer event in its own
transaction. The engine locks the row and checks again that it is due, so two
processes, or a round that overlaps a user's turn, never do a thing twice.
Nothing is kept in memory, so a restart loses no schedule. The Telegram process
and the terminal chat run the same rounds.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, CompoundSelect, Integer, Select, bindparam, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.engine.core import Engine
from bot.engine.digest import DIGEST, digest_due
from bot.engine.events import Event
from bot.engine.schedule import BOOSTER
from bot.logs import describe
from bot.storage.models import Alert, Course
from state_machines.course import RUNNING, STATES

log = logging.getLogger(__name__)

T = TypeVar("T")

# The parts of the due-scan's one statement.
_RUNNING, _BOOSTER, _ALERT, _EXPIRED = 1, 2, 3, 4
# Every state but "closed", named, so the expiry scan reads an index range per state.
NOT_CLOSED = tuple(state for state in STATES if state != "closed")


class Runner(Protocol):
    """Runs `work` in one transaction of its own."""

    def __call__(self, work: Callable[[Session], T]) -> Awaitable[T]: ...


def due_events(
    session: Session,
    now: datetime,
    *,
    course_ttl_days: int,
    limit: int = 500,
    digest: tuple[ZoneInfo, str] | None = None,
) -> list[Event]:
    """Everything due at `now`, oldest first within each kind; reads only.

    Expired courses come first: a course closed for good gets no reminder on its way out.
    The clinicians' daily digest (`digest`: the service time zone and GUIDEBOT_DIGEST_TIME)
    comes last, after the alerts it lists are released.
    """
    found: dict[int, list[tuple[int, datetime]]] = {_RUNNING: [], _BOOSTER: [], _ALERT: [], _EXPIRED: []}
    parameters = {"now": now, "expired_before": now - timedelta(days=course_ttl_days), "limit": limit}
    for kind, row_id, at in session.connection().execute(_due_scan(), parameters):
        found[kind].append((row_id, at))
    for rows in found.values():
        rows.sort(key=_due_time)  # each part comes ordered from its index, but UNION ALL keeps no order
    courses = [course_id for course_id, _ in heapq.merge(found[_RUNNING], found[_BOOSTER], key=_due_time)][:limit]
    expired_ids = [course_id for course_id, _ in found[_EXPIRED]]
    alert_ids = [alert_id for alert_id, _ in found[_ALERT]]
    events = [Event.expiry(course_id) for course_id in expired_ids]  # closed before all else
    events.extend(Event.timer(course_id) for course_id in courses)
    events.extend(Event.alert_timer(alert_id) for alert_id in alert_ids)
    if digest is not None and digest_due(session, now, *digest):
        events.append(Event("timer", data=DIGEST))
    return events


@cache
def _due_scan() -> CompoundSelect[int, int, datetime]:
    """The due-scan's one statement, built once (building it cost more than running it): four
    parts, each one range of an index by state (ix_course_due_scan, ix_alert_resend_scan,
    ix_course_expiry_scan), so it costs the same at 100,000 courses as at 100, in one round trip.
    Parameters: now, expired_before and limit."""
    now: BindParameter[datetime] = bindparam("now")
    expired_before: BindParameter[datetime] = bindparam("expired_before")
    limit = bindparam("limit", type_=Integer)
    parts = [
        _part(_RUNNING, Course.id, Course.due_at, [col(Course.state).in_(RUNNING), col(Course.due_at) <= now], limit),
        _part(
            _BOOSTER,
            Course.id,
            Course.due_at,
            [col(Course.state) == "completed", col(Course.due_at) <= now, col(Course.due_kind) == BOOSTER],
            limit,
        ),
        _part(
            _ALERT,
            Alert.id,
            Alert.next_resend_at,
            [col(Alert.acknowledged_at).is_(None), col(Alert.next_resend_at) <= now],
            limit,
        ),
        _part(
            _EXPIRED,
            Course.id,
            Course.last_activity_at,
            [col(Course.state).in_(NOT_CLOSED), col(Course.last_activity_at) <= expired_before],
            limit,
        ),
    ]
    # Each part as a subquery: SQLite allows no ORDER BY or LIMIT on a member of a UNION itself.
    return union_all(*(sa_select(*part.subquery().c) for part in parts))


def _part(
    kind: int, row_id: Any, at: Any, where: list[ColumnElement[bool]], limit: BindParameter[int]
) -> Select[int, int, datetime]:
    """One part of the due-scan: (kind, id, time) of the rows due, oldest first."""
    return (
        sa_select(literal(kind).label("kind"), col(row_id).label("id"), col(at).label("at"))
        .where(*where)
        .order_by(col(at))
        .limit(limit)
    )


def _due_time(row: tuple[int, datetime]) -> datetime:
    return row[1]


def _nothing() -> None:
    return None


async def run_due(run: Runner, engine: Engine, *, after_each: Callable[[], None] = _nothing) -> int:
    """One round: run every due event, each in its own transaction; returns how many were due.

    A failing event is logged and left due, so the next round tries it again.
    """
    now = engine.clock.now()
    config = engine.config
    digest = (config.tz, config.digest_time) if config.digest_time else None
    events = await run(partial(due_events, now=now, course_ttl_days=config.course_ttl_days, digest=digest))
    for event in events:
        try:
            await run(partial(engine.handle, event=event))
        except Exception as exc:  # noqa: BLE001 (still due, so it is tried again at the next round)
            log.error("a timer (%s) failed: %s", _what(event), describe(exc))
            continue
        after_each()
    return len(events)


def _what(event: Event) -> str:
    if event.alert_id is not None:
        return f"alert {event.alert_id}"
    return f"{event.data or 'course'} {event.course_id}"
