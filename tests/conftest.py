"""Shared fixtures: databases (SQLite and PostgreSQL), settings, clock and app."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.dialogs import verdict
from bot.dialogs.store import DialogStore
from bot.storage.db import migrate
from tests.support.dashboard import seed_caseload
from tests.support.settings import full_forms_dialogs_dir, make_settings

POSTGRES_ADMIN_URL = os.environ.get("GUIDEBOT_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def postgres_or_skip(name: str) -> Engine:
    """Create the empty PostgreSQL database `name`; the admin engine, to drop it with.

    Mandatory in CI; elsewhere the PostgreSQL tests skip, saying why.
    """
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(message + " (mandatory in CI)")
        pytest.skip(message + " (set GUIDEBOT_TEST_POSTGRES_URL; mandatory in CI)")
    return admin


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"guidebot_test_{uuid.uuid4().hex[:10]}"
    admin = postgres_or_skip(name)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty PostgreSQL database of its own, not migrated (for tests of the migrations), dropped after."""
    name = f"guidebot_fresh_{uuid.uuid4().hex[:10]}"
    admin = postgres_or_skip(name)
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on both backends."""
    if request.param == "sqlite":
        path = tmp_path / "guidebot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only, for tests that are not about storage."""
    path = tmp_path / "guidebot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url)


@pytest.fixture(scope="session", autouse=True)
def _verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Records of dialog folders that passed the check (verdict.py) go to a folder of this run's own,
    so each run checks each set of files in full once."""
    saved = verdict.VERDICT_DIR
    verdict.VERDICT_DIR = tmp_path_factory.mktemp("verdicts")
    yield
    verdict.VERDICT_DIR = saved


@pytest.fixture(scope="session")
def shipped_dialogs() -> DialogStore:
    """The shipped dialog files with the full forms every week (tests/support/settings.py), loaded
    and checked once for the whole run."""
    return DialogStore(full_forms_dialogs_dir())


@pytest.fixture(scope="session")
def lighter_dialogs() -> DialogStore:
    """The shipped dialog files exactly as shipped, with the lighter weeks."""
    return DialogStore(DEFAULT_DIALOGS_DIR)


@pytest.fixture
def app(settings: Settings, clock: FakeClock, shipped_dialogs: DialogStore) -> Iterator[App]:
    application = build_app(settings, clock, run_migrations=False, dialogs=shipped_dialogs)
    yield application
    application.db.dispose()


@pytest.fixture
def any_db_app(database_url: str, clock: FakeClock, shipped_dialogs: DialogStore) -> Iterator[App]:
    """The app on SQLite and on PostgreSQL."""
    application = build_app(make_settings(database_url), clock, run_migrations=False, dialogs=shipped_dialogs)
    yield application
    application.db.dispose()


@pytest.fixture(scope="session")
def dashboard_template(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, shipped_dialogs: DialogStore
) -> tuple[Path, datetime]:
    """A SQLite file with the dashboard tests' caseload, made once, and the clock's time after it."""

    path = tmp_path_factory.mktemp("dashboard") / "caseload.db"
    shutil.copy(sqlite_template, path)
    clock = FakeClock()
    seed_caseload(f"sqlite:///{path}", clock, shipped_dialogs)
    return path, clock.now()


@pytest.fixture
def caseload_url(tmp_path: Path, dashboard_template: tuple[Path, datetime], clock: FakeClock) -> str:
    """SQLite with Kari's cases K-A (week 3, scores, homework) and K-B (an open alert), and Per's K-C."""
    template, now = dashboard_template
    path = tmp_path / "guidebot.db"
    shutil.copy(template, path)
    clock.set(now)
    return f"sqlite:///{path}"


CHROMIUM = "/usr/bin/chromium"


def _no_browser(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (the browser tests are mandatory in CI; .ci/run installs chromium)")
    pytest.skip(f"{reason}: the dashboard's browser tests need Debian's chromium (apt-get install chromium)")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium from Debian, driven by Playwright (no browser download)."""
    try:
        from playwright.async_api import async_playwright  # noqa: PLC0415 (optional: skip visibly without it)
    except ImportError:
        _no_browser("Playwright is not installed (pip install -e '.[dev]')")
    executable = shutil.which("chromium") or shutil.which(CHROMIUM)
    if executable is None:
        _no_browser(f"no chromium on the PATH or at {CHROMIUM}")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable)
        try:
            yield chromium
        finally:
            await chromium.close()
