"""The garbage collector waits while a command starts and is back once it is under way
(bot/collector.py, bot/entry.py): a fifth of `guidebot run`'s start-up, without ever leaving a
process that collects no garbage."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Iterator

import aiohttp
import pytest
from typer.testing import CliRunner

from bot import collector
from bot.app import build_app
from bot.channels.telegram import runner
from bot.cli import app as cli
from tests.fakes import TOKEN, FakeTelegram
from tests.support.settings import make_settings
from tests.support.telegram_harness import BotProcess, free_port
from tests.test_telegram_process import issue_code


@pytest.fixture
def paused_here() -> Iterator[None]:
    """This test process as `bot.entry.main` leaves it, and as it was afterwards."""
    was = gc.isenabled()
    collector.pause()
    try:
        yield
    finally:
        collector.started()
        gc.unfreeze()
        if not was:
            gc.disable()


def test_a_command_runs_with_the_collector_back(paused_here: None) -> None:
    assert not gc.isenabled()
    result = CliRunner().invoke(cli, ["privacy", "inventory"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0, "what start-up made is kept out of later collections"
    assert not collector.paused()


def test_only_its_own_pause_is_ended() -> None:
    was = gc.isenabled()
    gc.disable()  # a process that turned the collector off itself
    try:
        collector.pause()
        collector.started()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.enable()


def gen0_collections(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith('python_gc_collections_total{generation="0"}'):
            return float(line.split()[-1])
    raise AssertionError("no python_gc_collections_total in /metrics")


async def test_guidebot_run_collects_garbage_once_ready(sqlite_url: str) -> None:
    """The installed `guidebot` command (bot.entry:main) pauses the collector while it starts; a bot
    that never resumed it would count no collection after its start, however much it did."""
    code = issue_code(sqlite_url)
    port = free_port()

    async def collections() -> float:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
            return gen0_collections(await response.text())

    async with FakeTelegram() as server:
        user = server.user(42)
        process = BotProcess(server, sqlite_url, GUIDEBOT_METRICS_LISTEN=f"127.0.0.1:{port}")
        await process.start()
        await user.send(f"/start {code}")
        question = await user.wait_for_message(lambda m: bool(m.buttons), timeout=30)
        at_first_reply = await collections()  # Python's own start counts some, before the pause
        await user.press(question, question.buttons[0])
        await user.wait_for_message(lambda m: bool(m.buttons) and m is not question, timeout=30)
        after_a_turn = await collections()
        assert await process.stop() == 0
    assert after_a_turn > at_first_reply


async def test_a_start_that_waits_for_telegram_collects_garbage_meanwhile(
    sqlite_url: str, paused_here: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram out of reach: the start tries again and again, making garbage each time; the
    collector is back after PAUSE_AT_MOST seconds even though the bot is not ready."""
    resumed = asyncio.Event()

    def resume() -> None:
        collector.started()
        resumed.set()

    monkeypatch.setattr(runner, "PAUSE_AT_MOST", 0.05)
    monkeypatch.setattr(runner, "started", resume)
    async with FakeTelegram() as server:
        server.faults.add("getMe", kind="500", count=10_000)
        app = build_app(
            make_settings(sqlite_url, telegram_token=TOKEN, telegram_api_url=server.base_url.removesuffix("/bot"))
        )
        serving = asyncio.create_task(runner.serve(app, runner.failpoint_from_env()))
        try:
            await asyncio.wait_for(resumed.wait(), 30)
            assert gc.isenabled() and not collector.paused()
            assert not any(c.method == "getMe" and c.status == 200 for c in server.all_calls), "not ready"
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # as a service manager stops it
            await asyncio.wait_for(serving, 30)
            app.db.dispose()
