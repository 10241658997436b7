"""The migrations run both ways on SQLite and PostgreSQL, and leave the schema the models describe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.storage.db import alembic_config, head_revision, make_engine, migrate
from tests.conftest import POSTGRES_ADMIN_URL, postgres_or_skip
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


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    name = f"guidebot_migrations_{uuid.uuid4().hex[:10]}"
    admin = postgres_or_skip(name)
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_dead_columns_go_and_come_back_on_postgresql(fresh_postgres: str) -> None:
    _round_trip(fresh_postgres)


def test_the_head_named_by_the_files_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_a_database_at_the_head_is_not_migrated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'head.db'}"
    migrate(url)
    calls: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda _config, revision: calls.append(revision))
    migrate(url)  # one query sees the head; Alembic is not asked
    assert calls == []
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    engine.dispose()
    migrate(url)  # behind the head: Alembic upgrades it
    assert calls == ["head"]
