"""Large caseloads: 100,000 courses on SQLite and on PostgreSQL (issue 11).

Builds a database of COURSES made-up courses: a spread of states and weeks, each week's
scores (PHQ-9 and GAD-7 in weeks 1, 4 and 8, PHQ-2 and GAD-2 in between, some incomplete),
the answers a check-in stores (ten a week, homework among them) and the intake's, and an
alert for one course in twenty (half of them acknowledged; a tenth of the open ones with a
re-send coming up). Check-ins are due over the coming week, a few are overdue, and closed
courses keep an old due time. Courses, codes and alerts go in with Core executemany, scores
and answers through the driver (executemany on SQLite, COPY on PostgreSQL); then ANALYZE.
SQLite is a temporary file; PostgreSQL a database created for the run and dropped after it
(GUIDEBOT_TEST_POSTGRES_URL, as the tests).

Measured, each in a subprocess of its own:
- `guidebot cases --json`: wall time, and the peak RSS of that process
  (resource.getrusage(RUSAGE_CHILDREN) in a wrapper that runs only it); the rows are counted;
- the scheduler's due-scan (`bot.scheduler.due_events`, each in its own transaction):
  the median of 20, after one to warm up;
- `guidebot run` start-up: from starting the process to the first 200 from /readyz
  (GUIDEBOT_METRICS_LISTEN), against the fake Bot API server from tests/fakes; the median of 3.

Both trees are byte-compiled first (`compileall`), as the README's and docs/operations.md's
install does: where PYTHONDONTWRITEBYTECODE is set, a start would otherwise compile guidebot's
modules again each time.

`--baseline REF` first measures the code of that git commit (`git archive`) on the same
database, downgraded to migration 0008 (that code's head; the new indexes go), then
upgrades it again and measures this tree; on SQLite the two `cases --json` outputs are
compared byte for byte.

Usage: .venv/bin/python -m bench.caseload [--courses 100000] [--backend sqlite|postgresql|both]
           [--baseline 8fa677b]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from alembic import command  # noqa: TID253 (the bench downgrades and upgrades)
from sqlalchemy import create_engine, insert, text

from bench.telegram_throughput import BenchServer
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs import contract
from bot.storage.db import alembic_config, make_engine, migrate
from bot.storage.models import AccessCode, Alert, Course

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("GUIDEBOT_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
TEAM = -1001
BATCH = 2000

# -- the database ----------------------------------------------------------------------

STATES = [
    ("active", 45),
    ("checkin", 8),
    ("intake", 7),
    ("closing", 2),
    ("completed", 15),
    ("paused", 3),
    ("dropped_out", 4),
    ("dropout_eval", 1),
    ("closed", 15),
]
CHECKIN_KEYS = [
    contract.WEEK_GOALS,
    contract.HOMEWORK_DONE,
    contract.HOMEWORK_WHAT,
    contract.HOMEWORK_TIMES,
    contract.HOMEWORK_RELEVANT,
    contract.HOMEWORK_USEFUL,
    contract.HOMEWORK_HARD,
    contract.HOMEWORK_OWN,
    contract.HOMEWORK_MANAGED,
    contract.WANTS_CALL,
]
INTAKE_KEYS = ["age", "impact", contract.GOALS, contract.CHECKIN_DAY, contract.CHECKIN_TIME, "consent"]
PHRASES = ["gå tur hver dag", "sove bedre", "ringe en venn", "litt", "ja", "det gikk fint", "vanskelig denne uka"]
FULL_WEEKS = {1, 4, 8}


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([s for s, _ in weighted], weights=[w for _, w in weighted])[0]


def _course_rows(n: int, now: datetime, rng: random.Random) -> dict[str, Any]:
    state = _pick(rng, STATES)
    week = 1 if state == "intake" else rng.randint(1, 8)
    started = now - timedelta(days=7 * week + rng.randint(0, 6))
    due_at: datetime | None = None
    due_kind: str | None = None
    if state in ("active", "checkin", "closing", "intake"):
        overdue = rng.random() < 0.002  # a hundred or two due at the scan
        due_at = (
            now - timedelta(minutes=rng.randint(1, 120))
            if overdue
            else now + timedelta(minutes=rng.randint(1, 7 * 1440))
        )
        due_kind = "checkin" if state == "active" else "reminder"
    elif state == "completed" and rng.random() < 0.5:
        due_at, due_kind = now + timedelta(days=rng.randint(1, 60)), "booster"
    elif state in ("closed", "dropped_out"):
        due_at, due_kind = started + timedelta(days=7 * week), "checkin"  # left over from before
    idle = rng.randint(60, 400) if state == "closed" else rng.randint(0, 25)
    return Course(
        label=f"B-{n:06d}",
        program="depression" if n % 3 else "anxiety",
        chat_id=9_000_000 + n,
        clinician_id=None,
        locale="nb",
        timezone="Europe/Oslo",
        state=state,
        week=week,
        checkin_weekday=n % 7,
        checkin_time="18:30",
        due_at=due_at,
        due_kind=due_kind,
        started_at=started,
        last_activity_at=now - timedelta(days=idle, minutes=rng.randint(0, 1440)),
        last_checkin_at=started + timedelta(days=7 * (week - 1)) if week > 1 else None,
        finished_at=started + timedelta(days=60) if state == "completed" else None,
        scratch={},
    ).model_dump(exclude={"id"})


def _children(
    course_id: int, course: dict[str, Any], now: datetime, rng: random.Random
) -> tuple[list[Any], list[Any], list[Any]]:
    """The course's scores and answers as rows for BULK, and its alerts as Core rows."""
    scores: list[tuple[Any, ...]] = []
    answers: list[tuple[Any, ...]] = []
    alerts: list[dict[str, Any]] = []
    started: datetime = course["started_at"]
    weeks = 0 if course["state"] == "intake" else course["week"]
    for key in INTAKE_KEYS:
        answers.append(_answer(course_id, 1, "intake", key, rng.choice(PHRASES), started))
    for week in range(1, weeks + 1):
        at = started + timedelta(days=7 * (week - 1))
        full = week in FULL_WEEKS
        for instrument, items in (
            ("phq9" if full else "phq2", 9 if full else 2),
            ("gad7" if full else "gad2", 7 if full else 2),
        ):
            values = {f"q{i}": rng.randint(0, 3) for i in range(1, items + 1)}
            complete = rng.random() > 0.03
            total = sum(values.values()) if complete else None
            scores.append((course_id, week, instrument, total, None, json.dumps(values), at))
        if week > 1:
            for key in CHECKIN_KEYS:
                value = rng.choice(["yes", "partly", "no"]) if key == contract.HOMEWORK_DONE else rng.choice(PHRASES)
                answers.append(_answer(course_id, week, "checkin", key, value, at))
    if rng.random() < 0.05:
        acknowledged = rng.random() < 0.5
        created = started + timedelta(days=rng.randint(0, 7 * max(weeks, 1)))
        alerts.append(
            Alert(
                course_id=course_id,
                label=course["label"],
                signal="self_harm",
                level=rng.choice(["urgent", "high", "moderate"]),
                evidence=[],
                week=max(weeks, 1),
                created_at=created,
                updated_at=created,
                acknowledged_at=created + timedelta(minutes=rng.randint(5, 300)) if acknowledged else None,
                acknowledged_by=None,
                resend_count=0,
                # re-sent until acknowledged: a few open ones have their next re-send coming up
                next_resend_at=now + timedelta(minutes=rng.randint(-5, 120))
                if not acknowledged and rng.random() < 0.1
                else None,
                admins_notified=False,
                messages=[],
            ).model_dump(exclude={"id"})
        )
    return scores, answers, alerts


def _answer(course_id: int, week: int, flow: str, key: str, value: str, at: datetime) -> tuple[Any, ...]:
    return (course_id, week, flow, key, json.dumps(value), at)


# The two big tables go in through the driver (executemany on SQLite, COPY on PostgreSQL):
# 100,000 courses have about four million answers. Times are naive UTC, as UTCDateTime stores them.
BULK = {
    "score": ("course_id", "week", "instrument", "total", "band", "items", "created_at"),
    "answer": ("course_id", "week", "flow", "key", "value", "created_at"),
}


def _bulk(connection: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    columns = BULK[table]
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:-1], row[-1].astimezone(UTC).replace(tzinfo=None)))
        return
    marks = ", ".join("?" for _ in columns)
    raw.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [(*row[:-1], _sqlite_time(row[-1])) for row in rows],
    )


def _sqlite_time(at: datetime) -> str:
    """What SQLAlchemy's SQLite DATETIME stores."""
    return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(url: str, courses: int, now: datetime) -> dict[str, int]:
    """Migrate and fill the database; returns how many rows of each table."""
    migrate(url)
    rng = random.Random(11)
    engine = make_engine(url)
    counted = {"course": 0, "score": 0, "answer": 0, "alert": 0}
    try:
        for first in range(0, courses, BATCH):
            rows = [_course_rows(n, now, rng) for n in range(first, min(first + BATCH, courses))]
            with engine.begin() as connection:
                connection.execute(insert(AccessCode), [_code(row, now) for row in rows])
                connection.execute(insert(Course), rows)
                ids = dict(
                    connection.execute(
                        text("SELECT label, id FROM course WHERE label >= :a AND label <= :b"),
                        {"a": rows[0]["label"], "b": rows[-1]["label"]},
                    ).all()
                )
                scores: list[Any] = []
                answers: list[Any] = []
                alerts: list[Any] = []
                for row in rows:
                    s, a, al = _children(ids[row["label"]], row, now, rng)
                    scores += s
                    answers += a
                    alerts += al
                _bulk(connection, "score", scores)
                _bulk(connection, "answer", answers)
                if alerts:
                    connection.execute(insert(Alert), alerts)
            counted["course"] += len(rows)
            counted["score"] += len(scores)
            counted["answer"] += len(answers)
            counted["alert"] += len(alerts)
        # What autovacuum does within a minute or so of a bulk load on PostgreSQL (statistics, and the
        # visibility map that index-only scans need), and the statistics on SQLite.
        statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(statement))
    finally:
        engine.dispose()
    return counted


def _code(course: dict[str, Any], now: datetime) -> dict[str, Any]:
    made: datetime = course["started_at"] - timedelta(days=2)
    return {
        "code_hash": uuid.uuid4().hex,
        "program": course["program"],
        "label": course["label"],
        "clinician_id": None,
        "created_at": made,
        "expires_at": made + timedelta(days=30),
        "redeemed_at": course["started_at"] if course["started_at"] < now else None,
    }


# -- measuring -----------------------------------------------------------------------

MEASURE = """
import json, resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
began = time.perf_counter()
done = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE, check=False)
seconds = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                  "rc": done.returncode, "stderr": done.stderr.decode()[-400:]}))
"""

# The start-up cost without Telegram: importing the command and building the app
# (dialogs loaded and checked, database migrated), as `guidebot run` does before it connects.
BUILD = """
import json, time
began = time.perf_counter()
import bot.cli
from bot.app import build_app
from bot.config import Settings
app = build_app(Settings())
app.db.dispose()
print(json.dumps({"seconds": time.perf_counter() - began, "cpu": time.process_time()}))
"""

DUE_SCAN = """
import json, statistics, sys, time
from bot.clock import SystemClock
from bot.scheduler import due_events
from bot.storage.db import make_engine, transaction
engine = make_engine(sys.argv[1])
now = SystemClock().now()
def scan():
    with transaction(engine) as session:
        return due_events(session, now, course_ttl_days=30)
found = len(scan())
times = []
for _ in range(20):
    began = time.perf_counter()
    scan()
    times.append((time.perf_counter() - began) * 1000)
engine.dispose()
print(json.dumps({"ms": statistics.median(times), "events": found}))
"""


@dataclass
class Figures:
    name: str
    cases_seconds: float | None = None
    cases_cpu: float | None = None
    cases_rss_mb: float | None = None
    cases_rows: int | None = None
    cases_failed: str | None = None
    due_scan_ms: float | None = None
    due_events: int | None = None
    start_seconds: float | None = None
    start_cpu: float | None = None
    build_seconds: float | None = None
    build_cpu: float | None = None

    def lines(self) -> list[str]:
        cases = (
            f"cases --json {self.cases_seconds:6.2f} s (CPU {self.cases_cpu:.2f} s), "
            f"peak RSS {self.cases_rss_mb:5.0f} MB, {self.cases_rows} rows"
            if self.cases_failed is None
            else f"cases --json FAILED after {self.cases_seconds:.2f} s: {self.cases_failed}"
        )
        return [
            f"  {self.name:<7} {cases}",
            f"  {'':<7} due-scan median of 20: {self.due_scan_ms:.2f} ms ({self.due_events} events due)",
            f"  {'':<7} import + build_app, median of 3: {self.build_seconds:.2f} s (CPU {self.build_cpu:.2f} s)",
            f"  {'':<7} guidebot run to /readyz 200, median of 3: {self.start_seconds:.2f} s "
            f"(CPU {self.start_cpu:.2f} s)",
        ]


def environment(url: str, code: Path | None) -> dict[str, str]:
    """Subprocesses run in the work directory: a `python -c` finds modules in its working
    directory first, and that must not be this tree when the baseline's code is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDEBOT_")}
    env["GUIDEBOT_DATABASE_URL"] = url
    env["GUIDEBOT_DIALOGS_DIR"] = str(code / "dialogs" if code else DEFAULT_DIALOGS_DIR)
    env["GUIDEBOT_CLINICIAN_CHAT_ID"] = str(TEAM)
    if code is not None:
        env["PYTHONPATH"] = str(code)  # found before the editable install of this tree
    return env


def guidebot(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys, pathlib, bot\n"
        "# as the installed `guidebot` command; code from before bot/entry.py has only bot.cli (and an\n"
        "# older tree on PYTHONPATH must not take bot.entry from this tree's editable install)\n"
        "if (pathlib.Path(bot.__file__).parent / 'entry.py').exists():\n    from bot.entry import main\n"
        "else:\n    from bot.cli import main\n"
        "sys.argv = ['guidebot', *sys.argv[1:]]\nmain()",
        *args,
    ]


def measure_cases(figures: Figures, env: dict[str, str], output: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(output), *guidebot("cases", "--json")],
        env=env,
        cwd=output.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    figures.cases_seconds, figures.cases_rss_mb = result["seconds"], result["rss_mb"]
    figures.cases_cpu = result["cpu"]
    if result["rc"] != 0:
        lines = result["stderr"].strip().splitlines() or ["exit " + str(result["rc"])]
        named = [line for line in lines if "Error" in line]  # the exception, not SQLAlchemy's link
        figures.cases_failed = (named or lines)[-1][:200]
        return
    figures.cases_rows = len(json.loads(output.read_bytes()))


def measure_due_scan(figures: Figures, env: dict[str, str], url: str, workdir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DUE_SCAN, url], env=env, cwd=workdir, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    figures.due_scan_ms, figures.due_events = result["ms"], result["events"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_build(figures: Figures, env: dict[str, str], workdir: Path) -> None:
    build = [sys.executable, "-c", BUILD]
    runs = [
        json.loads(subprocess.run(build, env=env, cwd=workdir, capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    figures.build_seconds = statistics.median(r["seconds"] for r in runs)
    figures.build_cpu = statistics.median(r["cpu"] for r in runs)


def cpu_seconds(pid: int) -> float:
    """The user and system time of a running process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_up_seconds(server: BenchServer, env: dict[str, str], workdir: Path) -> tuple[float, float]:
    """Seconds from starting `guidebot run` to /readyz answering 200, and the CPU seconds it used."""
    port = free_port()
    env = {
        **env,
        "GUIDEBOT_TELEGRAM_TOKEN": server.token,
        "GUIDEBOT_TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
        "GUIDEBOT_METRICS_LISTEN": f"127.0.0.1:{port}",
    }
    log = workdir / "run.log"
    began = time.perf_counter()
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            *guidebot("run"), cwd=workdir, env=env, stdin=asyncio.subprocess.DEVNULL, stderr=errors
        )
    try:
        async with aiohttp.ClientSession() as client:
            while True:
                if process.returncode is not None:
                    tail = log.read_text(errors="replace").strip().splitlines()[-5:]
                    raise RuntimeError(f"guidebot run exited with {process.returncode}: " + " | ".join(tail))
                try:
                    async with client.get(f"http://127.0.0.1:{port}/readyz") as response:
                        if response.status == 200:
                            return time.perf_counter() - began, cpu_seconds(process.pid)
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.005)
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 60)


def measure(name: str, url: str, workdir: Path, server: BenchServer, code: Path | None) -> tuple[Figures, Path]:
    figures = Figures(name)
    env = environment(url, code)
    output = workdir / f"cases-{name}-{uuid.uuid4().hex[:6]}.json"
    measure_cases(figures, env, output)
    measure_due_scan(figures, env, url, workdir)
    measure_build(figures, env, workdir)
    loop = asyncio.get_event_loop_policy().get_event_loop()
    starts = [loop.run_until_complete(start_up_seconds(server, env, workdir)) for _ in range(3)]
    figures.start_seconds = statistics.median(wall for wall, _ in starts)
    figures.start_cpu = statistics.median(cpu for _, cpu in starts)
    return figures, output


def code_of(ref: str, workdir: Path) -> Path:
    target = workdir / f"code-{ref}"
    target.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


# -- the runs ------------------------------------------------------------------------


@dataclass
class Database:
    backend: str
    url: str
    admin_url: str | None = None
    name: str | None = None


def databases(backends: list[str], workdir: Path) -> Iterator[Database]:
    for backend in backends:
        if backend == "sqlite":
            yield Database("sqlite", f"sqlite:///{workdir / 'caseload.db'}")
            continue
        name = f"guidebot_caseload_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield Database("postgresql", POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", POSTGRES_ADMIN_URL, name)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main(courses: int, backends: list[str], baseline: str | None) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = BenchServer()
    loop.run_until_complete(server.start())
    server.group(TEAM, "Veilederteamet")  # the bot checks at start that it can post in the team chat
    try:
        with tempfile.TemporaryDirectory() as directory:
            workdir = Path(directory)
            old = code_of(baseline, workdir) if baseline else None
            for tree in (ROOT, old):  # as installed (README, docs/operations.md): bytecode written once
                if tree is not None:
                    subprocess.run(
                        [sys.executable, "-m", "compileall", "-q", str(tree / "bot"), str(tree / "state_machines")],
                        check=True,
                    )
            for db in databases(backends, workdir):
                began = time.perf_counter()
                counted = build(db.url, courses, datetime.now(UTC))
                print(
                    f"{db.backend}: built {counted['course']} courses, {counted['score']} scores, "
                    f"{counted['answer']} answers, {counted['alert']} alerts in {time.perf_counter() - began:.0f} s",
                    flush=True,
                )
                results: list[tuple[Figures, Path]] = []
                if old is not None:
                    command.downgrade(alembic_config(db.url), "0008")
                    results.append(measure(f"before ({baseline})", db.url, workdir, server, old))
                    for line in results[-1][0].lines():
                        print(line, flush=True)
                    command.upgrade(alembic_config(db.url), "head")
                    with make_engine(db.url).connect() as connection:
                        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
                results.append(measure("after", db.url, workdir, server, None))
                for line in results[-1][0].lines():
                    print(line, flush=True)
                if len(results) == 2 and results[0][0].cases_failed is None:
                    if results[0][0].due_events:
                        # `guidebot run` handles what is due as it starts, so the data changed in between
                        print(
                            "  cases --json outputs not compared: the 'before' start-ups handled "
                            f"{results[0][0].due_events} due events in between",
                            flush=True,
                        )
                    else:
                        same = results[0][1].read_bytes() == results[1][1].read_bytes()
                        print(f"  cases --json output before and after identical: {same}", flush=True)
    finally:
        loop.run_until_complete(server.stop())
        loop.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--baseline", help="a git commit to measure first, on the same database (e.g. 8fa677b)")
    arguments = parser.parse_args()
    chosen = ["sqlite", "postgresql"] if arguments.backend == "both" else [arguments.backend]
    main(arguments.courses, chosen, arguments.baseline)
