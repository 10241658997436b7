"""The migrations make exactly the tables, columns and indexes the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata  # noqa: TID253 (migrations are what these test)
from alembic.migration import MigrationContext  # noqa: TID253 (migrations are what these test)
from sqlmodel import SQLModel

from bot.app import App


def test_the_migrated_schema_matches_the_models(any_db_app: App) -> None:
    with any_db_app.db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
