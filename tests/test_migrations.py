"""The migrations run both ways on SQLite and PostgreSQL, and leave the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command  # noqa: TID253 (migrations are what these test)
from alembic.script import ScriptDirectory  # noqa: TID253 (migrations are what these test)
from sqlalchemy import inspect, text

from bot.storage.db import alembic_config, at_head, head_revision, make_engine, migrate
from tests.support.schema import schema_differences

DEAD = {("course", "item_index"), ("outbox", "not_before")}


def _columns(url: str) -> set[tuple[str, str]]:
    engine = make_engine(url)
    try:
        found = inspect(engine)
        return {(table, column["name"]) for table, _ in DEAD for column in found.get_columns(table)}
    finally:
        engine.dispose()


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return schema_differences(connection, compare_type=False)
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    migrate(url)
    assert not DEAD & _columns(url)
    assert _differences(url) == []
    command.downgrade(alembic_config(url), "0003")
    assert _columns(url) >= DEAD
    command.upgrade(alembic_config(url), "head")
    assert not DEAD & _columns(url)
    assert _differences(url) == []


def test_the_dead_columns_go_and_come_back_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


def test_the_dead_columns_go_and_come_back_on_postgresql(fresh_postgres: str) -> None:
    _round_trip(fresh_postgres)


def test_the_head_read_from_the_version_files_is_alembics() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _upgrades(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = command.upgrade

    def counted(config: object, revision: str) -> None:
        calls.append(revision)
        real(config, revision)  # type: ignore[arg-type]

    monkeypatch.setattr(command, "upgrade", counted)
    return calls


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_at_the_newest_revision_is_only_looked_at(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'at-head.db'}" if backend == "sqlite" else request.getfixturevalue("fresh_postgres")
    upgrades = _upgrades(monkeypatch)
    migrate(url)  # a new database: Alembic makes the tables
    assert upgrades == ["head"] and at_head(url)
    migrate(url)  # at the head: nothing to do, Alembic not asked
    assert upgrades == ["head"]
    command.downgrade(alembic_config(url), "0009")
    assert not at_head(url)
    migrate(url)  # one behind: Alembic upgrades it
    assert upgrades == ["head", "head"] and at_head(url)
    assert _differences(url) == []


def test_a_missing_or_odd_version_table_goes_to_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    assert not at_head(url)  # no alembic_version table
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0009')"))  # two rows
    engine.dispose()
    assert not at_head(url)
