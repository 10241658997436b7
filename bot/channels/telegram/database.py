"""Where the Telegram channel's database work runs: in threads, off the event loop.

SQLite takes one writer at a time, so there it is one thread with one connection kept
open for the life of the process. That saves a connect per transaction and keeps the
WAL file from being checkpointed and removed each time the last connection closes,
which costs more than the transaction itself. PostgreSQL gets a thread per worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from bot.storage.db import transaction

T = TypeVar("T")

Work = Callable[[Session], T]


class Database:
    def __init__(self, engine: Engine, threads: int) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._pool = ThreadPoolExecutor(max_workers=1 if self.sqlite else threads, thread_name_prefix="guidebot-db")
        self._connection: Connection | None = None

    async def run(self, work: Work[T]) -> T:
        """Run `work` in one transaction, in a database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.run_now, work)

    def run_now(self, work: Work[T]) -> T:
        with self.session() as session:
            return work(session)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self._sqlite_connection() if self.sqlite else self.engine) as session:
            yield session

    def _sqlite_connection(self) -> Connection:
        """The one connection the SQLite thread keeps open (opened again if it was lost)."""
        if self._connection is None or self._connection.invalidated or self._connection.closed:
            self._connection = self.engine.connect()
        return self._connection

    def close(self) -> None:
        """Wait for running work, then let the connection go."""
        self._pool.shutdown(wait=True)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
