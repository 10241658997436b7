"""The operators' commands: `guidebot db backup|restore|retention`, `guidebot audit export`,
`guidebot privacy inventory`."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from bot.clock import SystemClock
from bot.config import Settings
from bot.startup import fail, settings_or_exit
from bot.storage.db import make_engine, migrate, transaction

audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
privacy_app = typer.Typer(help="What is stored, and for how long.", no_args_is_help=True)


def db_backup(file: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")]) -> None:
    """Write a consistent copy of the database, also while the bot runs."""
    from bot.ops.backup import BackupProblem, backup

    settings = settings_or_exit()
    try:
        backup(settings.database_url, file)
    except BackupProblem as exc:
        raise fail(f"guidebot: backup not made: {exc}") from None
    typer.echo(f"Backup written to {file}.")


def db_restore(file: Annotated[Path, typer.Argument(help="A file made by 'guidebot db backup'.")]) -> None:
    """Load a backup into the empty database in GUIDEBOT_DATABASE_URL."""
    from bot.ops.backup import BackupProblem, restore

    settings = settings_or_exit()
    try:
        restore(settings.database_url, file)
    except BackupProblem as exc:
        raise fail(f"guidebot: not restored: {exc}") from None
    typer.echo(f"Restored {file}; the schema is up to date.")


def db_retention() -> None:
    """Clear old message text and anonymise long-closed courses now (the bot also does it as it runs)."""
    from bot.ops.retention import RetentionDone, apply_retention

    settings = _settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    total = RetentionDone()
    try:
        while True:
            with transaction(engine) as session:
                done = apply_retention(session, SystemClock().now(), settings)
            total.add(done)
            if not done.total():
                break
    finally:
        engine.dispose()
    typer.echo(
        f"Outbox texts cleared: {total.outbox_cleared}, outbox rows deleted: {total.outbox_deleted}, "
        f"courses anonymised: {total.courses_anonymised}, alerts cleared: {total.alerts_cleared}, "
        f"unused codes deleted: {total.codes_deleted}, code attempts deleted: {total.code_attempts_deleted}."
    )


@audit_app.command("export")
def audit_export(
    since: Annotated[str | None, typer.Option(help="Only lines on or after this date (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line (the default).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
) -> None:
    """Print the audit log, oldest first: who did what, when. It never holds message text."""
    from bot.engine.codes import audit
    from bot.ops.audit_export import audit_lines, write_csv, write_json_lines

    if as_json and as_csv:
        raise fail("guidebot: choose one of --json and --csv")
    settings = _settings()
    start: datetime | None = None
    if since is not None:
        try:
            start = datetime.combine(date.fromisoformat(since), time(0), settings.tz)
        except ValueError:
            raise fail(f"guidebot: --since must be a date like 2026-01-31, not '{since}'") from None
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            write = write_csv if as_csv else write_json_lines
            count = write(audit_lines(session, start), sys.stdout)
        with transaction(engine) as session:
            audit(session, SystemClock().now(), "cli", "audit_exported", None, since=since, lines=count)
    finally:
        engine.dispose()


@audit_app.command("views")
def audit_views(
    label: Annotated[str, typer.Argument(help="The case label, for example K-1234.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Who looked at a case: every view of it (Telegram or the dashboard), oldest first."""
    from bot.engine.codes import audit
    from bot.ops.audit_views import as_json as view_json
    from bot.ops.audit_views import case_views

    settings = _settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            views = case_views(session, label)
            for view in views:
                if as_json:
                    typer.echo(json.dumps(view_json(view), ensure_ascii=False))
                else:
                    when = view["when"].astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
                    who = view["name"] or view["actor"]
                    refused = "  refused" if view["refused"] else ""
                    typer.echo(f"{when}  {view['label']}  {who}  {view['where']}{refused}")
            if not views and not as_json:
                typer.echo(f"Nobody has opened case {label}.")
            audit(session, SystemClock().now(), "cli", "views_listed", label, count=len(views))
    finally:
        engine.dispose()


@privacy_app.command("inventory")
def privacy_inventory(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """What is stored, where, why, for how long and who receives it, for the DPIA."""
    from bot.ops.inventory import build_inventory, render_text

    inventory = build_inventory(_settings())
    if as_json:
        typer.echo(json.dumps(inventory.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(inventory))
    if inventory.problems:
        raise fail(f"guidebot: {len(inventory.problems)} problem(s): docs/data-inventory.yaml is behind the code")


def _settings() -> Settings:

    return settings_or_exit()
