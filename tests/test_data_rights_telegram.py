"""Data rights over the fake Telegram server, measured by bytes.

A person types made-up strings that occur nowhere else (a goal, check-in answers,
safety-plan entries) in two courses of the same chat; a clinician reads their case;
they ask for /mydata and then /delete. Afterwards no byte of the SQLite files (the
database, -wal and -shm) holds any of the strings, and on both SQLite and PostgreSQL
no row does. An alert nobody had acknowledged stays, with its words, until a
clinician acknowledges it; then it goes too.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select as select_table
from sqlmodel import SQLModel, col, select

from bot.clock import FakeClock
from bot.storage.db import make_engine, transaction
from bot.storage.models import Alert, AuditEntry, Course
from tests.fakes import SentMessage
from tests.support.clinician import CODE, add_clinician
from tests.support.telegram_harness import Chat, Running, answer_measure, course_of, enrol, running_bot

TEAM = -1001
USER = 42
# Made-up, ASCII (JSON columns escape other letters, which would hide them from a byte search).
GOAL_1 = "Tegne med tusj QZXW-GOAL-ONE hver kveld"
GOAL_2 = "Svomme i QZXW-GOAL-TWO hver fredag"
PLAN_1 = "Kort lunte og QZXW-PLAN-ONE"
PLAN_2 = "Ringe QZXW-PLAN-TWO om kvelden"
ANSWER = "QZXW-ANSWER-{n} gikk fint"
RISK = "jeg vil ta livet mitt QZXW-RISK-OPEN"
TOKENS = ("QZXW-GOAL-ONE", "QZXW-GOAL-TWO", "QZXW-PLAN-ONE", "QZXW-PLAN-TWO", "QZXW-ANSWER-")


# -- where the strings could be ---------------------------------------------------------------


def sqlite_files(url: str) -> list[Path]:
    database = Path(url.removeprefix("sqlite:///"))
    return [database, Path(f"{database}-wal"), Path(f"{database}-shm")]


def bytes_holding(url: str, token: str) -> list[str]:
    """The SQLite files that hold `token` somewhere in their bytes."""
    return [path.name for path in sqlite_files(url) if path.exists() and token.encode() in path.read_bytes()]


def rows_holding(running: Running, token: str) -> list[str]:
    """'table: row' for every row, in any table, with `token` in a value (text, JSON or bytes)."""
    found: list[str] = []
    with running.app.db.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(select_table(table)).all():
                for value in row:
                    shown = value if isinstance(value, bytes) else json.dumps(value, default=str, ensure_ascii=False)
                    needle: Any = token.encode() if isinstance(shown, bytes) else token
                    if needle in shown:
                        found.append(f"{table.name}: {row}")
                        break
    return found


# -- the person's two courses -----------------------------------------------------------------


async def intake(user: Chat, goal: str) -> None:
    await user.press("Ja, vi fortsetter")
    await user.press("30–49")
    await user.press("En del")
    await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    await answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
    await user.send(goal)
    await user.press_index(3)  # Thursday
    await user.send("18:30")
    await user.press_index(0)  # agree


async def checkin_by_timer(tg: Running, clock: FakeClock, user: Chat) -> None:
    """The check-in opens at its time; every button gets the first choice, every question a made-up text."""
    course = course_of(tg.app, USER)
    assert course is not None and course.due_at is not None
    clock.set(course.due_at + timedelta(seconds=30))
    await tg.run_timers()
    written = 0
    for _ in range(60):
        course = course_of(tg.app, USER)
        assert course is not None
        if course.state != "checkin":
            break
        last = user.user.messages[-1]
        if last.buttons:
            await user.press_index(0)
        else:
            written += 1
            await user.send(ANSWER.format(n=written))
    assert course.state == "active" and written >= 3, course.state


async def safety_plan(user: Chat, first_step: str, people: str) -> None:
    await user.send("/safetyplan")
    await user.press("Ja, la oss lage den")
    steps = (first_step, "Gaa en tur", "Kafeen", people, "Fastlegen", "Rydde bort", "Barna mine")
    for number, text in enumerate(steps, start=1):
        if number == 5:
            await user.press("Ja, legg til noen")
        await user.send(text)


async def new_code(tg: Running, label: str) -> str:
    reply = await tg.chat(501).send(f"/newcode depression {label}")
    found = CODE.search(reply[-1].text or "")
    assert found is not None, reply
    return found.group(0)


def document(messages: list[SentMessage]) -> dict[str, Any]:
    sent = next(m for m in messages if m.method == "sendDocument")
    assert sent.document is not None
    data: dict[str, Any] = json.loads(sent.document)
    return data


# -- the tests --------------------------------------------------------------------------------


async def test_delete_leaves_no_byte_of_the_persons_words(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        kari = tg.chat(501)

        # The first course: a goal, a check-in, a safety plan, a risk message a clinician has seen.
        user = await enrol(tg, USER, "K-8001")
        await intake(user, GOAL_1)
        await checkin_by_timer(tg, clock, user)
        await safety_plan(user, PLAN_1, "Broren min")
        await user.send("jeg vil ta livet mitt QZXW-RISK-SEEN")
        [alert] = [m for m in team.messages if "K-8001" in (m.text or "") and m.buttons]
        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        case = await kari.send("/case K-8001")
        assert any(GOAL_1 in (m.text or "") for m in case) and any(PLAN_1 in (m.text or "") for m in case)
        await kari.send("/close K-8001 none")

        # The second course in the same chat, with a new code.
        await user.send(await new_code(tg, "K-8002"))
        await intake(user, GOAL_2)
        await safety_plan(user, PLAN_2, "Soster min")
        case = await kari.send("/case K-8002")
        assert any(GOAL_2 in (m.text or "") for m in case)

        # /mydata has both courses.
        exported = document(await user.send("/mydata"))
        assert exported["course"]["label"] == "K-8002"
        assert [c["course"]["label"] for c in exported["earlier_courses"]] == ["K-8001"]
        whole = json.dumps(exported, ensure_ascii=False)
        for text in (GOAL_1, GOAL_2, PLAN_1, PLAN_2, ANSWER.format(n=1), "QZXW-RISK-SEEN"):
            assert text in whole
        for token in (*TOKENS, "QZXW-RISK-SEEN"):
            assert rows_holding(tg, token), f"{token} should be stored before /delete"

        await user.send("/delete")
        done = await user.press("Ja, slett alt")
        assert "alt du har svart og skrevet" in (done[-1].text or "")
        assert "blir liggende" not in (done[-1].text or "")  # no open alert

        for token in (*TOKENS, "QZXW-RISK-SEEN", "K-8001", "K-8002"):
            assert rows_holding(tg, token) == [], token
            if database_url.startswith("sqlite"):
                assert bytes_holding(database_url, token) == [], token
        with transaction(tg.app.db) as session:
            assert session.exec(select(Course)).all() == [] and session.exec(select(Alert)).all() == []
            [deleted] = session.exec(select(AuditEntry).where(AuditEntry.action == "data_deleted")).all()
            assert deleted.subject is None and deleted.detail["courses"] == 2

        # The chat works on as one with no code.
        again = await user.send("/plan")
        assert again and "kode" in (again[-1].text or "")


async def test_an_open_alert_stays_after_delete_until_acknowledged_then_no_byte_is_left(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM)
        user = await enrol(tg, USER, "K-8003")
        await intake(user, GOAL_1)
        await user.send(RISK)
        [confirm] = await user.send("/delete")
        assert "blir liggende til en veileder har sett det" in (confirm.text or "")
        done = await user.press("Ja, slett alt")
        assert any("blir liggende" in (m.text or "") for m in done)

        # The goal is gone; the alert stays with the words that raised it, for the clinicians.
        assert rows_holding(tg, "QZXW-GOAL-ONE") == [] and bytes_holding(sqlite_url, "QZXW-GOAL-ONE") == []
        assert [row.split(":")[0] for row in rows_holding(tg, "QZXW-RISK-OPEN")] == ["alert"]
        [alert] = [m for m in team.messages if "K-8003" in (m.text or "") and m.buttons]
        await team.press(501, alert, "Vis sak")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        view = tg.chat(501).user.messages[-1].text or ""
        assert "har slettet dataene sine" in view and RISK in view

        await team.press(501, alert, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert "kvittert" in (team.messages[-1].text or "")
        assert not [m for m in team.messages if m.message_id == alert.message_id and m.buttons]
        assert rows_holding(tg, "QZXW-RISK-OPEN") == [] and bytes_holding(sqlite_url, "QZXW-RISK-OPEN") == []
        # Only the team's notice that the alert was handled names the case, as it must.
        [notice] = rows_holding(tg, "K-8003")
        assert "er kvittert av Kari" in notice
        with transaction(tg.app.db) as session:
            assert session.exec(select(Alert)).all() == []
            lines = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
            assert [line.action for line in lines if line.action in ("alert_acknowledged", "alert_erased")] == [
                "alert_acknowledged",
                "alert_erased",
            ]


def test_every_sqlite_connection_overwrites_what_is_deleted(sqlite_url: str) -> None:
    """PRAGMA secure_delete on each pooled connection (some SQLite builds have it off by default)."""
    engine = make_engine(sqlite_url)
    try:
        connections = [engine.raw_connection() for _ in range(3)]
        assert [c.cursor().execute("PRAGMA secure_delete").fetchone() for c in connections] == [(1,)] * 3
        for connection in connections:
            connection.close()
    finally:
        engine.dispose()
