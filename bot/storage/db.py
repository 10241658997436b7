"""Engines, transactions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:  # imported where used: `guidebot cases` reads without the ORM or Alembic
    from alembic.config import Config
    from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)


def make_engine(url: str, *, reader: bool = False) -> Engine:
    """An engine with the settings each backend needs for safe concurrent use.

    `reader`: for a command that only reads (`guidebot cases`). On SQLite its transactions
    begin deferred, a snapshot of the write-ahead log that never holds the write lock, so a
    long listing does not stall the running bot's writes.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            poolclass=QueuePool,
            pool_size=8,
            max_overflow=8,
        )
        _configure_sqlite(engine, begin="BEGIN" if reader else "BEGIN IMMEDIATE")
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _configure_sqlite(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not left in free pages (docs/privacy.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: no deadlock when a reader upgrades (a reader's engine
        # never writes, so it begins deferred).
        connection.exec_driver_sql(begin)


@contextmanager
def transaction(bind: Engine | Connection) -> Iterator[Session]:
    """One unit of work: everything in it commits together or not at all.

    `bind` is the engine (a pooled connection per transaction) or one connection kept
    open by the caller (the Telegram channel's SQLite thread).
    """
    from sqlmodel import Session  # noqa: PLC0415 (guidebot cases reads with the core alone)

    with Session(bind=bind, expire_on_commit=False) as session, session.begin():
        yield session


def scrub_after_commit(session: Session) -> None:
    """Once the session's transaction commits, leave no copy of deleted rows in the files.

    With `secure_delete` SQLite zeroes what is deleted, but older versions of the
    pages stay in the write-ahead log until a checkpoint: a TRUNCATE checkpoint
    copies the newest pages into the database file and empties the log. PostgreSQL
    keeps dead rows until VACUUM; what that means is in docs/privacy.md.
    """
    event.listen(session, "after_commit", _checkpoint, once=True)


def _checkpoint(session: Session) -> None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine  # the Telegram channel binds a connection
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()  # outside any transaction: BEGIN IMMEDIATE would block the checkpoint
    try:
        cursor = connection.cursor()
        busy, _log_pages, _moved = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        connection.close()
    if busy:
        log.error(
            "the SQLite write-ahead log could not be emptied after an erasure (a reader held it); "
            "erased text stays in the -wal file until the next checkpoint"
        )


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # noqa: PLC0415 (Alembic only when a migration runs)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database to the newest schema.

    A database already there is seen with one query, without loading Alembic and every
    migration script (a third of a second at each start of a command).
    """
    if _at_head(url):
        return
    from alembic import command  # noqa: PLC0415 (as above)

    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    """The newest migration's revision: the files are named by it (`0011_case_list.py` is "0011");
    tests/test_migrations.py holds this to Alembic's own view of the head."""
    return max(path.name[:4] for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _at_head(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:  # no such table yet, or no database: Alembic makes it, or says what is wrong
        return False
    finally:
        engine.dispose()
    return version == head_revision()
