"""Wiring: settings, database, dialogs and engine, built the same for every channel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine as DbEngine
from sqlmodel import Session

from bot.clinicians.commands import clinician_turn
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dialogs.store import DialogStore
from bot.engine.core import Engine
from bot.engine.events import Event
from bot.scheduler import run_due
from bot.storage.db import make_engine, migrate, transaction

T = TypeVar("T")


@dataclass
class App:
    settings: Settings
    db: DbEngine
    dialogs: DialogStore
    engine: Engine

    def handle(self, event: Event) -> None:
        """Run one event in its own transaction."""
        with transaction(self.db) as session:
            self.engine.handle(session, event)

    async def run(self, work: Callable[[Session], T]) -> T:
        """`work` in a transaction of its own (the scheduler's runner outside the Telegram process)."""
        with transaction(self.db) as session:
            return work(session)

    def run_due(self) -> int:
        """One scheduler round, here and now: what is due runs; returns how many were due."""
        return asyncio.run(run_due(self.run, self.engine))


def build_app(
    settings: Settings, clock: Clock | None = None, *, run_migrations: bool = True, dialogs: DialogStore | None = None
) -> App:
    """Load dialogs (refusing broken ones), migrate the database, build the engine."""
    dialogs = dialogs or DialogStore(settings.dialogs_dir)
    if run_migrations:
        migrate(settings.database_url)
    db = make_engine(settings.database_url)
    engine = Engine(dialogs, clock or SystemClock(), settings, clinician_handler=clinician_turn)
    return App(settings, db, dialogs, engine)
