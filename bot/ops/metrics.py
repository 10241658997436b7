"""Prometheus metrics.

The process counts what passes through it (updates taken in, Telegram's errors, how long
an update takes). What waits in the database (outbox, inbox, open urgent alerts) is read
from it on each scrape, with indexed queries, so every process reports the same truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, create_engine, event, func, select
from sqlalchemy.pool import QueuePool
from sqlmodel import col

from bot.storage.db import make_engine
from bot.storage.models import Alert, InboxItem, OutboxItem

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: they double every counter for nothing here

UPDATES = Counter("guidebot_updates", "Updates from Telegram taken into the inbox.")
TELEGRAM_ERRORS = Counter(
    "guidebot_telegram_errors",
    "Bot API calls that failed, by method and HTTP status ('network' or 'timeout' when there was no answer).",
    ["method", "status"],
)
UPDATE_SECONDS = Histogram(
    "guidebot_update_handling_seconds",
    "Time to run one stored update through the engine and commit it.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def count_update(count: int = 1) -> None:
    UPDATES.inc(count)


def count_telegram_error(method: str, status: int | str) -> None:
    TELEGRAM_ERRORS.labels(method=method, status=str(status)).inc()


def update_timer() -> AbstractContextManager[Any]:
    """`with update_timer(): ...` observes the block's duration in the handling-time histogram."""
    return UPDATE_SECONDS.time()


# -- read from the database on each scrape ----------------------------------------


def read_engine(url: str) -> Engine:
    """A small engine for the scrape's reads.

    On SQLite it is not the bot's engine: that one opens every transaction with
    BEGIN IMMEDIATE (the write lock). These reads need no lock under WAL, so a scrape
    never waits for, or holds up, the bot's writes.
    """
    if not url.startswith("sqlite"):
        return make_engine(url)
    engine = create_engine(
        url, connect_args={"timeout": 5, "check_same_thread": False}, poolclass=QueuePool, pool_size=1, max_overflow=1
    )

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


_OUTBOX_WAITING = and_(col(OutboxItem.sent_at).is_(None), col(OutboxItem.failed).is_(None))


def database_gauges(engine: Engine, now: datetime) -> dict[str, float]:
    """The gauges' values, read in one connection."""
    with engine.connect() as connection:
        outbox_pending = connection.execute(select(func.count()).where(_OUTBOX_WAITING)).scalar_one()
        oldest_due = connection.execute(
            select(func.min(col(OutboxItem.created_at))).where(_OUTBOX_WAITING)
        ).scalar_one()
        inbox_pending = connection.execute(
            select(func.count()).where(col(InboxItem.processed_at).is_(None))
        ).scalar_one()
        oldest_alert = connection.execute(
            select(func.min(col(Alert.created_at))).where(
                col(Alert.level) == "urgent", col(Alert.acknowledged_at).is_(None), col(Alert.held_until).is_(None)
            )
        ).scalar_one()
    return {
        "guidebot_outbox_pending": float(outbox_pending),
        "guidebot_outbox_oldest_pending_seconds": _age(oldest_due, now),
        "guidebot_inbox_pending": float(inbox_pending),
        "guidebot_alert_unacknowledged_oldest_seconds": _age(oldest_alert, now),
    }


def _age(value: Any, now: datetime) -> float:
    """Seconds since `value`; 0 when there is none. Aggregates come back as naive UTC (or text, on SQLite)."""
    if value is None:
        return 0.0
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=now.tzinfo)
    return max(0.0, float((now - value).total_seconds()))


HELP = {
    "guidebot_outbox_pending": "Outbox rows not yet sent (nor set aside).",
    "guidebot_outbox_oldest_pending_seconds": "Age of the oldest outbox row due and not yet sent; 0 when none.",
    "guidebot_inbox_pending": "Inbox rows not yet processed.",
    "guidebot_alert_unacknowledged_oldest_seconds": (
        "Age of the oldest urgent alert the clinicians were told of and nobody acknowledged; 0 when none."
    ),
}


class DatabaseCollector(Collector):
    """Reads the gauges on each scrape; `guidebot_database_up` is 0 when the database did not answer."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            values = database_gauges(self.engine, self.now())
        except Exception:  # noqa: BLE001 (a scrape must answer; the gauge below says the database is away)
            values = {}
        yield GaugeMetricFamily(
            "guidebot_database_up", "1 when the database answered this scrape.", value=int(bool(values))
        )
        for name, value in values.items():
            yield GaugeMetricFamily(name, HELP[name], value=value)


def exposition(database: CollectorRegistry) -> bytes:
    """The process's own metrics (with Python's process collectors) and the database's, in one text."""
    return generate_latest(REGISTRY) + generate_latest(database)


def database_registry(engine: Engine, now: Callable[[], datetime]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine, now))
    return registry
