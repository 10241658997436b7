"""`guidebot run` as a process: killed hard at the worst moments, stopped cleanly, bad settings, private logs."""

from __future__ import annotations

import logging
import shutil
import signal
from pathlib import Path

import pytest
import typer
from sqlmodel import col, select

from bot.app import App, build_app
from bot.channels.telegram.runner import NO_TOKEN, run_bot
from bot.config import DEFAULT_DIALOGS_DIR
from bot.storage.db import transaction
from bot.storage.models import Answer, Course, InboxItem
from tests.fakes import TOKEN, FakeTelegram
from tests.support.settings import make_settings
from tests.support.telegram_harness import BotProcess, new_code, running_bot


def opened(sqlite_url: str) -> App:
    return build_app(make_settings(sqlite_url), run_migrations=False)


def issue_code(sqlite_url: str) -> str:
    app = opened(sqlite_url)
    try:
        return new_code(app, "depression", "K-5001")
    finally:
        app.db.dispose()


def stored(sqlite_url: str) -> tuple[list[InboxItem], list[Course], list[Answer]]:
    app = opened(sqlite_url)
    try:
        with transaction(app.db) as session:
            return (
                list(session.exec(select(InboxItem).order_by(col(InboxItem.id))).all()),
                list(session.exec(select(Course)).all()),
                list(session.exec(select(Answer).order_by(col(Answer.id))).all()),
            )
    finally:
        app.db.dispose()


def clean_log(process: BotProcess, *secrets: str) -> None:
    assert "Traceback" not in process.stderr
    for secret in (TOKEN, *secrets):
        assert secret not in process.stderr


async def test_killed_after_an_update_was_stored_and_again_after_it_was_committed(sqlite_url: str) -> None:
    code = issue_code(sqlite_url)
    async with FakeTelegram() as server:
        user = server.user(42)

        # 1. Killed right after the update was stored, before the engine saw it.
        first = BotProcess(server, sqlite_url, GUIDEBOT_FAILPOINT="after_intake")
        await first.start()
        update_id = await user.send(f"/start {code}")
        assert await first.wait() == -signal.SIGKILL
        inbox, courses, _ = stored(sqlite_url)
        assert [(row.update_id, row.processed_at) for row in inbox] == [(update_id, None)]
        assert courses == [] and user.messages == []

        # 2. The next start processes it (Telegram also sends it again: the inbox has it already),
        #    and is killed right after the commit, before any reply went out.
        second = BotProcess(server, sqlite_url, GUIDEBOT_FAILPOINT="after_commit")
        await second.start()
        assert await second.wait() == -signal.SIGKILL
        inbox, courses, _ = stored(sqlite_url)
        assert [row.update_id for row in inbox] == [update_id] and inbox[0].processed_at is not None
        assert [course.chat_id for course in courses] == [42] and user.messages == []

        # 3. The third start delivers what was committed; the course goes on.
        third = BotProcess(server, sqlite_url)
        await third.start()
        question = await user.wait_for_message(lambda m: bool(m.buttons), timeout=30)
        assert question.buttons == ["Ja, vi fortsetter", "Nei, ikke nå"]
        await user.press(question, "Ja, vi fortsetter")
        await user.wait_for_message(lambda m: "gammel" in (m.text or ""), timeout=30)
        assert await third.stop() == 0
        inbox, courses, answers = stored(sqlite_url)
        assert [row.update_id for row in inbox] == [update_id, update_id + 1]
        assert len(courses) == 1 and [(a.key, a.value) for a in answers] == [("consent", "yes")]
        assert [m.text for m in user.messages].count(question.text) == 1
        assert len([m for m in user.messages if "gammel" in (m.text or "")]) == 1
        clean_log(third, code)


async def test_killed_while_the_reply_was_on_its_way_and_stopped_cleanly(sqlite_url: str) -> None:
    code = issue_code(sqlite_url)
    async with FakeTelegram() as server:
        user = server.user(42)
        first = BotProcess(server, sqlite_url)
        await first.start()
        await user.send(f"/start {code}")
        await user.wait_for_message(lambda m: bool(m.buttons), timeout=30)

        server.faults.add("sendMessage", kind="timeout", delay=60)  # Telegram hangs on the next reply
        await user.press("Ja, vi fortsetter")
        await server.wait_until(lambda: any(c.method == "sendMessage" and not c.status for c in server.all_calls))
        assert await first.kill() == -signal.SIGKILL

        second = BotProcess(server, sqlite_url)
        await second.start()
        await user.wait_for_message(lambda m: "gammel" in (m.text or ""), timeout=30)
        menus = len(server.command_menus)
        await server.wait_until(lambda: sum(c.method == "setMyCommands" for c in server.all_calls) == 2 * menus)
        second.process.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        # The dialogs reload, and with them the command menus.
        await server.wait_until(lambda: sum(c.method == "setMyCommands" for c in server.all_calls) == 3 * menus, 30)
        assert await second.stop() == 0
        assert "dialogs reloaded" in second.stderr and second.stderr.rstrip().endswith("stopped")
        _, _, answers = stored(sqlite_url)
        assert [(a.key, a.value) for a in answers] == [("consent", "yes")]
        assert len([m for m in user.messages if "gammel" in (m.text or "")]) == 1
        clean_log(second, code)


async def test_a_wrong_token_is_one_line_that_says_what_to_set(sqlite_url: str) -> None:
    async with FakeTelegram() as server:
        process = BotProcess(server, sqlite_url, GUIDEBOT_TELEGRAM_TOKEN="999:not-the-right-token")
        await process.start()
        assert await process.wait() == 1
    lines = process.stderr.strip().splitlines()
    assert len(lines) == 1 and "GUIDEBOT_TELEGRAM_TOKEN" in lines[0]
    clean_log(process, "not-the-right-token")


def test_no_token_and_broken_dialogs_are_refused_in_one_message(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    with pytest.raises(typer.Exit):
        run_bot(make_settings(sqlite_url, telegram_token=""))
    assert capsys.readouterr().err.strip() == NO_TOKEN

    broken = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, broken)
    (broken / "flows" / "intake.yaml").write_text("id: intake\nstart: nowhere\nsteps: {}\n")
    with pytest.raises(typer.Exit):
        run_bot(make_settings(sqlite_url, telegram_token=TOKEN, dialogs_dir=broken))
    err = capsys.readouterr().err
    assert "the dialog files have problems, so nothing was started" in err and "intake.yaml" in err
    assert "Traceback" not in err


async def test_logs_hold_no_token_and_no_text_even_at_debug(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(sqlite_url) as tg:
        chat = tg.chat(42)
        await chat.send(f"/start {tg.code()}")
        await chat.press("Ja, vi fortsetter")
        await chat.send("Et hemmelig svar om søvnen min")
        tg.server.faults.add("sendMessage", kind="500")
        await chat.send("/help")
        replies = [m.text or "" for m in chat.user.messages]
    assert caplog.records, "nothing was logged at all"
    logged = caplog.text
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "hemmelig svar" not in logged
    assert all(reply.split("\n")[0] not in logged for reply in replies if len(reply) > 20)
