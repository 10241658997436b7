"""Updates a second of 1, 2 and 3 bot processes on one PostgreSQL database.

The full bot (`bench/full_bot.py`: the application `guidebot run` starts, with
Telegram's sending limits lifted, as `GUIDEBOT_SEND_RATE` set high would) runs as N
processes in webhook mode on one fresh PostgreSQL database, the multi-process design
of docs/telegram.md: every process stores and applies updates, one elected process
sends. The fake Bot API server (tests/fakes) hands each update to the processes in
turn, as a load balancer in front of them would (and on to the next when one does
not answer). USERS users, each in the middle of a check-in, answer a PHQ-9 question
by button, wait for the next question and answer again, ROUNDS rounds, as in
`bench/telegram_throughput.py`.

N = 1, 2, 3 are run in turn, REPEAT times, each on a database of its own (created on
the server, dropped after), and the medians and the ratios to N = 1 are printed.
Each run is also checked from outside: no reply sent twice, and each chat received
exactly its outbox rows, in order.

Usage: .venv/bin/python -m bench.processes [--users 200] [--rounds 5] [--repeat 3] [--processes 1,2,3]
       (PostgreSQL: GUIDEBOT_TEST_POSTGRES_URL, default postgresql+psycopg://root@127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from bench.telegram_throughput import (
    FIRST_USER,
    BenchServer,
    Result,
    Waiters,
    closed_loop,
    prepare_database,
    start_process,
    stop_process,
)
from bot.app import build_app
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.storage.db import transaction
from bot.storage.models import OutboxItem
from tests.support.telegram_harness import free_port

ADMIN_URL = os.environ.get("GUIDEBOT_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
SECRET = "bench-secret"
STARTUP = 180.0
TICKS = os.sysconf("SC_CLK_TCK")


class BalancingServer(BenchServer):
    """The fake Bot API, posting each update to the next of several webhook backends."""

    def __init__(self) -> None:
        super().__init__()
        self.backends: list[str] = []
        self._turn = 0

    async def push_webhook(self, url: str, update_json: dict[str, Any], secret: str | None = None) -> int:
        if not self.backends:
            return await super().push_webhook(url, update_json, secret)
        start, self._turn = self._turn, self._turn + 1
        for step in range(len(self.backends)):
            backend = self.backends[(start + step) % len(self.backends)]
            try:
                status = await super().push_webhook(backend, update_json, secret)
            except aiohttp.ClientError:
                continue
            if status == 200:
                return status
        return 502


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database on the server at ADMIN_URL, dropped afterwards."""
    name = f"guidebot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User and system CPU each process has used so far (Linux /proc)."""
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return used


def backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving `database` (their title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres:") and f" {database} ".encode() in title:
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU used between start() and stop() by the bot processes, the database's server
    processes and this process (the fake server and the users)."""

    def __init__(self, bots: list[int], database: str) -> None:
        self.bots, self.database = bots, database

    def start(self) -> None:
        self.pg_pids = backends(self.database)
        self.before = cpu_seconds(self.bots + self.pg_pids)
        self.own = time.process_time()

    def stop(self) -> tuple[float, float, float]:
        after = cpu_seconds(self.bots + self.pg_pids)
        spent = {pid: after[pid] - self.before.get(pid, 0.0) for pid in after}
        bots = sum(spent.get(pid, 0.0) for pid in self.bots)
        return bots, sum(spent.values()) - bots, time.process_time() - self.own


def max_in_one_second(server: BalancingServer, chats: list[int]) -> int:
    times = sorted(m.time for chat_id in chats for m in server.users[chat_id].messages)
    best = start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class Checked:
    doubled: int  # messages a chat received more than once
    out_of_order: int  # chats whose messages differ from their outbox rows in id order
    unsent: int  # outbox rows never marked sent
    max_per_second: int  # most messages to all chats in any one second


def outbox_rows(url: str, chats: list[int]) -> list[tuple[int, int, dict[str, Any], Any]]:
    """The chats' text rows in the outbox: id, chat, payload, sent_at, in id order."""
    app = build_app(Settings(_env_file=None, database_url=url, clinician_chat_id=-1001), run_migrations=False)
    try:
        with transaction(app.db) as session:
            rows = session.exec(
                select(OutboxItem.id, OutboxItem.chat_id, OutboxItem.payload, OutboxItem.sent_at)
                .where(col(OutboxItem.chat_id).in_(chats), OutboxItem.kind == "text")
                .order_by(col(OutboxItem.id))
            ).all()
    finally:
        app.db.dispose()
    return [(int(i or 0), c, dict(p), s) for i, c, p, s in rows]


def check(server: BalancingServer, url: str, chats: list[int], delivered_before: set[int]) -> Checked:
    """What each chat received against its outbox rows in id order (but for rows the set-up
    marked sent without sending them)."""
    rows = [row for row in outbox_rows(url, chats) if row[0] not in delivered_before]
    expected: dict[int, list[str]] = {chat_id: [] for chat_id in chats}
    unsent = 0
    for _id, chat_id, payload, sent_at in rows:
        expected[chat_id].append(str(payload.get("text")))
        unsent += sent_at is None
    doubled = out_of_order = 0
    for chat_id in chats:
        received = [str(m.params.get("text")) for m in server.users[chat_id].messages]
        doubled += sum(1 for n in range(1, len(received)) if received[n] == received[n - 1])
        out_of_order += received != expected[chat_id]
    return Checked(doubled, out_of_order, unsent, max_in_one_second(server, chats))


async def run_processes(
    server: BalancingServer, count: int, users: int, rounds: int, first: int, cpu: dict[int, list[float]]
) -> Result:
    with fresh_database() as url:
        began = time.perf_counter()
        prepare_database(url, users, first)
        chats = [first + n for n in range(users)]
        delivered_before = {row[0] for row in outbox_rows(url, chats) if row[3] is not None}
        print(f"set up {users} users on PostgreSQL in {time.perf_counter() - began:.1f} s; {count} process(es)")
        ports = [free_port() for _ in range(count)]
        server.backends = [f"http://127.0.0.1:{port}/hook" for port in ports]
        webhooks_before = sum(c.method == "setWebhook" for c in server.all_calls)
        common = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GUIDEBOT_")},
            "GUIDEBOT_TELEGRAM_TOKEN": server.token,
            "GUIDEBOT_TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
            "GUIDEBOT_DATABASE_URL": url,
            "GUIDEBOT_DIALOGS_DIR": str(DEFAULT_DIALOGS_DIR),
            "GUIDEBOT_CLINICIAN_CHAT_ID": "-1001",
            "GUIDEBOT_SCHEDULER_INTERVAL_SECONDS": "3600",
            "GUIDEBOT_SEND_RATE": "100000",
            "GUIDEBOT_WEBHOOK_URL": "http://127.0.0.1/hook",  # the balancer in the fake server
            "GUIDEBOT_WEBHOOK_SECRET": SECRET,
        }
        server.group(-1001, "Veilederteamet")
        fakes = [server.user(chat_id) for chat_id in chats]
        processes = [
            await start_process("-m", "bench.full_bot", env={**common, "GUIDEBOT_LISTEN": f"127.0.0.1:{port}"})
            for port in ports
        ]
        try:
            await server.wait_until(
                lambda: sum(c.method == "setWebhook" for c in server.all_calls) >= webhooks_before + count, STARTUP
            )
            await server.wait_until(lambda: all(any(m.buttons for m in fake.messages) for fake in fakes), STARTUP)

            async def press(chat_id: int, _round: int) -> None:
                fake = server.users[chat_id]
                question = next(m for m in reversed(fake.messages) if m.buttons)
                await fake.press(question, question.buttons[0])

            waiters = Waiters(server, lambda message: bool(message.buttons))
            meter = CpuMeter([p.pid for p in processes], url.rsplit("/", 1)[1])
            meter.start()
            result = await closed_loop(f"{count} proc", chats, rounds, waiters, press)
            bots_cpu, database_cpu, own_cpu = meter.stop()
            # Let the last "sent" marks be written before the rows are read back.
            await asyncio.sleep(0.5)
        finally:
            for process in processes:
                await stop_process(process)
            server.backends = []
        checked = check(server, url, chats, delivered_before)
        print(
            f"{result.line()}\n           checked: {checked.doubled} doubled, "
            f"{checked.out_of_order} chats out of order, "
            f"{checked.unsent} rows unsent, at most {checked.max_per_second} messages in one second\n"
            f"           CPU, ms an update: bot processes {bots_cpu / result.updates * 1000:.2f}, "
            f"PostgreSQL {database_cpu / result.updates * 1000:.2f}, "
            f"fake server and users {own_cpu / result.updates * 1000:.2f}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        cpu[count].append((bots_cpu + database_cpu + own_cpu) / result.updates * 1000)
        if checked.doubled or checked.out_of_order or checked.unsent:
            raise SystemExit(f"{count} processes: doubled or out-of-order replies ({checked})")
        return result


async def main(users: int, rounds: int, repeat: int, counts: list[int]) -> None:
    results: dict[int, list[Result]] = {count: [] for count in counts}
    cpu: dict[int, list[float]] = {count: [] for count in counts}
    async with BalancingServer() as server:
        base = FIRST_USER
        for run in range(repeat):
            for count in counts if run % 2 == 0 else list(reversed(counts)):
                results[count].append(await run_processes(server, count, users, rounds, base, cpu))
                base += users
    print()
    reference = statistics.median(r.rate for r in results[counts[0]])
    for count in counts:
        rate = statistics.median(r.rate for r in results[count])
        print(
            f"{count} process(es): median of {repeat}: {rate:.1f} updates/s, "
            f"p50 {statistics.median(r.percentile(50) for r in results[count]):.0f} ms, "
            f"p99 {statistics.median(r.percentile(99) for r in results[count]):.0f} ms; "
            f"ratio to {counts[0]}: {rate / reference:.2f}; CPU {statistics.median(cpu[count]):.2f} ms an update"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processes", default="1,2,3", help="comma-separated process counts")
    arguments = parser.parse_args()
    counts = [int(n) for n in arguments.processes.split(",")]
    asyncio.run(main(arguments.users, arguments.rounds, arguments.repeat, counts))
