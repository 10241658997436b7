"""A whole course over Telegram, through the fake Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlmodel import col, select

from bot.clock import FakeClock
from bot.dialogs.contract import USER_COMMANDS
from bot.links import deep_link
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, Course, InboxItem, Score
from tests.fakes import FakeTelegram
from tests.support.telegram_harness import (
    FAST,
    answer_measure,
    answers_of,
    course_of,
    do_checkin,
    do_closing,
    do_intake,
    inbox_rows,
    running_bot,
)

WEEKS = [
    ([2, 2, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]),
    ([1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0, 1]),
    ([1, 1, 1, 0, 1, 0, 1, 0, 0], [1, 1, 0, 1, 0, 0, 1]),
    ([1, 1, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0]),
]


async def test_a_whole_course_over_telegram(database_url: str, clock: FakeClock) -> None:
    async with running_bot(database_url, clock) as tg:
        renderer = tg.app.dialogs.current.renderer
        link = deep_link(tg.app.settings, tg.code("depression", "K-7001"))
        assert link is not None and link.startswith("https://t.me/guidebot_test_bot?start=")
        user = tg.chat(42)

        # The deep link opens the chat with "/start CODE", and the intake begins.
        welcome = await user.send("/start " + link.split("start=", 1)[1])
        assert welcome[0].text is not None and welcome[0].text.startswith("Velkommen!")
        assert welcome[-1].buttons == ["Ja, vi fortsetter", "Nei, ikke nå"]
        await do_intake(user)
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "active" and course.week == 2
        assert (course.checkin_weekday, course.checkin_time) == (3, "18:30")

        # The first check-in comes by itself at the chosen day and time (the scheduler, a DB loop).
        assert course.due_at is not None
        clock.set(course.due_at - timedelta(minutes=1))
        assert await tg.run_timers() == 0
        clock.set(course.due_at + timedelta(seconds=30))
        before = len(user.user.messages)
        assert await tg.run_timers() == 1
        assert any("uke 2" in (m.text or "") for m in user.user.messages[before:])
        await do_checkin(user, *WEEKS[0])

        # The next check-ins through /checkin.
        for phq, gad in WEEKS[1:]:
            clock.advance(days=4)  # past the gap (schedule.yaml: min_days_between_checkins)
            await user.send("/checkin")
            await do_checkin(user, phq, gad)
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "active" and course.week == 6

        # The closing, with the chart of PHQ-9 and GAD-7 by week as a PNG photo.
        clock.advance(days=4)
        await user.send("/checkin")
        await do_closing(user, [1, 0, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0])
        chart = next(m for m in user.user.messages if m.method == "sendPhoto")
        assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")
        assert chart.text == renderer.render("nb", "chart.caption", {})
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "completed" and course.finished_at is not None
        # Nothing more of the course is due; only the first booster, a month on (schedule.yaml: booster_days).
        assert (course.due_kind, course.due_at) == ("booster", course.finished_at + timedelta(days=30))
        with transaction(tg.app.db) as session:
            scores = session.exec(
                select(Score).where(Score.course_id == course.id, Score.instrument == "phq9").order_by(col(Score.week))
            ).all()
        assert [s.total for s in scores] == [12, 10, 7, 5, 3, 2]

        # Every answer stored once, every button answered, every pressed keyboard taken away.
        stored = Counter((a.week, a.key) for a in answers_of(tg.app, 42))
        assert stored and max(stored.values()) == 1
        assert tg.server.unanswered_callback_queries == []
        pressed = {
            int(u["callback_query"]["message"]["message_id"]) for u in tg.server.updates if "callback_query" in u
        }
        assert len(pressed) > 100
        assert [m.message_id for m in user.user.messages if m.buttons and m.message_id in pressed] == []
        data = [
            b["callback_data"]
            for m in user.user.messages
            for row in m.params.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row
        ]
        assert data and max(len(d.encode()) for d in data) <= 64

        # The inbox keeps the update ids (against redelivery), not what was written.
        assert all(row.processed_at is not None and row.payload == {} for row in inbox_rows(tg.app))

        # A month after the closing the first booster comes by itself: five taps (PHQ-2, GAD-2 and
        # the risk item), the safety plan, and an offer to talk to the clinician.
        finished = course.finished_at
        clock.set(finished + timedelta(days=30, seconds=1))
        before = len(user.user.messages)
        assert await tg.run_timers() >= 1
        assert (user.user.messages[before].text or "").startswith("Hei igjen!")
        await answer_measure(user, [0, 1, 0, 1, 0])
        assert user.question().buttons == ["Ja, gjerne", "Nei takk"]
        replies = await user.press("Nei takk")
        assert "Takk for at du tok deg tid" in (replies[-1].text or "")
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "completed" and course.flow is None
        assert course.due_kind == "booster" and course.due_at == finished + timedelta(days=91)


async def test_command_menus_in_norwegian_and_english(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        renderer = tg.app.dialogs.current.renderer
        # Registered once the bot is ready, off the path to ready (runtime._register_menu).
        await tg.server.wait_until(lambda: all(tg.server.menu(language) for language in ("nb", "en", "")))
        for language, locale in (("nb", "nb"), ("en", "en"), ("", "nb")):
            menu = tg.server.menu(language)
            assert [c["command"] for c in menu] == list(USER_COMMANDS)
            assert [c["description"] for c in menu] == [
                renderer.render(locale, f"commands.{n}", {}) for n in USER_COMMANDS
            ]
        assert tg.server.menu("en")[0]["description"] == "Start, or type your access code"


async def test_the_bot_takes_messages_while_telegram_still_holds_the_menus(sqlite_url: str) -> None:
    """The command menus are registered off the path to ready: a bot that waited for them before
    taking messages would never answer here, as Telegram holds every setMyCommands for an hour."""
    async with FakeTelegram() as server:
        server.faults.add("setMyCommands", kind="timeout", delay=3600, count=100)
        async with (
            asyncio.timeout(60),
            running_bot(sqlite_url, server=server, tuning=replace(FAST, read_timeout=3600)) as tg,
        ):
            user = tg.chat(42)
            welcome = await user.send(f"/start {tg.code('depression', 'K-7002')}")
            assert welcome and welcome[0].text
            assert any(c.method == "setMyCommands" and not c.status for c in server.all_calls)


async def test_mydata_sends_a_json_file_and_delete_erases_everything(sqlite_url: str) -> None:
    async with running_bot(sqlite_url) as tg:
        user = tg.chat(42)
        await user.send(f"/start {tg.code('depression', 'K-7002')}")
        await user.press("Ja, vi fortsetter")
        await user.press("30–49")

        sent = await user.send("/mydata")
        document = next(m for m in sent if m.method == "sendDocument")
        assert document.filename == "guidebot-K-7002.json"
        assert document.text == "Her er alt som er lagret om deg."
        assert document.document is not None
        exported = json.loads(document.document)
        assert exported["course"]["label"] == "K-7002"
        assert {a["key"]: a["value"] for a in exported["answers"]} == {"consent": "yes", "age_band": "30_49"}

        await user.send("/delete")
        cancelled = await user.press("Nei, behold det")
        assert course_of(tg.app, 42) is not None and cancelled
        await user.send("/delete")
        done = await user.press("Ja, slett alt")
        assert done[-1].text is not None and "slettet" in done[-1].text
        assert course_of(tg.app, 42) is None
        with transaction(tg.app.db) as session:
            assert session.exec(select(Course)).all() == []
            assert all(row.payload == {} for row in session.exec(select(InboxItem)).all())
            deleted = session.exec(select(AuditEntry).where(AuditEntry.action == "data_deleted")).one()
            assert deleted.subject is None
            assert session.exec(select(AuditEntry).where(AuditEntry.subject == "K-7002")).all() == []
