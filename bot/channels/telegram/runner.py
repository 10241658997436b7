"""`guidebot run` with a token: the Telegram bot until SIGINT or SIGTERM; SIGHUP reloads the dialogs."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from telegram.error import InvalidToken

from bot.app import App
from bot.channels.telegram.runtime import NO_TEAM_CHAT, SettingsProblem, TelegramBot, Tuning
from bot.channels.telegram.worker import Failpoint
from bot.collector import started
from bot.config import Settings
from bot.startup import fail, load_app

log = logging.getLogger(__name__)

FAILPOINT_ENV = "GUIDEBOT_FAILPOINT"
PAUSE_AT_MOST = 5.0  # seconds
BAD_TOKEN = (
    "guidebot: Telegram did not accept the bot token. Set GUIDEBOT_TELEGRAM_TOKEN to the token "  # noqa: S105
    "@BotFather gave you."
)
NO_TOKEN = "guidebot: no bot token. Set GUIDEBOT_TELEGRAM_TOKEN to the token @BotFather gave you."  # noqa: S105


def failpoint_from_env() -> Failpoint:
    """For crash tests: GUIDEBOT_FAILPOINT=after_intake or after_commit kills the process
    (SIGKILL, nothing cleaned up) the first time it passes that point."""
    chosen = os.environ.get(FAILPOINT_ENV, "")

    def failpoint(name: str) -> None:
        if name == chosen:
            log.warning("failpoint %s reached: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)

    return failpoint


def run_bot(settings: Settings, role: str = "all") -> None:
    """Start, or say in one line what to set. The database migration's own chatter is kept out."""
    if not settings.telegram_token.strip():
        raise fail(NO_TOKEN)
    if settings.clinician_chat_id is None:
        raise fail(f"guidebot: {NO_TEAM_CHAT}")  # an alert must never go nowhere
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = load_app(settings)
    try:
        asyncio.run(serve(app, failpoint_from_env(), role))
    except InvalidToken:
        raise fail(BAD_TOKEN) from None
    except SettingsProblem as exc:
        raise fail(f"guidebot: {exc}") from None
    finally:
        app.db.dispose()


async def serve(app: App, failpoint: Failpoint, role: str = "all") -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtime = TelegramBot(app, tuning=Tuning(role=role), failpoint=failpoint)
    reloads: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        task = asyncio.create_task(runtime.reload_dialogs())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    # The collector, paused while starting (bot/collector.py), is back once ready, or at the latest after
    # PAUSE_AT_MOST seconds: a start that waits (Telegram out of reach, the learned net training) makes
    # garbage with each try, and must not keep it.
    resume = loop.call_later(PAUSE_AT_MOST, started)
    starting = asyncio.create_task(runtime.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    try:
        if not starting.done():
            log.info("stopping before Telegram answered")
            starting.cancel()
        else:
            starting.result()
            started()
            ended = asyncio.create_task(runtime.stopped.wait())
            await asyncio.wait({stopping, ended}, return_when=asyncio.FIRST_COMPLETED)
            ended.cancel()
        log.info("stopping")
    finally:
        resume.cancel()
        stopping.cancel()
        await asyncio.gather(*reloads, return_exceptions=True)
        await runtime.stop()
    if runtime.error is not None:
        raise runtime.error
    log.info("stopped")
