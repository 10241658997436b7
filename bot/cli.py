"""The `guidebot` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import ArgumentError, DBAPIError
from typer.core import TyperGroup

from bot.clinicians.cli import clinicians_app, escalation_app, report
from bot.clock import FakeClock, SystemClock
from bot.collector import started
from bot.config import Settings
from bot.ops.cli import audit_app, db_backup, db_restore, db_retention, privacy_app
from bot.ops.logs import configure_logging
from bot.startup import check_database, database_failed, fail, load_app, open_database, settings_or_exit
from bot.storage.db import migrate, transaction

# Each command imports what it alone needs, inside it: `guidebot cases` should not pay for the
# Telegram stack, the dialogs, the ORM or the engine (`python -X importtime -m bot.cli`).

DEFAULT_DATABASE_URL = str(Settings.model_fields["database_url"].default)


def database_line(url: str) -> str:
    """Which database a command uses: the SQLite file's full path for a default or SQLite URL."""
    if url.startswith("sqlite"):
        name = url.split(":///", 1)[-1]
        return f"Database: the SQLite file {Path(name).resolve()}"
    return "Database: GUIDEBOT_DATABASE_URL (not SQLite)"


# Commands that read the dialog files only, never the database.
OFFLINE = ("dialogs", "escalation")


class Guarded(TyperGroup):
    """Every command starts here, so a bad setting is one line naming it, never a traceback.

    Before the command runs, the settings are read (an unknown GUIDEBOT_TIMEZONE, a bad
    GUIDEBOT_LOCALE...) and the database is checked (a GUIDEBOT_DATABASE_URL that is not a URL,
    a SQLite folder that does not exist, a PostgreSQL server that does not answer). A database
    error that still comes up while the command runs is turned into the same one line.
    """

    def invoke(self, ctx: Any) -> Any:  # Any: the Context class is typer's vendored click
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if words and words[0] not in OFFLINE and not {"--help", "-h"} & set(words):
            check_database(settings_or_exit())
        if words[:1] != ["run"]:
            started()  # `guidebot run` resumes the collector once it is ready (bot/collector.py)
        try:
            return super().invoke(ctx)
        except (ArgumentError, DBAPIError) as exc:
            raise database_failed(settings_or_exit(), exc) from None


app = typer.Typer(
    cls=Guarded,
    help="guidebot: guided self-help courses over Telegram.\n\n"
    f"With the default GUIDEBOT_DATABASE_URL ({DEFAULT_DATABASE_URL}) the database is the file "
    "guidebot.db in the folder guidebot is run from; 'guidebot chat' prints its full path first.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
codes_app = typer.Typer(help="Access codes.", no_args_is_help=True)
dialogs_app = typer.Typer(help="Dialog files: check and draw them.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(codes_app, name="codes")
app.add_typer(dialogs_app, name="dialogs")
app.add_typer(db_app, name="db")
app.add_typer(clinicians_app, name="clinicians")
app.add_typer(escalation_app, name="escalation")
app.command()(report)
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
db_app.command("backup")(db_backup)
db_app.command("restore")(db_restore)
db_app.command("retention")(db_retention)


# -- running -------------------------------------------------------------------


ROLES = ("all", "receive", "send")


@app.command()
def run(
    role: Annotated[
        str,
        typer.Option(
            help="all: one process does everything. To use a second core, run one 'receive' process "
            "(updates, engine, schedule) and one 'send' process (the outbox) on the same database."
        ),
    ] = "all",
) -> None:
    """Start the Telegram bot (or the terminal chat when no token is set)."""
    from bot.channels.telegram.runner import run_bot

    if role not in ROLES:
        raise fail(f"guidebot: --role must be one of {', '.join(ROLES)}, not '{role}'")
    settings = settings_or_exit()
    if not settings.telegram_token:
        _chat(settings, None, first="No GUIDEBOT_TELEGRAM_TOKEN is set, so here is the course in the terminal instead.")
        return
    configure_logging(settings)
    run_bot(settings, role)


@app.command()
def chat(
    code: Annotated[str | None, typer.Option(help="An access code; a demo code is made if left out.")] = None,
    clock: Annotated[
        bool,
        typer.Option(
            "--clock",
            help="Let time be moved: type /wait 3d, /wait 2h or /wait 30m, and what falls due "
            "(check-ins, reminders, missed weeks, dropout) happens. For previewing a whole course.",
        ),
    ] = False,
) -> None:
    """Take a course in the terminal, on the same engine and database."""
    _chat(settings_or_exit(), code, clock=clock)


def _chat(settings: Settings, code: str | None, *, clock: bool = False, first: str | None = None) -> None:
    started()
    from bot.channels.console import ConsoleChat

    fake = FakeClock(SystemClock().now()) if clock else None
    application = load_app(settings, fake)  # a bad setting stops here, in one line, before anything is printed
    if first is not None:
        typer.echo(first)
    typer.echo(database_line(settings.database_url))
    console = ConsoleChat(application, clock=fake)
    running = console.running_course()
    if code is not None and running is not None:
        raise fail(
            f"guidebot: course {running} is still running in the terminal chat, so --code was not used. "
            "Type /delete in 'guidebot chat' to end it first, or use another database (GUIDEBOT_DATABASE_URL)."
        )
    if code is None:
        code = console.make_demo_code()
        typer.echo(f"Demo code for the demo program: {code}")
    typer.echo("Answer by typing; pick a button by its number. /help lists commands. Ctrl-D to stop.")
    if fake is not None:
        typer.echo("The clock is yours: /wait 3d, /wait 2h or /wait 30m moves time, and what falls due happens.")
    console.send(f"/start {code}")
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if line.strip():
            console.send(line)


# -- codes and cases -----------------------------------------------------------


@codes_app.command("new")
def codes_new(
    program: Annotated[str, typer.Option(help="The program id, e.g. depression.")],
    label: Annotated[str | None, typer.Option(help="The case label; made up if left out.")] = None,
    owner: Annotated[
        int | None, typer.Option(help="The owning clinician's Telegram id (a registered clinician).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make a single-use access code, owned by a clinician if --owner is given."""
    from sqlmodel import col, select

    from bot.engine.codes import issue_code
    from bot.links import deep_link
    from bot.storage.models import Clinician

    settings = settings_or_exit()
    application = load_app(settings)
    if program not in application.dialogs.current.dialogs.programs:
        known = ", ".join(sorted(application.dialogs.current.dialogs.programs))
        raise fail(f"guidebot: unknown program '{program}' (known: {known})")
    try:
        with transaction(application.db) as session:
            owner_id: int | None = None
            if owner is not None:
                found = session.exec(
                    select(Clinician).where(Clinician.telegram_id == owner, col(Clinician.active))
                ).first()
                if found is None:
                    raise fail(f"guidebot: no active clinician has the Telegram id {owner}")
                owner_id = found.id
            issued = issue_code(
                session,
                application.engine.clock.now(),
                program=program,
                label=label,
                ttl_days=settings.code_ttl_days,
                clinician_id=owner_id,
                pepper_key=settings.secret_key,
            )
    except ValueError as exc:
        raise fail(f"guidebot: {exc}") from None
    link = deep_link(settings, issued.code)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "code": issued.code,
                    "label": issued.label,
                    "program": issued.program,
                    "expires_at": issued.expires_at.isoformat(),
                    "link": link,
                }
            )
        )
    else:
        typer.echo(
            f"Code: {issued.code}\nLabel: {issued.label}\nProgram: {issued.program}\n"
            f"Expires: {issued.expires_at:%Y-%m-%d}" + (f"\nLink: {link}" if link else "")
        )


@app.command()
def cases(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    include_demo: Annotated[
        bool, typer.Option("--include-demo", help="List the demo program's courses too (left out by default).")
    ] = False,
) -> None:
    """List every course with its state and latest scores."""
    from bot.clinicians.case_list import case_json, case_rows

    db = open_database(settings_or_exit())  # the dialogs are not needed to list courses
    with db.connect() as connection:  # rows written as they are read (100,000 courses)
        if as_json:
            _json_list(case_json(connection, include_demo=include_demo))
            return
        _case_lines(case_rows(connection, include_demo=include_demo))


def _json_list(rows: Iterator[str]) -> None:
    """A JSON list of the rows' JSON texts, as `json.dumps` writes a list, 2,000 rows at a write."""
    out = sys.stdout
    out.write("[")
    written = False
    while chunk := list(islice(rows, 2000)):
        out.write((", " if written else "") + ", ".join(chunk))
        written = True
    out.write("]\n")


def _case_lines(rows: Iterator[dict[str, Any]]) -> None:
    empty = True
    for row in rows:
        empty = False
        typer.echo(
            f"{row['label']:<10} {row['program']:<11} {row['state']:<12} week {row['week']}  "
            f"PHQ-9 {row['phq9'] if row['phq9'] is not None else '-':>2}  "
            f"GAD-7 {row['gad7'] if row['gad7'] is not None else '-':>2}  "
            f"next {row['next_checkin'] or '-'}"
        )
    if empty:
        typer.echo("No courses yet.")


# -- dialogs -------------------------------------------------------------------


@dialogs_app.command("check")
def dialogs_check(
    directory: Annotated[Path | None, typer.Argument(help="Defaults to GUIDEBOT_DIALOGS_DIR.")] = None,
) -> None:
    """Validate every dialog file; exit non-zero naming file, line and problem."""
    from bot.dialogs.load import DialogsInvalid, load_dialogs
    from bot.dialogs.locales import incomplete_locales

    root = directory or _dialogs_dir()
    try:
        dialogs = load_dialogs(root, remember=True)  # always the full check; a pass spares the next start it
    except DialogsInvalid as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        for line in incomplete_locales(exc.problems):
            typer.echo(line, err=True)
        raise fail(f"{len(exc.problems)} problem(s) found in {root}") from None
    typer.echo(
        f"OK: {len(dialogs.flows)} flows, {len(dialogs.programs)} programs, "
        f"{len(dialogs.instruments)} instruments, {sum(len(t) for t in dialogs.texts.values())} texts "
        f"in {len(dialogs.locales)} locales ({', '.join(dialogs.locales)}) in {root}"
    )


@dialogs_app.command("graph")
def dialogs_graph(
    directory: Annotated[Path | None, typer.Argument(help="Defaults to GUIDEBOT_DIALOGS_DIR.")] = None,
) -> None:
    """Print the life cycle and the flows as Mermaid diagrams."""
    from bot.dialogs.graph import flows_mermaid
    from bot.dialogs.load import DialogsInvalid, load_dialogs
    from state_machines.course import mermaid

    root = directory or _dialogs_dir()
    try:
        dialogs = load_dialogs(root)
    except DialogsInvalid as exc:
        raise fail(str(exc)) from None
    typer.echo(mermaid())
    typer.echo(flows_mermaid(dialogs))


def _dialogs_dir() -> Path:
    """GUIDEBOT_DIALOGS_DIR, or one line saying it does not exist."""
    folder = settings_or_exit().dialogs_dir
    if not folder.is_dir():
        raise fail(f"guidebot: GUIDEBOT_DIALOGS_DIR: no such directory: {folder}")
    return folder


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the database schema up to date."""
    settings = settings_or_exit()
    try:
        migrate(settings.database_url)
    except (ArgumentError, DBAPIError, OSError) as exc:
        raise database_failed(settings, exc) from None
    typer.echo("Database is up to date.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
