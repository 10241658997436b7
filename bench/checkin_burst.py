"""A burst of due check-ins against a Bot API server that enforces Telegram's 30 messages a second.

CHECKINS courses have their weekly check-in due at once. `guidebot run` starts as its
own process against the fake Bot API server from tests/fakes, which runs here with
flood control on: the 31st message in any one-second window is refused with 429.

Measured, per run:
- the time from the first message to the moment every person has their first
  question (the one with buttons), and the messages a second over that time;
- the 429s the server answered;
- for each person, the time between the check-in's first message and its question,
  and how many other people's messages went out in between;
- the bot process's peak resident memory (VmHWM in /proc/PID/status, read when every
  person has their question, just before the process is stopped).

`--baseline REF` runs the code of that git commit first, on a copy of the same
database, and prints each figure as a ratio of the two, measured in one run.

Usage: .venv/bin/python -m bench.checkin_burst [--checkins 1000] [--baseline 498861f]
       .venv/bin/python -m bench.checkin_burst --checkins 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from bench.caseload import guidebot
from bench.telegram_throughput import BenchServer, EngineUser
from bot.app import build_app
from bot.channels.telegram.database import Database
from bot.config import DEFAULT_DIALOGS_DIR, Settings
from bot.engine.codes import issue_code
from bot.storage.db import migrate
from bot.storage.models import Answer, Course, OutboxItem, Score
from tests.fakes import MESSAGE_METHODS, FloodControl, SentMessage

ROOT = Path(__file__).resolve().parents[1]
FIRST_USER = 700_000
TEAM = -1001


# -- the database: CHECKINS courses, each with its check-in due now ------------------


def to_first_checkin(user: EngineUser) -> None:
    """Through the intake, up to the agreement; the first check-in is then scheduled."""
    code = user.db.run_now(
        lambda session: (
            issue_code(session, user.app.engine.clock.now(), program="depression", label=None, ttl_days=30).code
        )
    )
    user.send(f"/start {code}")
    for index in (0, 3, 1, *[0] * 16):  # consent, age 30-49, impact "some", PHQ-9 and GAD-7
        user.press(index)
    user.send("Sove bedre og komme meg ut hver dag")
    user.press(3)  # Thursday
    user.send("18:30")
    user.press(0)  # the agreement


def prepare_database(url: str, checkins: int) -> None:
    """One person goes through the intake for real; the others are copies of that course,
    each in a chat of its own. Every course's check-in is due a minute ago, and nothing
    is waiting to be sent."""
    migrate(url)
    app = build_app(
        Settings(_env_file=None, database_url=url, clinician_chat_id=TEAM),  # type: ignore[call-arg]
        run_migrations=False,
    )
    db = Database(app.db, 1)
    to_first_checkin(EngineUser(app, db, FIRST_USER))

    def copy_course(session: Any) -> None:
        now = app.engine.clock.now()
        session.execute(update(OutboxItem).values(sent_at=now))
        template = session.execute(select(Course).where(Course.chat_id == FIRST_USER)).scalar_one()
        assert template.due_kind == "checkin", template.due_kind
        template.due_at = now - timedelta(minutes=1)
        answers = session.execute(select(Answer).where(Answer.course_id == template.id)).scalars().all()
        scores = session.execute(select(Score).where(Score.course_id == template.id)).scalars().all()
        fields = template.model_dump(exclude={"id", "label", "chat_id"})
        session.execute(
            insert(Course),
            [{**fields, "label": f"{template.label}-{n}", "chat_id": FIRST_USER + n} for n in range(1, checkins)],
        )
        ids = dict(session.execute(select(Course.chat_id, Course.id).where(Course.chat_id > FIRST_USER)).all())
        for rows, model in ((answers, Answer), (scores, Score)):
            copies = [
                {**row.model_dump(exclude={"id", "course_id"}), "course_id": course_id}
                for course_id in ids.values()
                for row in rows
            ]
            if copies:
                session.execute(insert(model), copies)

    db.run_now(copy_course)
    db.close()
    app.db.dispose()


# -- one run -------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    messages: int
    seconds: float  # first message to every person's first question
    refused: int
    gaps: list[float]  # per person: seconds from the check-in's first message to its question
    between: list[int]  # per person: other people's messages sent in between
    peak_rss_mb: float | None = None  # the bot process's peak resident memory (None: not on Linux)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.name:<9} {self.messages:>6} messages in {self.seconds:7.1f} s = {self.rate:5.1f}/s, "
            f"{self.refused} × 429; first message to question: median {statistics.median(self.gaps):6.2f} s, "
            f"max {max(self.gaps):7.2f} s, other messages between: median {statistics.median(self.between):.0f}, "
            f"max {max(self.between)}; peak RSS {self.peak_rss_mb or 0:.0f} MB"
        )


def code_of(ref: str, workdir: Path) -> Path:
    """The tree of git commit `ref`, unpacked under `workdir`."""
    target = workdir / f"code-{ref}"
    target.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


async def run_bot(
    name: str, server: BenchServer, template: Path, workdir: Path, checkins: int, code: Path | None
) -> Result:
    database = workdir / f"{name}.db"
    shutil.copy(template, database)
    url = f"sqlite:///{database}"
    chats = [FIRST_USER + n for n in range(checkins)]
    users = [server.user(chat_id) for chat_id in chats]
    for user in users:
        user.messages.clear()
    server.all_calls.clear()
    server.flood = FloodControl(overall=30, window=1.0)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GUIDEBOT_")},
        "GUIDEBOT_TELEGRAM_TOKEN": server.token,
        "GUIDEBOT_TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
        "GUIDEBOT_DATABASE_URL": url,
        "GUIDEBOT_DIALOGS_DIR": str(code / "dialogs" if code else DEFAULT_DIALOGS_DIR),
        "GUIDEBOT_CLINICIAN_CHAT_ID": str(TEAM),
    }
    if code is not None:
        env["PYTHONPATH"] = str(code)  # found before the editable install of this tree
    process = await asyncio.create_subprocess_exec(
        *guidebot("run"),
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
    )
    asked = asyncio.Event()
    waiting = set(chats)

    def arrived(message: SentMessage) -> None:  # kept cheap: the server must not stall and bunch the messages
        if message.buttons:
            waiting.discard(message.chat_id)
            if not waiting:
                asked.set()

    server.on_message = arrived
    peak = None
    try:
        await asyncio.wait_for(asked.wait(), 3600)
        peak = peak_rss_mb(process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 60)
    result = measure(name, server, users)
    result.peak_rss_mb = peak
    return result


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size so far, in MB (VmHWM), or None where /proc has none."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def measure(name: str, server: BenchServer, users: list[Any]) -> Result:
    sent: list[SentMessage] = sorted((m for user in users for m in user.messages), key=lambda m: m.time)
    order = {id(message): index for index, message in enumerate(sent)}
    gaps: list[float] = []
    between: list[int] = []
    done_at = 0.0
    for user in users:
        first = user.messages[0]
        question = next(m for m in user.messages if m.buttons)
        gaps.append(question.time - first.time)  # 0 when the check-in opens with its question
        between.append(max(0, order[id(question)] - order[id(first)] - 1))
        done_at = max(done_at, question.time)
    refused = sum(1 for call in server.all_calls if call.method in MESSAGE_METHODS and call.status == 429)
    messages = sum(1 for m in sent if m.time <= done_at)
    return Result(name, messages, done_at - sent[0].time, refused, gaps, between)


async def main(checkins: int, baseline: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        template = workdir / "template.db"
        began = time.perf_counter()
        prepare_database(f"sqlite:///{template}", checkins)
        print(f"set up {checkins} courses with a check-in due in {time.perf_counter() - began:.1f} s")
        results: list[Result] = []
        async with BenchServer() as server:
            server.group(TEAM, "Veilederteamet")  # the bot checks at start that it can post in the team chat
            if baseline is not None:
                results.append(await run_bot("before", server, template, workdir, checkins, code_of(baseline, workdir)))
                print(results[-1].line())
            results.append(await run_bot("after", server, template, workdir, checkins, None))
            print(results[-1].line())
    if len(results) == 2:
        before, after = results
        print()
        print(
            f"after / before: time {after.seconds / before.seconds:.2f}, messages a second "
            f"{after.rate / before.rate:.2f}, 429s {after.refused} against {before.refused}, median first message "
            f"to question {ratio(statistics.median(after.gaps), statistics.median(before.gaps))}, peak RSS "
            f"{after.peak_rss_mb or 0:.0f} MB against {before.peak_rss_mb or 0:.0f} MB"
        )


def ratio(after: float, before: float) -> str:
    return f"{after / before:.3f}" if before else f"{after:.2f} s against {before:.2f} s"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=1000)
    parser.add_argument("--baseline", help="a git commit to measure first, in the same run (e.g. 498861f)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.checkins, arguments.baseline))
