"""Getting updates from Telegram: stored in the inbox first, acknowledged after.

Long polling: the offset that tells Telegram "received" is only sent in the next
getUpdates, after the batch is committed. A crash before that makes Telegram send
the batch again, and the inbox drops the update_ids it already has.

Webhook: the update is committed before the 200 goes back; anything else makes
Telegram try again. A request without the right secret token gets 403 and
changes nothing.

Either way a malformed update (a chat id that is not a number, say) is set aside
alone, logged without its content (inbox.store_updates); the rest go on, and the
webhook answers it 200, since sending it again would change nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import warnings
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.activity import Activity
from bot.channels.telegram.backoff import Backoff
from bot.channels.telegram.database import Database
from bot.channels.telegram.inbox import store_updates
from bot.channels.telegram.privacy import describe
from bot.channels.telegram.updates import ALLOWED_UPDATES, Update, update_id_of
from bot.channels.telegram.worker import Failpoint, Worker
from bot.config import parse_listen
from bot.ops.metrics import count_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)

Clock = Callable[[], datetime]


class Poller:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        worker: Worker,
        activity: Activity,
        now: Clock,
        *,
        timeout: int,
        backoff: Backoff,
        failpoint: Failpoint,
    ) -> None:
        self.bot = bot
        self.db = db
        self.worker = worker
        self.activity = activity
        self.now = now
        self.timeout = timeout
        self.backoff = backoff
        self.failpoint = failpoint
        self.offset: int | None = None

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                updates = await self._get_updates()
            except InvalidToken:
                raise
            except Conflict:
                failures += 1
                log.warning("another process is polling with this bot token; waiting for it to stop")
                await asyncio.sleep(self.backoff.delay(failures))
                continue
            except TelegramError as exc:
                failures += 1
                log.warning("getUpdates failed (%s); trying again", type(exc).__name__)
                await asyncio.sleep(self.backoff.delay(failures))
                continue
            failures = 0
            if not updates:
                continue
            try:
                rows = await self.db.run(partial(store_updates, updates=updates, now=self.now()))
            except Exception as exc:  # noqa: BLE001 (not stored, so not confirmed: Telegram sends them again)
                failures += 1
                log.error("could not store %s updates: %s", len(updates), describe(exc))
                await asyncio.sleep(self.backoff.delay(failures))
                continue
            self.failpoint("after_intake")
            count_update(len(rows))
            self.worker.submit(rows)
            last = max(
                (update_id for update in updates if (update_id := update_id_of(update)) is not None), default=None
            )
            if last is not None:
                self.activity.received(last)
                self.offset = last + 1

    async def _get_updates(self) -> list[Update]:
        """getUpdates as the raw JSON, which is what the inbox stores.

        Bot.get_updates would parse each update into objects, only for them to be turned
        back into JSON, and when parsing fails it logs the raw updates, text and all.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBUserWarning)  # "use Bot.get_updates": see above
            result = await self.bot.do_api_request(
                "get_updates",
                api_kwargs={"offset": self.offset, "timeout": self.timeout, "allowed_updates": list(ALLOWED_UPDATES)},
                read_timeout=self.bot.request.read_timeout + self.timeout if self.bot.request.read_timeout else None,
            )
        return [update for update in result if isinstance(update, dict)]

    async def confirm(self) -> None:
        """Tell Telegram which updates are stored, so a clean restart does not get them again."""
        if self.offset is None:
            return
        with suppress(TelegramError):
            await self.bot.get_updates(offset=self.offset, limit=1, timeout=0)


class WebhookServer:
    def __init__(
        self,
        db: Database,
        worker: Worker,
        activity: Activity,
        now: Clock,
        *,
        secret: str,
        listen: str,
        path: str,
        failpoint: Failpoint,
    ) -> None:
        self.db = db
        self.worker = worker
        self.activity = activity
        self.now = now
        self.secret = secret.encode()
        self.host, self.port = parse_listen(listen)
        self.path = path or "/"
        self.failpoint = failpoint
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            log.warning("webhook request without the right secret token refused")
            return web.Response(status=403)
        try:
            update: Any = await request.json()
        except ValueError:
            return web.Response(status=400)
        update_id = update_id_of(update)
        if update_id is None:  # nothing to store or to tell apart; a 200, or Telegram sends it again and again
            log.warning("a webhook update without a usable update_id was set aside")
            return web.Response(status=200)
        try:
            rows = await self.db.run(lambda session: store_updates(session, [update], self.now()))
        except Exception as exc:  # noqa: BLE001 (not stored: a 500 makes Telegram send it again)
            log.error("could not store a webhook update: %s", describe(exc))
            return web.Response(status=500)
        self.failpoint("after_intake")
        count_update(len(rows))
        self.worker.submit(rows)
        self.activity.received(update_id)
        return web.Response(status=200)
