"""Engines, transactions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the database to the newest schema.

    A database already at the newest revision is only looked at: Alembic (with Mako and
    Pygments), its script directory and env.py are imported only when there is something to do.
    """
    if at_head(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), "head")


_REVISION = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration's revision, read from the version files' `revision` and `down_revision`
    lines without importing them; None where that is not one plain answer (Alembic then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
            found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            if isinstance(down, str):
                parents.add(down)
            elif isinstance(down, tuple | list):
                parents.update(str(d) for d in down)
            elif down is not None:
                return None
    except (OSError, KeyError, ValueError, SyntaxError):
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(url: str) -> bool:
    """Whether the database's alembic_version holds exactly the newest revision; any doubt is a no."""
    head = head_revision()
    if head is None:
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return False  # no such table yet, or the database cannot be reached: Alembic says which
    finally:
        engine.dispose()
    return [row[0] for row in rows] == [head]
