"""The migrations make exactly the tables, columns and indexes the models declare."""

from __future__ import annotations

from bot.app import App
from tests.support.schema import schema_differences


def test_the_migrated_schema_matches_the_models(any_db_app: App) -> None:
    with any_db_app.db.connect() as connection:
        differences = schema_differences(connection)
    assert differences == []
