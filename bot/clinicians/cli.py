"""`guidebot clinicians`, `guidebot escalation` and `guidebot report`."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.startup import fail, load_app, settings_or_exit
from bot.storage.db import transaction

clinicians_app = typer.Typer(help="Clinicians and admins.", no_args_is_help=True)
escalation_app = typer.Typer(help="Escalation rules.", no_args_is_help=True)

MAX_NAME = 60


# -- clinicians ------------------------------------------------------------------


@clinicians_app.command("add")
def clinicians_add(
    telegram_id: Annotated[int, typer.Option(help="The clinician's numeric Telegram user id.")],
    name: Annotated[str, typer.Option(help="How colleagues know the clinician, e.g. 'Kari N.'.")],
    admin: Annotated[bool, typer.Option("--admin", help="May invite clinicians; gets unacknowledged alerts.")] = False,
) -> None:
    """Register a clinician (or bring a removed one back)."""
    from sqlmodel import select

    from bot.engine.codes import audit
    from bot.storage.models import Clinician

    name = " ".join(name.split())
    if telegram_id <= 0:
        raise fail("guidebot: --telegram-id must be a positive number (a Telegram user id, not a group id)")
    if not name or len(name) > MAX_NAME:
        raise fail(f"guidebot: --name must be 1 to {MAX_NAME} characters")
    application = load_app(settings_or_exit())
    now = application.engine.clock.now()
    with transaction(application.db) as session:
        clinician = session.exec(select(Clinician).where(Clinician.telegram_id == telegram_id)).first()
        if clinician is not None and clinician.active:
            raise fail(f"guidebot: Telegram user {telegram_id} is already a clinician ({clinician.name})")
        if clinician is None:
            clinician = Clinician(telegram_id=telegram_id, name=name, created_at=now)
        clinician.name, clinician.is_admin, clinician.active = name, admin, True
        session.add(clinician)
        session.flush()
        audit(session, now, "cli", "clinician_added", None, clinician_id=clinician.id, admin=admin)
    typer.echo(f"Added {'admin' if admin else 'clinician'} {name} (Telegram id {telegram_id}).")


@clinicians_app.command("list")
def clinicians_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List clinicians and admins, removed ones too."""
    from sqlmodel import col, select

    from bot.storage.models import Clinician

    application = load_app(settings_or_exit())
    with transaction(application.db) as session:
        clinicians = session.exec(select(Clinician).order_by(col(Clinician.id))).all()
        rows = [
            {"telegram_id": c.telegram_id, "name": c.name, "admin": c.is_admin, "active": c.active} for c in clinicians
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No clinicians yet. Add one with: guidebot clinicians add --telegram-id ID --name NAME --admin")
    for row in rows:
        role = "admin" if row["admin"] else "clinician"
        typer.echo(f"{row['telegram_id']:<14}  {role:<9}  {'active' if row['active'] else 'removed':<7}  {row['name']}")


@clinicians_app.command("remove")
def clinicians_remove(
    telegram_id: Annotated[int, typer.Option(help="The clinician's numeric Telegram user id.")],
) -> None:
    """Remove a clinician: no more commands or alerts. Their cases stay with the team."""
    from sqlmodel import select

    from bot.engine.codes import audit
    from bot.storage.models import Clinician

    application = load_app(settings_or_exit())
    now = application.engine.clock.now()
    with transaction(application.db) as session:
        clinician = session.exec(select(Clinician).where(Clinician.telegram_id == telegram_id)).first()
        if clinician is None or not clinician.active:
            raise fail(f"guidebot: Telegram user {telegram_id} is not an active clinician")
        clinician.active = False
        audit(session, now, "cli", "clinician_removed", None, clinician_id=clinician.id)
        name = clinician.name
    typer.echo(f"Removed {name} (Telegram id {telegram_id}).")


# -- escalation ------------------------------------------------------------------


@escalation_app.command("test")
def escalation_test(
    texts: Annotated[
        list[str] | None, typer.Argument(help="Texts to try; read from stdin, one a line, if none.")
    ] = None,
    explain_matches: Annotated[
        bool, typer.Option("--explain", help="Add which rules matched, and why an exception kept one quiet.")
    ] = False,
    locale: Annotated[
        str | None,
        typer.Option(
            help="Kept for old scripts: every text is read with all languages' rules, as the bot does.", hidden=True
        ),
    ] = None,
) -> None:
    """Print what each text calls for, as one JSON line per text.

    "action" is "alert" (clinicians alerted, crisis contacts shown), "ask" (the bot
    asks the person directly first) or "none"; "signals" are those raised at once.
    """
    from bot.dialogs.load import DialogsInvalid, load_dialogs
    from bot.engine.signals import explain, scan

    if locale is not None and locale not in ("nb", "nn", "en"):
        raise fail("guidebot: --locale must be nb, nn or en")
    settings = settings_or_exit()
    if not settings.dialogs_dir.is_dir():
        raise fail(f"guidebot: GUIDEBOT_DIALOGS_DIR: no such directory: {settings.dialogs_dir}")
    try:
        dialogs = load_dialogs(settings.dialogs_dir)
    except DialogsInvalid as exc:
        raise fail(f"guidebot: the dialog files have problems:\n{exc}") from None
    if not texts and sys.stdin.isatty():
        raise fail("guidebot: give texts as arguments, or one a line on stdin")
    lines = texts or [line.rstrip("\r\n") for line in sys.stdin]
    for text in lines:
        if not text.strip():
            continue
        result = scan(dialogs.escalation, text)
        row: dict[str, object] = {
            "text": text,
            "action": result.action,
            "signals": [{"signal": h.signal, "level": h.level, "evidence": h.evidence} for h in result.hits],
        }
        if result.action == "ask":
            row["asked"] = result.asked
        if explain_matches:
            row["explain"] = explain(dialogs.escalation, text)
        typer.echo(json.dumps(row, ensure_ascii=False))


# -- report ------------------------------------------------------------------------


def report(
    since: Annotated[str | None, typer.Option(help="Only courses started on or after this date (YYYY-MM-DD).")] = None,
    program: Annotated[str | None, typer.Option(help="Only this program, e.g. depression.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the figures to this CSV file.")] = None,
    png_file: Annotated[
        Path | None, typer.Option("--png", help="Also draw the outcome rates to this PNG file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    include_demo: Annotated[
        bool, typer.Option("--include-demo", help="Count the demo program's courses too (left out by default).")
    ] = False,
    locale: Annotated[
        str | None, typer.Option(help="The language of the table and chart, e.g. en (default: GUIDEBOT_LOCALE).")
    ] = None,
) -> None:
    """Service outcomes per program and per clinician: started, finished, dropped out, change, recovery,
    time to acknowledge."""
    from bot.clinicians.report import ReportWords, is_clinician_row, outcome_rows
    from bot.clinicians.report_chart import report_chart
    from bot.clinicians.report_table import report_table
    from bot.engine.codes import audit

    settings = settings_or_exit()
    start: datetime | None = None
    if since is not None:
        try:
            start = datetime.combine(date.fromisoformat(since), time(0), settings.tz)
        except ValueError:
            raise fail(f"guidebot: --since must be a date like 2026-01-31, not '{since}'") from None
    application = load_app(settings)
    current = application.dialogs.current
    programs = current.dialogs.programs
    if program is not None and program not in programs:
        raise fail(f"guidebot: unknown program '{program}' (known: {', '.join(sorted(programs))})")
    locales = current.dialogs.locales
    if locale is not None and locale not in locales:
        raise fail(f"guidebot: unknown locale '{locale}' (known: {', '.join(locales)})")
    words = ReportWords(current.dialogs, current.renderer, locale or settings.locale)
    with transaction(application.db) as session:
        rows = outcome_rows(
            session,
            application.dialogs.current.dialogs,
            since=start,
            program=program,
            include_demo=include_demo,
            by_clinician=True,
        )
        audit(
            session,
            application.engine.clock.now(),
            "cli",
            "report_exported",
            None,
            program=program,
            since=since,
            csv=csv_file is not None,
            png=png_file is not None,
        )
    try:
        if csv_file is not None:
            _write_csv(csv_file, rows)
        if png_file is not None:
            png_file.write_bytes(report_chart([row for row in rows if not is_clinician_row(row)], words))
    except OSError as exc:
        raise fail(f"guidebot: cannot write {exc.filename}: {exc.strerror}") from None
    if as_json:
        typer.echo(json.dumps(rows))
    else:
        typer.echo(report_table(rows, words, since))


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    from bot.clinicians.report import csv_fields

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=csv_fields(rows))
        writer.writeheader()
        writer.writerows(rows)
