"""Delivers the outbox: each chat's rows in id order, at least once, within Telegram's limits.

- Rows are loaded by id above the highest seen, whenever the worker, the timers or
  the blocked-user handling committed new ones; a periodic scan catches the rest
  (rows left from a crash, or written by another process).
- Messages wait for their turn under Telegram's limits (pacing.py: alerts first, then
  chats in conversation, then the oldest row). Button answers (answerCallbackQuery)
  are no messages and wait for nothing: they go at once, beside the chats' queues, on
  connections of their own, since Telegram drops an answer after about 15 seconds.
- 429: wait `retry_after` (this chat only), then the same row again.
- 5xx, timeouts, network trouble: again, with growing pauses. Nothing is dropped.
- Forbidden (the user blocked the bot): the chat's rows are set aside and the engine
  hears of it, so the course is marked unreachable and the team told.
- Bad Request: the row can never be sent, so it is set aside with the reason; for a
  callback answer or a keyboard removal that just means there is nothing left to do.
- A row is marked sent after Telegram accepted it (marks are written in batches);
  a crash in between sends it again at the next start.
"""

from __future__ import annotations

import asyncio
import bisect
import enum
import logging
import warnings
from collections import deque
from contextlib import AbstractAsyncContextManager, suppress
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import Session
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.app import App
from bot.channels.telegram.activity import Activity
from bot.channels.telegram.backoff import Backoff
from bot.channels.telegram.database import Database
from bot.channels.telegram.messages import Part, parts_for
from bot.channels.telegram.outbox import (
    BATCH,
    SCAN_IDS,
    Delivered,
    Pending,
    drop_pending,
    due_ids,
    load_due,
    load_rows,
    mark_failed,
    mark_sent,
    set_aside_unreachable,
)
from bot.channels.telegram.pacing import Closed, Pacer, SendLimits
from bot.channels.telegram.privacy import describe
from bot.engine.events import Event
from bot.engine.team_chat import mark_reachable

log = logging.getLogger(__name__)

MAX_OTHER_ERRORS = 5
RECENT = 20_000  # rows marked sent that a later load may still see unsent
ANSWER_CONNECTIONS = 2  # for button answers, beside the messages' connections
# Bad Request answers that mean the team chat cannot take the bot's messages at all.
TEAM_CHAT_GONE = ("chat not found", "not enough rights", "have no rights", "not a member")


class Outcome(enum.Enum):
    SENT = "sent"
    SET_ASIDE = "set aside"
    BLOCKED = "blocked"
    STOPPED = "stopped"


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Sender:
    def __init__(
        self,
        bot: Bot,
        app: App,
        db: Database,
        activity: Activity,
        *,
        limits: SendLimits,
        concurrency: int,
        backoff: Backoff,
        mark_every: float,
    ) -> None:
        self.bot = bot
        self.app = app
        self.db = db
        self.activity = activity
        self.backoff = backoff
        self.mark_every = mark_every
        self._pacer = Pacer(limits, concurrency)
        self._answer_slots = asyncio.Semaphore(ANSWER_CONNECTIONS)
        self._queues: dict[int, list[Pending]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._answering: set[asyncio.Task[None]] = set()
        self._known: set[int] = set()  # queued, being sent, or sent and not yet marked
        # Rows marked sent lately: a load that read the outbox before their mark committed
        # must not queue them again (with the elected sender's frequent polls, it happens).
        self._recent: deque[int] = deque(maxlen=RECENT)
        self._recent_set: set[int] = set()
        self._highest = 0
        # How far below the highest row seen to look again for new rows. With several
        # processes on PostgreSQL a row can commit after a higher one did; looking a little
        # back finds it at once instead of at the next full scan.
        self.lookback = 0
        self._wanted = False
        self._loading: asyncio.Task[None] | None = None
        self._marks: list[Delivered] = []
        self._marking: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._team_chat = app.settings.clinician_chat_id
        self._team_down: bool | None = None  # None: not known; looked up after the next delivery there
        # Groups Telegram made supergroups (a new id for good), learned from its refusals: later rows
        # for the old id go straight to the new one, not first to a refusal each.
        self._moved: dict[int, int] = {}

    # -- finding rows ------------------------------------------------------------

    def wake(self, chat_id: int | None = None) -> None:
        """New rows were committed: load them (at once, or right after the load under way).

        `chat_id`: they answer a person who just wrote there, so they go before the backlog.
        """
        if chat_id is not None:
            self._pacer.heard_from(chat_id)
        self._wanted = True
        if self._loading is None and not self._stopping.is_set():
            self._loading = asyncio.create_task(self._load_new(), name="load-outbox")
            self.activity.track(self._loading)

    async def _load_new(self) -> None:
        try:
            while self._wanted and not self._stopping.is_set():
                self._wanted = False
                try:
                    batch = await self.db.run(
                        lambda session: load_due(session, max(0, self._highest - self.lookback), self._now())
                    )
                except Exception as exc:  # noqa: BLE001 (the periodic scan finds them later)
                    log.error("could not load messages to send: %s", describe(exc))
                    continue
                self._enqueue(batch)
                self._wanted = self._wanted or len(batch) == BATCH
        finally:
            self._loading = None

    async def scan(self) -> None:
        """Queue every due row not queued yet.

        Cheap at a large backlog, since it runs every scheduler interval while thousands of
        rows wait their turn: it reads ids alone, a few thousand at a time, and loads whole
        rows only for the ids not queued, being sent or just sent already.
        """
        await self.db.run(set_aside_unreachable)
        after = 0
        while True:
            ids = await self.db.run(partial(due_ids, after_id=after))
            new = [row_id for row_id in ids if row_id not in self._known and row_id not in self._recent_set]
            for start in range(0, len(new), BATCH):
                chunk = new[start : start + BATCH]
                self._enqueue(await self.db.run(partial(load_rows, ids=chunk)))
            if len(ids) < SCAN_IDS:
                return
            after = ids[-1]

    def take_over(self) -> None:
        """This process has just become the bot's one sender: no message goes for one window
        (pacing.Pacer.hold), so that what the last sender sent just before it died, to all
        chats or to one, no longer counts by the time this one sends."""
        self._pacer.hold()

    def _enqueue(self, batch: list[Pending]) -> None:
        for pending in batch:
            row_id = pending.row_id
            self._highest = max(self._highest, row_id)
            if row_id in self._known or row_id in self._recent_set or self._stopping.is_set():
                continue
            self._known.add(row_id)
            if pending.kind == "callback":
                self._answer_soon(pending)
                continue
            chat_id = pending.chat_id
            bisect.insort(self._queues.setdefault(chat_id, []), pending, key=lambda p: p.row_id)
            if chat_id not in self._tasks:
                task = self._tasks[chat_id] = asyncio.create_task(self._drain(chat_id), name=f"send-{chat_id}")
                self.activity.track(task)

    @property
    def stopped(self) -> bool:
        """Whether `stop` has begun: from then on nothing more is sent."""
        return self._stopping.is_set()

    async def stop(self, grace: float) -> None:
        """Give the chats being delivered `grace` seconds to finish, then stop."""
        if self._tasks or self._answering:
            await asyncio.wait([*self._tasks.values(), *self._answering], timeout=grace)
        self._stopping.set()
        self._pacer.close()
        await asyncio.gather(*self._tasks.values(), *self._answering, return_exceptions=True)
        for task in (self._loading, self._marking):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)

    # -- button answers ----------------------------------------------------------

    def _answer_soon(self, pending: Pending) -> None:
        task = asyncio.create_task(self._answer(pending), name=f"answer-{pending.row_id}")
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)
        self.activity.track(task)

    async def _answer(self, pending: Pending) -> None:
        try:
            outcome = await self._deliver(pending)
        except Exception as exc:  # noqa: BLE001 (the database is away; the periodic scan finds it again)
            log.error("a button answer stopped: %s", describe(exc))
            outcome = Outcome.STOPPED
        if outcome is not Outcome.SENT:
            self._known.discard(pending.row_id)

    # -- one chat ----------------------------------------------------------------

    async def _drain(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue and not self._stopping.is_set():
                outcome = await self._deliver(queue[0])
                if outcome is Outcome.STOPPED:
                    break
                done = queue.pop(0)
                if outcome is not Outcome.SENT:
                    self._known.discard(done.row_id)
                if outcome is Outcome.BLOCKED:
                    self._known.difference_update(p.row_id for p in queue)
                    queue.clear()
        except Exception as exc:  # noqa: BLE001 (the database is away; the periodic scan starts it again)
            log.error("delivery to a chat stopped: %s", describe(exc))
        finally:
            del self._tasks[chat_id]
            self._known.difference_update(p.row_id for p in self._queues.pop(chat_id))

    async def _deliver(self, pending: Pending) -> Outcome:
        row_id = pending.row_id
        try:
            parts = parts_for(pending)
        except (KeyError, ValueError, TypeError) as exc:
            log.error("outbox row %s is malformed (%s); set aside", row_id, describe(exc))
            return await self._set_aside(row_id, "malformed", 1)
        chat_id = self._moved.get(pending.chat_id, pending.chat_id)
        done, attempts, failures, message_id = 0, 0, 0, None
        while done < len(parts):
            if self._stopping.is_set():
                return Outcome.STOPPED
            part = parts[done]
            try:
                async with self._turn(pending, part, chat_id):
                    attempts += 1
                    sent = await part.call(self.bot, chat_id)
            except Closed:
                return Outcome.STOPPED
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                log.warning("outbox row %s: Telegram asks to wait %.0f s (flood control)", row_id, seconds)
                await self._pause(seconds)
                continue
            except ChatMigrated as exc:
                log.warning(
                    "outbox row %s: the group became supergroup %s; update GUIDEBOT_CLINICIAN_CHAT_ID "
                    "if it is the team chat",
                    row_id,
                    exc.new_chat_id,
                )
                chat_id = self._moved[pending.chat_id] = int(exc.new_chat_id)
                continue
            except Forbidden:
                return await self._blocked(pending, attempts)
            except BadRequest as exc:
                return await self._refused(pending, exc, attempts)
            except EndPointNotFound as exc:  # no try can help: set aside, so the chat's next rows go on
                reason = f"the Bot API server does not know {exc.message}"
                log.error("outbox row %s: %s; set aside", row_id, reason)
                return await self._set_aside(row_id, reason, attempts)
            except (NetworkError, InvalidToken) as exc:
                failures += 1
                self._log_retry(row_id, exc, failures)
            except TelegramError as exc:
                failures += 1
                self._log_retry(row_id, exc, failures)
                if failures >= MAX_OTHER_ERRORS:
                    return await self._set_aside(row_id, type(exc).__name__, attempts)
            else:
                done += 1
                message_id = sent if sent is not None else message_id
                continue
            await self._pause(self.backoff.delay(failures))
        self._mark(Delivered(row_id, message_id, attempts))
        if pending.chat_id == self._team_chat and self._team_down is not False:
            await self._team_chat_works(pending.chat_id)
        return Outcome.SENT

    def _turn(self, pending: Pending, part: Part, chat_id: int) -> AbstractAsyncContextManager[None]:
        """What a call waits for: a message its turn under the limits, a button answer a connection of its own."""
        if pending.kind == "callback":
            return self._answer_slots
        if part.is_message:
            alert = pending.alert_id is not None or pending.chat_id == self._team_chat
            return self._pacer.message(chat_id, pending.row_id, alert=alert)
        return self._pacer.call()

    async def _team_chat_works(self, chat_id: int) -> None:
        """A message reached the team chat: a stored "unreachable" mark is cleared."""
        now = self._now()
        await self.db.run(lambda session: mark_reachable(session, chat_id, now))
        self._team_down = False

    def _log_retry(self, row_id: int, exc: TelegramError, failures: int) -> None:
        level = logging.ERROR if isinstance(exc, InvalidToken) else logging.WARNING
        log.log(level, "outbox row %s: %s (try %s); trying again", row_id, type(exc).__name__, failures)

    async def _refused(self, pending: Pending, exc: BadRequest, attempts: int) -> Outcome:
        row_id, kind = pending.row_id, pending.kind
        if pending.chat_id == self._team_chat and any(words in exc.message.lower() for words in TEAM_CHAT_GONE):
            return await self._blocked(pending, attempts)  # the team chat is gone or mutes the bot
        if kind in ("callback", "clear_buttons"):
            log.info("outbox row %s (%s): %s; nothing left to do", row_id, kind, exc.message)
            self._mark(Delivered(row_id, None, attempts))
            return Outcome.SENT
        log.error("outbox row %s: Telegram refused it: %s; set aside", row_id, exc.message)
        return await self._set_aside(row_id, exc.message, attempts)

    async def _set_aside(self, row_id: int, reason: str, attempts: int) -> Outcome:
        """The row can never be sent: it is marked failed with why, and the chat's next rows go on."""
        await self.db.run(partial(mark_failed, row_id=row_id, reason=reason, attempts=attempts))
        return Outcome.SET_ASIDE

    async def _blocked(self, pending: Pending, attempts: int) -> Outcome:
        chat_id = pending.chat_id
        if chat_id == self._team_chat:
            self._team_down = True
            log.error(
                "outbox row %s: Telegram refuses the bot in the team chat (GUIDEBOT_CLINICIAN_CHAT_ID); "
                "alerts go to the admins' private chats until it works again",
                pending.row_id,
            )
        elif chat_id < 0:
            log.error(
                "outbox row %s: the bot may not write to group chat %s; is it still a member?", pending.row_id, chat_id
            )
        else:
            log.info("outbox row %s: the user has blocked the bot; their messages are set aside", pending.row_id)
        await self.db.run(lambda session: self._set_aside_blocked(session, pending, attempts))
        self.wake()
        return Outcome.BLOCKED

    def _set_aside_blocked(self, session: Session, pending: Pending, attempts: int) -> None:
        mark_failed(session, pending.row_id, "blocked", attempts)
        drop_pending(session, pending.chat_id, "blocked")
        self.app.engine.handle(session, Event("blocked", chat_id=pending.chat_id))

    # -- marking rows sent, in batches -------------------------------------------

    def _mark(self, delivered: Delivered) -> None:
        self._marks.append(delivered)
        if self._marking is None:
            self._marking = asyncio.create_task(self._write_marks(), name="mark-sent")
            self.activity.track(self._marking)

    async def _write_marks(self) -> None:
        try:
            while self._marks:
                await self._pause(self.mark_every)  # more marks gather meanwhile: one write for many rows
                batch, self._marks = self._marks, []
                try:
                    await self.db.run(partial(mark_sent, delivered=batch, now=self._now()))
                except Exception as exc:  # noqa: BLE001 (kept, and written with the next batch)
                    log.error("could not mark %s messages sent: %s", len(batch), describe(exc))
                    self._marks[:0] = batch
                    await self._pause(1.0)
                    if self._stopping.is_set():
                        return
                    continue
                self._remember_sent(batch)
        finally:
            self._marking = None

    def _remember_sent(self, batch: list[Delivered]) -> None:
        for delivered in batch:
            if len(self._recent) == RECENT:
                self._recent_set.discard(self._recent[0])
            self._recent.append(delivered.row_id)
            self._recent_set.add(delivered.row_id)
            self._known.discard(delivered.row_id)

    # -- helpers -----------------------------------------------------------------

    def _now(self) -> datetime:
        return self.app.engine.clock.now()

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
