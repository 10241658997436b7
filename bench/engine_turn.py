"""The engine's turn for a button answer, timed, against a bare Core transaction of the same shape.

USERS courses each wait for the answer to a PHQ-9 question (set up as in
`bench/telegram_throughput.py`). Each answer is one transaction on the channel's
database path (`Database.run_now`: on SQLite one connection kept open), with the
engine's clock fixed: `Engine.handle` with a button event, then the commit. ROUNDS
rounds, so every course answers ROUNDS questions. Per turn it reports:

- `turn`: the whole transaction, begin to commit (wall clock);
- `cpu`: this process's CPU time for it (so not the database server's, nor waiting
  for its disk: on PostgreSQL the COMMIT mostly waits);
- `lock`: `course_for_chat`, loading the course `FOR UPDATE`;
- `engine`: the rest of `Engine.handle` (the answer, the next question rendered);
- `write`: what the turn writes when it commits: the course's changes and the outbox
  rows (the turn's `before_commit` work);
- `commit`: the COMMIT itself and the session's end;
- `bare`, `bare_cpu`: a Core transaction of the same shape, for comparison: the course
  row selected `FOR UPDATE` by chat id, one UPDATE of it, three outbox rows in one
  INSERT, the commit.

`--baseline REF` also runs the code of commit REF (unpacked with `git archive`, with
this bench/ folder copied in), alternating with this code, so before and after are
compared within one run. Each run is a child process with a database of its own.

Usage: .venv/bin/python -m bench.engine_turn [--users 200] [--rounds 3] [--repeat 3]
       [--db sqlite,postgresql] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import event as sqlalchemy_event
from sqlmodel import Session, col
from sqlmodel import select as orm_select

import bot
import bot.engine.core as core
from bench.processes import fresh_database
from bench.telegram_throughput import prepare_database
from bot.app import build_app
from bot.channels.telegram.database import Database
from bot.clock import FakeClock
from bot.config import Settings
from bot.engine.events import Event
from bot.storage.models import Course, OutboxItem

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("turn", "cpu", "lock", "engine", "write", "commit", "bare", "bare_cpu")


def measure(db_kind: str, users: int, rounds: int) -> dict[str, Any]:
    """In this process: set up a database, time the turns and the bare transactions."""
    first = 700_000
    with ExitStack() as stack:
        if db_kind == "sqlite":
            workdir = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{Path(workdir) / 'turns.db'}"
        else:
            url = stack.enter_context(fresh_database())
        prepare_database(url, users, first)
        clock = FakeClock(datetime.now(UTC))
        app = build_app(
            Settings(_env_file=None, database_url=url, clinician_chat_id=-1001),
            clock,
            run_migrations=False,
        )
        db = Database(app.db, 1)
        stack.callback(app.db.dispose)
        stack.callback(db.close)
        chats = [first + n for n in range(users)]

        spent: dict[str, list[float]] = {part: [] for part in PARTS}
        locked = [0.0]
        original = core.course_for_chat

        def timed_course_for_chat(session: Session, chat_id: int) -> Any:
            began = time.perf_counter()
            try:
                return original(session, chat_id)
            finally:
                locked[0] += time.perf_counter() - began

        core.course_for_chat = timed_course_for_chat

        def questions(session: Session) -> dict[int, str]:
            rows = session.exec(
                orm_select(OutboxItem.chat_id, OutboxItem.payload)
                .where(col(OutboxItem.chat_id).in_(chats), OutboxItem.kind == "text")
                .order_by(col(OutboxItem.id))
            ).all()
            latest: dict[int, str] = {}
            for chat_id, payload in rows:
                if payload.get("buttons"):
                    latest[chat_id] = payload["buttons"][0][0]["data"]
            return latest

        message_id = 1000
        asked: dict[int, str] = {}
        for _round in range(rounds):
            data = db.run_now(questions)
            assert len(data) == users, (len(data), users)
            assert not any(data[chat_id] == asked.get(chat_id) for chat_id in chats), "each answer asked the next"
            asked = data
            for chat_id in chats:
                message_id += 1
                event = Event.button(
                    chat_id, data[chat_id], callback_id=f"bench-{message_id}", message_id=message_id, language="nb"
                )
                marks: dict[str, float] = {}
                locked[0] = 0.0

                def mark(name: str, marks: dict[str, float] = marks) -> Callable[[Session], None]:
                    return lambda _session: marks.__setitem__(name, time.perf_counter())

                def work(session: Session, event: Event = event, marks: dict[str, float] = marks) -> None:
                    # before_commit listeners run in the order they were added: around the turn's own.
                    sqlalchemy_event.listen(session, "before_commit", mark("writing"), once=True)
                    marks["begun"] = time.perf_counter()
                    app.engine.handle(session, event)
                    marks["handled"] = time.perf_counter()
                    sqlalchemy_event.listen(session, "before_commit", mark("written"), once=True)

                cpu = time.process_time()
                began = time.perf_counter()
                db.run_now(work)
                ended = time.perf_counter()
                spent["cpu"].append(time.process_time() - cpu)
                spent["turn"].append(ended - began)
                spent["lock"].append(locked[0])
                spent["engine"].append(marks["handled"] - marks["begun"] - locked[0])
                spent["write"].append(marks["written"] - marks["writing"])
                spent["commit"].append(ended - marks["written"])
                clock.advance(seconds=1)
        core.course_for_chat = original

        # The bare transaction: the same statements through Core, on the same connection.
        course_table = Course.__table__  # type: ignore[attr-defined]
        outbox_table = OutboxItem.__table__  # type: ignore[attr-defined]
        lock_course = (
            select(course_table)
            .where(course_table.c.chat_id == bindparam("chat_id"))
            .order_by(course_table.c.id.desc())
            .limit(1)
            .with_for_update()
        )
        now = clock.now()
        for n, chat_id in enumerate(chats * rounds):

            def bare(session: Session, chat_id: int = chat_id, n: int = n) -> None:
                connection = session.connection()
                row = connection.execute(lock_course, {"chat_id": chat_id}).one()
                connection.execute(
                    update(course_table)
                    .where(course_table.c.id == row.id)
                    .values(ask_seq=row.ask_seq, step=row.step, scratch=row.scratch, last_activity_at=now)
                )
                payload: dict[str, Any] = {"text": f"Spørsmål {n}", "buttons": [[{"text": "Ja", "data": "s:1:0"}]]}
                common = {"chat_id": chat_id, "course_id": row.id, "created_at": now, "attempts": 0}
                connection.execute(
                    insert(outbox_table),
                    [
                        {**common, "kind": "callback", "payload": {"callback_id": f"b{n}", "text": ""}},
                        {**common, "kind": "clear_buttons", "payload": {"message_id": n, "chosen": None}},
                        {**common, "kind": "text", "payload": payload},
                    ],
                )

            cpu = time.process_time()
            began = time.perf_counter()
            db.run_now(bare)
            spent["bare"].append(time.perf_counter() - began)
            spent["bare_cpu"].append(time.process_time() - cpu)

    return {
        "bot": str(Path(bot.__file__).parent),
        "turns": len(spent["turn"]),
        **{f"{part}_ms": statistics.median(values) * 1000 for part, values in spent.items()},
        **{f"{part}_mean_ms": statistics.fmean(values) * 1000 for part, values in spent.items()},
    }


# -- the parent: children for each code and database, alternating ------------------


def unpack(ref: str, into: Path) -> Path:
    """The tree of commit REF, with this bench/ folder copied in."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    shutil.rmtree(into / "bench")
    shutil.copytree(ROOT / "bench", into / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    return into


def child(tree: Path, db_kind: str, users: int, rounds: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.engine_turn", "--child", db_kind, "--users", str(users), "--rounds", str(rounds)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["bot"]).parent != tree.resolve():
        raise SystemExit(f"the child ran the code in {result['bot']}, not in {tree}")
    return result


def line(name: str, result: dict[str, Any]) -> str:
    return f"{name:<22}" + "  ".join(f"{part} {result[f'{part}_ms']:6.3f}" for part in PARTS)


def main(users: int, rounds: int, repeat: int, kinds: list[str], baseline: str | None) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        trees: dict[str, Path] = {"after": ROOT}
        if baseline:
            trees = {"before": unpack(baseline, Path(workdir).resolve()), "after": ROOT}
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for run in range(repeat):
            for kind in kinds:
                order = list(trees) if run % 2 == 0 else list(reversed(trees))
                for name in order:
                    result = child(trees[name], kind, users, rounds)
                    results.setdefault((kind, name), []).append(result)
                    print(line(f"{kind} {name} #{run + 1}", result), flush=True)
    print(f"\nmedian ms per turn over {repeat} runs of {users * rounds} button answers:")

    def summary(kind: str, name: str, part: str) -> float:
        return float(statistics.median(r[f"{part}_ms"] for r in results[(kind, name)]))

    for kind in kinds:
        for name in trees:
            print(line(f"{kind} {name}", {f"{p}_ms": summary(kind, name, p) for p in PARTS}))
        if baseline:
            ratios = {
                part: statistics.median(
                    a[f"{part}_ms"] / b[f"{part}_ms"]
                    for a, b in zip(results[(kind, "after")], results[(kind, "before")], strict=True)
                )
                for part in PARTS
            }
            shares = ", ".join(f"{p} {ratios[p]:.2f}" for p in PARTS)
            print(f"{kind}: after / before, median of the runs' ratios: {shares}")
            for name in trees:
                best = min(results[(kind, name)], key=lambda r: r["turn_ms"])
                print(line(f"{kind} {name} best", best))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--baseline", metavar="REF", help="also run the code of this commit, alternating")
    parser.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(measure(arguments.child, arguments.users, arguments.rounds)))
    else:
        main(arguments.users, arguments.rounds, arguments.repeat, arguments.db.split(","), arguments.baseline)
