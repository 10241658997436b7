"""Runs stored updates through the engine: each chat's strictly in order, a few chats at once.

Every inbox row is one transaction: the engine's changes, its outbox rows and the
row's `processed_at` commit together. A row that keeps failing is retried a few
times, then set aside with an apology to the user, so one bad update never
wedges a chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, col, select

from bot.app import App
from bot.channels.telegram.activity import Activity
from bot.channels.telegram.database import Database
from bot.channels.telegram.inbox import Stored, claim, count_failure, earlier_pending, lock_chat, pending_rows
from bot.channels.telegram.privacy import describe
from bot.channels.telegram.updates import refused_press, to_event, update_id_of
from bot.engine.events import Event
from bot.engine.outgoing import Outbox
from bot.ops.metrics import update_timer
from bot.storage.models import Course

log = logging.getLogger(__name__)


class Wake(Protocol):
    """New outbox rows were committed; `chat_id` if they answer a person who just wrote there."""

    def __call__(self, chat_id: int | None = None) -> None: ...


Failpoint = Callable[[str], None]

MAX_ATTEMPTS = 3


class Worker:
    def __init__(
        self,
        app: App,
        db: Database,
        bot_username: str,
        wake_sender: Wake,
        activity: Activity,
        *,
        concurrency: int,
        failpoint: Failpoint,
        retry_delay: float = 0.2,
    ) -> None:
        self.app = app
        self.db = db
        self.bot_username = bot_username
        self.wake_sender = wake_sender
        self.activity = activity
        self.failpoint = failpoint
        self.retry_delay = retry_delay
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[int, deque[Stored]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._known: set[int] = set()
        self._stopping = asyncio.Event()

    # -- feeding -----------------------------------------------------------------

    def submit(self, rows: Iterable[Stored]) -> None:
        for row in rows:
            if row.row_id in self._known or self._stopping.is_set():
                continue
            self._known.add(row.row_id)
            self._queues.setdefault(row.chat_id, deque()).append(row)
            if row.chat_id not in self._tasks:
                task = asyncio.create_task(self._drain(row.chat_id), name=f"chat-{row.chat_id}")
                self._tasks[row.chat_id] = task
                self.activity.track(task)

    async def load_pending(self) -> None:
        """Queue every stored row not yet processed (left from a crash, or missed)."""
        self.submit(await self.db.run(pending_rows))

    async def stop(self) -> None:
        """Finish the rows being processed now; the rest wait in the inbox for the next start."""
        self._stopping.set()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    # -- one chat ----------------------------------------------------------------

    async def _drain(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue and not self._stopping.is_set():
                async with self._slots:
                    if self._stopping.is_set():
                        break
                    await self._process(queue[0])
                self._known.discard(queue.popleft().row_id)
        finally:
            del self._tasks[chat_id]
            self._known.difference_update(row.row_id for row in self._queues.pop(chat_id))

    async def _process(self, row: Stored) -> None:
        while not self._stopping.is_set():
            try:
                with update_timer():
                    earlier = await self.db.run(lambda session: self._handle(session, row))
            except Exception as exc:  # noqa: BLE001 (a bug or a database fault; counted below)
                log.warning("inbox row %s failed: %s", row.row_id, describe(exc))
                if await self._failed(row):
                    return
                await self._pause(self.retry_delay)
                continue
            if earlier is not None:
                # Another process took in an earlier update of this chat and has not applied
                # it (or died): it goes first, then this one.
                await self._process(earlier)
                continue
            self.failpoint("after_commit")
            self.wake_sender(row.chat_id)
            return

    async def _failed(self, row: Stored) -> bool:
        """Count a failure; True when the row was given up."""
        try:
            attempts = await self.db.run(lambda session: count_failure(session, row.row_id))
            if attempts < MAX_ATTEMPTS:
                return False
            await self.db.run(lambda session: self._give_up(session, row))
        except Exception as exc:  # noqa: BLE001 (the database is down; the row stays pending)
            log.error("inbox row %s: could not record the failure: %s", row.row_id, describe(exc))
            return False
        log.error("inbox row %s failed %s times and was set aside; the user was told", row.row_id, attempts)
        self.wake_sender()
        return True

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # -- in a database thread ----------------------------------------------------

    def _handle(self, session: Session, row: Stored) -> Stored | None:
        """Apply the row; or, when the chat has an earlier update nobody applied yet, return that one.

        On PostgreSQL several processes share the inbox: the chat is locked for the
        transaction, so its updates are applied one at a time, in update_id order.
        """
        now = self.app.engine.clock.now()
        if not self.db.sqlite:
            lock_chat(session, row.chat_id)
            update_id = update_id_of(row.update)
            earlier = earlier_pending(session, row.chat_id, update_id) if update_id is not None else None
            if earlier is not None:
                return earlier
        if not claim(session, row.row_id, now):
            return None
        refused = refused_press(row.update)
        if refused is not None:
            self._answer_refused(session, row, refused, now)
            return None
        event = to_event(row.update, self.bot_username)
        if event is not None:
            self.app.engine.handle(session, event)
        return None

    def _answer_refused(self, session: Session, row: Stored, query_id: str, now: datetime) -> None:
        """A press the engine does not take (someone else's, in the wrong place, or without data)
        changes nothing, but is answered, in the presser's language, so their button stops spinning."""
        log.info("inbox row %s: a button press the engine does not take was answered", row.row_id)
        presser = row.update["callback_query"].get("from") or {}
        language = presser.get("language_code") if isinstance(presser.get("language_code"), str) else None
        current = self.app.dialogs.current
        locale = current.dialogs.locale_for(language, self.app.settings.locale)
        text = current.renderer.render(locale, "common.stale_button", {})
        Outbox(session, now).answer_callback(row.chat_id, query_id, text)

    def _give_up(self, session: Session, row: Stored) -> None:
        now = self.app.engine.clock.now()
        if not claim(session, row.row_id, now):
            return
        try:
            event = to_event(row.update, self.bot_username)
        except (TypeError, ValueError, KeyError, AttributeError):
            return  # stored before intake checked updates; nothing can be said to anyone
        if event is None or not event.chat_id or event.kind == "blocked":
            return
        outbox = Outbox(session, now)
        if event.callback_id:
            outbox.answer_callback(event.chat_id, event.callback_id)
        outbox.text(event.chat_id, self._error_text(session, event))

    def _error_text(self, session: Session, event: Event) -> str:
        locale = session.exec(
            select(Course.locale).where(Course.chat_id == event.chat_id).order_by(col(Course.id).desc())
        ).first() or self.app.dialogs.current.dialogs.locale_for(event.language, self.app.settings.locale)
        return self.app.dialogs.current.renderer.render(locale, "common.error", {})
