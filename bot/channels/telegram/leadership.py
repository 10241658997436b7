"""Who does what when several `guidebot run` processes share one database.

Every process takes updates in and runs the engine. Two duties are done by one process
at a time for the whole bot:

- "send": the outbox, so that no row is sent twice, each chat's messages leave in
  order, and Telegram's limits (30 a second overall, 1 a second per chat) hold for the
  whole bot, not per process;
- "keep": the scheduler round (timers, re-sends, expiry), picking up inbox rows a dead
  process left, pruning and retention.

On PostgreSQL each duty is a session advisory lock (`pg_try_advisory_lock`) held on a
connection of its own. The process holding it does the duty; the others try again
every second or so. When the holder dies (even by `kill -9`), PostgreSQL ends its
session and lets the lock go, and another process takes the duty over. A holder whose
lock connection breaks stops at once (its service manager starts it again), since it
can no longer know that it still holds the duty; a sender stops with no grace, so that it
does not deliver beside the process that may hold the duty a second later.

On SQLite the database takes one process. Each duty is an exclusive lock on a file
beside the database, taken at start; a second process is refused with a clear line.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

SEND, KEEP, RECEIVE = "send", "keep", "receive"
# The duties each role does. A role's process on SQLite also locks "receive", so
# that two processes never take updates in on one SQLite file.
ROLE_DUTIES: dict[str, tuple[str, ...]] = {"all": (SEND, KEEP), "receive": (KEEP,), "send": (SEND,)}
SQLITE_LOCKS: dict[str, tuple[str, ...]] = {"all": (RECEIVE, SEND), "receive": (RECEIVE,), "send": (SEND,)}

# pg_advisory_lock(int4, int4) keys: (namespace, number). The namespace keeps guidebot's
# locks apart from any other application's on the same database server.
NAMESPACE = 0x6762  # "gb"
DUTY_KEYS = {SEND: 1, KEEP: 2}
CHAT_NAMESPACE = 0x6763


def chat_key(chat_id: int) -> int:
    """A chat's 32-bit key for the per-chat transaction lock (two chats sharing one only wait for each other)."""
    folded = (chat_id ^ (chat_id >> 31)) & 0x7FFFFFFF
    return folded


def application_name(duty: str) -> str:
    """How the lock's connection shows in pg_stat_activity: which duty, and the process's pid."""
    return f"guidebot {duty} pid {os.getpid()}"


class AlreadyRunning(Exception):
    """Another process holds this SQLite database."""


class DutyLock:
    """One duty's advisory lock on PostgreSQL, on a connection kept for it alone."""

    def __init__(self, engine: Engine, duty: str) -> None:
        self.engine = engine
        self.duty = duty
        self._connection: Connection | None = None
        self.held = False

    def try_take(self) -> bool:
        """Take the duty if nobody holds it (blocking; run it in a thread)."""
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": "guidebot"})
        taken = bool(
            self._connection.execute(
                text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                {"namespace": NAMESPACE, "key": DUTY_KEYS[self.duty]},
            ).scalar_one()
        )
        if taken:
            self._connection.execute(
                text("SELECT set_config('application_name', :name, false)"), {"name": application_name(self.duty)}
            )
            self.held = True
        return taken

    def still_held(self) -> bool:
        """False when the lock's connection is gone (and with it, perhaps, the lock)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 (any failure means the session may be gone)
            log.error("the %s duty's database connection broke: %s", self.duty, type(exc).__name__)
            return False
        return True

    def release(self) -> None:
        """Closing the connection ends the session, and the lock with it."""
        if self._connection is not None:
            try:
                self._connection.invalidate()  # not back to the pool: the session (and its lock) must end
                self._connection.close()
            except Exception:  # noqa: BLE001, S110 (the session is gone either way)
                pass
            self._connection = None
        self.held = False


def sqlite_path(database_url: str) -> Path | None:
    """The SQLite file of the URL, or None (PostgreSQL, or an in-memory database)."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


class SqliteLocks:
    """Exclusive file locks beside a SQLite database, one per duty, held until release."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self._files: list[IO[bytes]] = []

    def take(self, names: tuple[str, ...]) -> None:
        """Lock each name, or release what was taken and raise AlreadyRunning."""
        for name in names:
            path = self.database.with_name(f"{self.database.name}.{name}.lock")
            handle = path.open("a+b")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                self.release()
                raise AlreadyRunning(
                    f"another guidebot process is already running on the SQLite database {self.database} "
                    f"(it holds {path.name}). SQLite takes one process (or one --role receive and one "
                    "--role send); to run several, use PostgreSQL."
                ) from None
            self._files.append(handle)

    def release(self) -> None:
        for handle in self._files:
            handle.close()  # closing the file lets its lock go
        self._files.clear()
