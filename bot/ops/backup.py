"""`guidebot db backup FILE` and `guidebot db restore FILE`.

- SQLite: SQLite's online backup API copies the database page by page into FILE, a
  consistent snapshot even while the bot writes (WAL). FILE is itself a SQLite database.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot in one transaction);
  restored with `pg_restore`. The password, if the URL has one, goes to the tools in
  PGPASSWORD, never on their command line.

A restore goes only into an empty database (no tables), so it can never mix two
databases or overwrite a live one; then the schema is brought up to date, so a backup
from an older version restores into a newer one.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from bot.storage.db import make_engine, migrate

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupProblem(Exception):
    """What went wrong, in one line for the operator."""


def backup(database_url: str, target: Path) -> None:
    if target.exists():
        raise BackupProblem(f"{target} exists already; choose a new file name")
    if database_url.startswith("sqlite"):
        _sqlite_backup(_sqlite_path(database_url), target)
    else:
        _pg_dump(database_url, target)


def restore(database_url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupProblem(f"{source} is not a file")
    with source.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    sqlite_target = database_url.startswith("sqlite")
    if sqlite_target and not head.startswith(SQLITE_MAGIC):
        raise BackupProblem(f"{source} is not a SQLite backup, and GUIDEBOT_DATABASE_URL is a SQLite database")
    if not sqlite_target and not head.startswith(PG_MAGIC):
        raise BackupProblem(f"{source} is not a pg_dump backup, and GUIDEBOT_DATABASE_URL is a PostgreSQL database")
    if sqlite_target:
        _check_sqlite_backup(source)
    _refuse_unless_empty(database_url)
    if sqlite_target:
        _sqlite_backup(source, _sqlite_path(database_url))
    else:
        _pg_restore(database_url, source)
    migrate(database_url)


def _refuse_unless_empty(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupProblem(
            f"the database in GUIDEBOT_DATABASE_URL is not empty ({len(tables)} tables); "
            "restore only into a new, empty database"
        )


# -- SQLite ------------------------------------------------------------------------


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupProblem("GUIDEBOT_DATABASE_URL names no SQLite file")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupProblem(f"there is no database at {source}")
    reader = sqlite3.connect(source, timeout=30)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer, pages=1024)
        finally:
            writer.close()
    finally:
        reader.close()


def _check_sqlite_backup(source: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        reader.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        raise BackupProblem(f"{source} is a SQLite file, but not a guidebot backup") from None
    finally:
        reader.close()


# -- PostgreSQL --------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupProblem(
            f"{name} is not installed; install the PostgreSQL client tools (Debian: apt-get install postgresql-client)"
        )
    return path


def _libpq(database_url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools, and the environment with the password."""
    url: URL = make_url(database_url)
    options = [f"--dbname={url.database or ''}"]
    if url.host:
        options.append(f"--host={url.host}")
    if url.port:
        options.append(f"--port={url.port}")
    if url.username:
        options.append(f"--username={url.username}")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return options, env


def _pg_dump(database_url: str, target: Path) -> None:
    options, env = _libpq(database_url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", *options], env, "pg_dump")


def _pg_restore(database_url: str, source: Path) -> None:
    options, env = _libpq(database_url)
    _run([_tool("pg_restore"), "--no-owner", "--exit-on-error", *options, str(source)], env, "pg_restore")


def _run(command: list[str], env: dict[str, str], name: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupProblem(f"{name} failed: {lines[-1] if lines else f'exit {result.returncode}'}")
