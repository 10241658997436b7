"""`guidebot db backup` and `guidebot db restore`: a round trip, taken while the database is in use."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.storage.db import migrate, transaction
from bot.storage.models import AccessCode, Answer, Course
from tests.conftest import POSTGRES_ADMIN_URL
from tests.support.cli import guidebot, use_database
from tests.support.clinician import Colleague
from tests.support.participant import do_intake
from tests.support.settings import make_settings


def a_course(database_url: str, clock: FakeClock, dialogs: DialogStore) -> App:
    app = build_app(make_settings(database_url), clock, run_migrations=False, dialogs=dialogs)
    user = Colleague(app, 501).enrol(3001, "K-3001")
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    return app


def snapshot(database_url: str) -> tuple[list[tuple[str, str]], list[object], list[str]]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with transaction(engine) as session:
            return (
                [(c.label, c.state) for c in session.exec(select(Course)).all()],
                [a.value for a in session.exec(select(Answer).order_by(col(Answer.id))).all()],
                [c.label for c in session.exec(select(AccessCode)).all()],
            )
    finally:
        engine.dispose()


def round_trip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str, target: str, file: Path) -> None:
    use_database(monkeypatch, tmp_path, source)
    made = guidebot("db", "backup", str(file))
    assert made.exit_code == 0, made.output
    assert guidebot("db", "backup", str(file)).output.startswith("guidebot: backup not made:"), "never overwrites"

    use_database(monkeypatch, tmp_path, target)
    restored = guidebot("db", "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert snapshot(target) == snapshot(source)

    again = guidebot("db", "restore", str(file))
    assert again.exit_code == 1
    assert again.output.startswith("guidebot: not restored: the database in GUIDEBOT_DATABASE_URL is not empty")
    assert len(again.output.strip().splitlines()) == 1


def test_sqlite_backup_while_a_write_is_under_way_and_restore(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    app = a_course(sqlite_url, clock, shipped_dialogs)
    try:
        with app.db.connect() as writer:  # the bot in the middle of a transaction: not in the backup
            writer.execute(text("UPDATE course SET label = 'K-HALF'"))
            round_trip(monkeypatch, tmp_path, sqlite_url, f"sqlite:///{tmp_path}/restored.db", tmp_path / "b.db")
            writer.rollback()
    finally:
        app.db.dispose()
    assert snapshot(f"sqlite:///{tmp_path}/restored.db")[0] == [("K-3001", "active")]


def test_restore_refuses_what_is_not_a_backup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_database(monkeypatch, tmp_path, f"sqlite:///{tmp_path}/new.db")
    (tmp_path / "notes.txt").write_text("hei", encoding="utf-8")
    result = guidebot("db", "restore", str(tmp_path / "notes.txt"))
    assert result.exit_code == 1 and "is not a SQLite backup" in result.output
    other = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{other}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x)"))
    engine.dispose()
    result = guidebot("db", "restore", str(other))
    assert result.exit_code == 1 and "not a guidebot backup" in result.output
    assert not (tmp_path / "new.db").exists() or snapshot(f"sqlite:///{tmp_path}/new.db") == ([], [], [])


@pytest.fixture
def two_postgres_databases() -> Iterator[tuple[str, str]]:
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not installed here (Debian: postgresql-client)")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = [f"guidebot_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_backup_and_restore_with_pg_dump(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    two_postgres_databases: tuple[str, str],
    clock: FakeClock,
    shipped_dialogs: DialogStore,
) -> None:
    source, target = two_postgres_databases
    migrate(source)
    app = a_course(source, clock, shipped_dialogs)
    app.db.dispose()
    round_trip(monkeypatch, tmp_path, source, target, tmp_path / "guidebot.pgdump")


def test_without_pg_dump_it_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, two_postgres_databases: tuple[str, str]
) -> None:
    use_database(monkeypatch, tmp_path, two_postgres_databases[0])
    monkeypatch.setenv("PATH", str(tmp_path))
    result = guidebot("db", "backup", str(tmp_path / "b.pgdump"))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "guidebot: backup not made: pg_dump is not installed; install the PostgreSQL client tools "
        "(Debian: apt-get install postgresql-client)"
    )
