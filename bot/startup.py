"""Starting a command: the settings and the app, or one line that says what to fix.

`guidebot` (bot/cli.py), its clinician commands (bot/clinicians/cli.py) and the
Telegram runner all start this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from bot.config import Settings
from bot.storage.db import make_engine, migrate

if TYPE_CHECKING:  # the app is imported where it is built: `guidebot cases` does without it
    from bot.app import App
    from bot.clock import Clock


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"GUIDEBOT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise fail(f"guidebot: bad setting: {problems}") from None


def load_app(settings: Settings, clock: Clock | None = None) -> App:
    from bot.app import build_app  # noqa: PLC0415 (the dialogs and the engine: only commands that use them)
    from bot.dialogs.load import DialogsInvalid  # noqa: PLC0415 (as above)

    _require_dialogs_dir(settings)
    try:
        return build_app(settings, clock)
    except DialogsInvalid as exc:
        raise fail(f"guidebot: the dialog files have problems, so nothing was started:\n{exc}") from None
    except (ArgumentError, DBAPIError, OSError) as exc:
        raise database_failed(settings, exc) from None


def open_database(settings: Settings) -> Engine:
    """The database alone, migrated, for a command that only reads it, without the dialogs
    (`guidebot cases`); the dialogs folder is still checked, as every command that uses it does."""
    _require_dialogs_dir(settings)
    try:
        migrate(settings.database_url)
        return make_engine(settings.database_url, reader=True)
    except (ArgumentError, DBAPIError, OSError) as exc:
        raise database_failed(settings, exc) from None


def _require_dialogs_dir(settings: Settings) -> None:
    if not settings.dialogs_dir.is_dir():
        raise fail(f"guidebot: GUIDEBOT_DIALOGS_DIR: no such directory: {settings.dialogs_dir}")


def database_failed(settings: Settings, exc: Exception) -> typer.Exit:
    """One line naming GUIDEBOT_DATABASE_URL for a database that cannot be opened; never a traceback."""
    url = settings.database_url
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = url
    if isinstance(exc, ArgumentError):
        why = "not a database URL (e.g. sqlite:///guidebot.db or postgresql+psycopg://user@host/db)"
    elif url.startswith("sqlite") and not _sqlite_folder_exists(url):
        why = "the folder for the SQLite file does not exist"
    else:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        why = f"cannot open the database ({first[0] if first else type(exc).__name__})"
    return fail(f"guidebot: GUIDEBOT_DATABASE_URL={shown}: {why}")


def check_database(settings: Settings) -> None:
    """Stop in one line naming GUIDEBOT_DATABASE_URL when the database cannot be used: not a
    URL, a SQLite file in a folder that does not exist, or a server that does not answer. A
    SQLite file is not made here (the command that needs it makes it)."""
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise database_failed(settings, exc) from None
    if url.get_backend_name() == "sqlite":
        if not _sqlite_folder_exists(settings.database_url):
            raise database_failed(settings, OSError("no such folder"))
        return
    timeout = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=timeout)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except (ArgumentError, DBAPIError, OSError) as exc:
        raise database_failed(settings, exc) from None


def _sqlite_folder_exists(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:" or Path(database).parent.is_dir()
