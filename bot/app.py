"""Wiring: settings, database, dialogs and engine, built the same for every channel."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine

from bot.charts import score_chart
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dialogs.store import DialogStore
from bot.engine.core import Engine
from bot.engine.events import Event
from bot.engine.turn import Turn
from bot.storage.db import make_engine, migrate, transaction


def chart_for_turn(turn: Turn) -> bytes | None:
    texts = {key: turn.text(f"chart.{key}") for key in ("title", "week", "total")}
    return score_chart(turn.dialogs, turn.facts().scores, turn.locale, texts)


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


def build_app(
    settings: Settings, clock: Clock | None = None, *, run_migrations: bool = True, dialogs: DialogStore | None = None
) -> App:
    """Load dialogs (refusing broken ones), migrate the database, build the engine."""
    dialogs = dialogs or DialogStore(settings.dialogs_dir)
    if run_migrations:
        migrate(settings.database_url)
    db = make_engine(settings.database_url)
    from bot.clinicians.commands import ClinicianCommands

    engine = Engine(dialogs, clock or SystemClock(), settings, chart_maker=chart_for_turn)
    engine.clinician_handler = ClinicianCommands(engine)
    return App(settings, db, dialogs, engine)
