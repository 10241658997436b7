"""The Telegram bot as one object to start and stop; `guidebot run` and the tests use it.

Start: connect (getMe), queue the inbox rows left from a crash, start the
housekeeping loop (timers, and the inbox and outbox rows nobody has picked up),
register the command menus, then take updates by long polling or by webhook.
Stop: take no more updates, let the turns being processed commit, give the sender
a moment to deliver, tell Telegram what was stored, and close.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from telegram import Bot, ChatFullInfo, ChatMember, ChatMemberRestricted
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, ChatMigrated, EndPointNotFound, Forbidden, InvalidToken, TelegramError

from bot.app import App
from bot.channels.telegram.activity import Activity
from bot.channels.telegram.backoff import Backoff
from bot.channels.telegram.commands import register_commands
from bot.channels.telegram.database import Database
from bot.channels.telegram.inbox import prune_processed
from bot.channels.telegram.intake import Poller, WebhookServer
from bot.channels.telegram.leadership import (
    ROLE_DUTIES,
    SEND,
    SQLITE_LOCKS,
    AlreadyRunning,
    DutyLock,
    SqliteLocks,
    sqlite_path,
)
from bot.channels.telegram.pacing import SendLimits
from bot.channels.telegram.privacy import describe, protect_logs
from bot.channels.telegram.sender import Sender
from bot.channels.telegram.timers import Timers
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.telegram.updates import ALLOWED_UPDATES
from bot.channels.telegram.worker import Failpoint, Worker
from bot.config import Settings
from bot.dashboard.server import DashboardServer
from bot.dialogs.store import Loaded
from bot.engine.team_chat import mark_reachable
from bot.ops.health import HealthServer
from bot.ops.retention import apply_retention

log = logging.getLogger(__name__)
T = TypeVar("T")


class SettingsProblem(Exception):
    """A setting the bot cannot run with; the message says what to set."""


class Deposed(SettingsProblem):
    """The connection holding a duty's lock broke: another process may hold it now."""


LOOKBACK = 256  # outbox ids the elected sender looks back over on each poll (see Sender.lookback)


NO_TEAM_CHAT = (
    "no team chat for the alerts. Set GUIDEBOT_CLINICIAN_CHAT_ID to the clinicians' team chat "
    "(a negative number such as -1001234567890), with the bot added to it."
)


async def team_chat_problem(bot: Bot, chat_id: int) -> str | None:
    """What stops the bot posting in `chat_id`, or None. Telegram's refusals raise."""
    if chat_id < 0:  # a group or a channel (Telegram's ids for them are negative): both asked at once
        chat, member = await asyncio.gather(
            bot.get_chat(chat_id), bot.get_chat_member(chat_id, bot.id), return_exceptions=True
        )
        for answer in (chat, member):  # the chat's own refusal first ("chat not found"), as when asked in turn
            if isinstance(answer, BaseException):
                raise answer
        assert isinstance(chat, ChatFullInfo) and isinstance(member, ChatMember)
    else:
        chat = await bot.get_chat(chat_id)
        if chat.type == ChatType.PRIVATE:
            return None
        member = await bot.get_chat_member(chat_id, bot.id)
    status = member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return f"the bot is not a member of it (status '{status}')"
    if isinstance(member, ChatMemberRestricted) and (not member.is_member or not member.can_send_messages):
        return "the bot is restricted there and may not send messages"
    if (
        status == ChatMemberStatus.MEMBER
        and chat.permissions is not None
        and chat.permissions.can_send_messages is False
    ):
        return "members may not send messages there, and the bot is not an administrator"
    return None


@dataclass(frozen=True)
class Tuning:
    """Fixed for production; tests and the benchmark change them."""

    limits: SendLimits | None = None  # None: Telegram's, at GUIDEBOT_SEND_RATE overall
    backoff: Backoff = field(default_factory=Backoff)
    poll_timeout: int = 30
    send_concurrency: int = 8
    read_timeout: float = 10.0
    stop_grace: float = 3.0
    mark_every: float = 0.02  # seconds between writes of "sent" marks, so one write covers many
    # "all": one process does everything. To use a second core, run two processes on one
    # database: "receive" (updates, engine, timers) and "send" (the outbox), which finds
    # new rows by looking every `send_poll` seconds.
    role: str = "all"
    send_poll: float = 0.005
    # PostgreSQL, several processes: how often a process tries to take a free duty (and
    # the holder checks its lock), and how often the elected sender looks for new rows.
    elect_every: float = 1.0
    leader_poll: float = 0.02

    def send_limits(self, settings: Settings) -> SendLimits:
        """The limits the sender keeps: these, or Telegram's at GUIDEBOT_SEND_RATE overall."""
        return self.limits or SendLimits(overall=settings.send_rate)


def no_failpoint(_name: str) -> None:
    return None


def make_bot(settings: Settings, tuning: Tuning) -> Bot:
    """A python-telegram-bot Bot on the configured Bot API server (which may be self-hosted)."""
    return Bot(
        settings.telegram_token,
        base_url=f"{settings.telegram_api_url.rstrip('/')}/bot",
        request=AiohttpRequest(connections=tuning.send_concurrency + 2, timeout=tuning.read_timeout),
        get_updates_request=AiohttpRequest(connections=1, timeout=tuning.read_timeout),
    )


class TelegramBot:
    def __init__(self, app: App, *, tuning: Tuning | None = None, failpoint: Failpoint = no_failpoint) -> None:
        self.app = app
        self.settings = app.settings
        self.tuning = tuning or Tuning()
        self.failpoint = failpoint
        protect_logs(self.settings.telegram_token, self.settings.webhook_secret)  # before the Bot logs its URL
        self.bot = make_bot(self.settings, self.tuning)
        self.db = Database(app.db, self.settings.workers)
        self.activity = Activity()
        self.sender = Sender(
            self.bot,
            app,
            self.db,
            self.activity,
            limits=self.tuning.send_limits(self.settings),
            concurrency=self.tuning.send_concurrency,
            backoff=self.tuning.backoff,
            mark_every=self.tuning.mark_every,
        )
        # On PostgreSQL a process sends only once it holds the send duty (see leadership.py).
        self.sends_here = self.db.sqlite and self.tuning.role in ("all", "send")
        self.timers = Timers(app, self.db, self._wake_sender)
        self.health = HealthServer(self.settings.database_url, self.settings.metrics_listen, app.engine.clock.now)
        self.worker: Worker | None = None
        self.poller: Poller | None = None
        self.webhook: WebhookServer | None = None
        self.username = ""
        self.stopped = asyncio.Event()
        self.error: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._menu: asyncio.Task[None] | None = None
        self.dashboard: DashboardServer | None = None
        self._duties: dict[str, DutyLock] = {}
        self._duty_threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guidebot-duty")
        database = sqlite_path(self.settings.database_url)
        self._sqlite_locks = SqliteLocks(database) if database is not None else None

    @property
    def uses_webhook(self) -> bool:
        return bool(self.settings.webhook_url)

    # -- starting ----------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.health.start()  # /healthz answers while Telegram is being reached; /readyz once started
        except OSError as exc:
            raise SettingsProblem(
                f"cannot listen on GUIDEBOT_METRICS_LISTEN={self.health.listen}: {exc.strerror}"
            ) from None
        await self._start()
        self.health.ready = True

    async def _start(self) -> None:
        settings = self.settings
        if self.uses_webhook and not settings.webhook_secret:
            raise SettingsProblem(
                "webhook mode needs a secret: set GUIDEBOT_WEBHOOK_SECRET (1-256 characters A-Z, a-z, 0-9, _ and -)"
            )
        self._take_sqlite()
        # The learned net, before anyone's first message: read from its cache in milliseconds, or trained
        # in a child process (a few seconds, scikit-learn stays out of this process) when the examples are
        # new. It is made ready while Telegram answers the checks below; readiness waits for it on purpose:
        # once /readyz says ready, every text gets both readers.
        warming = None if self.tuning.role == "send" else asyncio.create_task(self._warm_up())
        polls = not self.uses_webhook and self.tuning.role != "send"
        unhooked = None
        try:
            await self._connect()
            # Polling needs any webhook gone; asked while the team chat is checked, not after it.
            unhooked = asyncio.create_task(self._unhook()) if polls else None
            await self._check_team_chat()
            if unhooked is not None:
                await unhooked
        except BaseException:
            for task in (warming, unhooked):
                if task is not None:
                    task.cancel()
                    if task.done() and not task.cancelled():
                        task.exception()  # the start's own failure is the one to report
            raise
        if self.tuning.role == "send":
            if self.db.sqlite:
                await self.sender.scan()
                self._spawn(self._send_loop(self.tuning.send_poll))
            else:
                self._spawn(self._campaign(SEND))
            log.info("delivering the outbox as @%s; updates are taken in by another process", self.username)
            return
        assert warming is not None
        await warming
        self.worker = Worker(
            self.app,
            self.db,
            self.username,
            self._wake_sender,
            self.activity,
            concurrency=settings.workers,
            failpoint=self.failpoint,
        )
        await self.worker.load_pending()
        if settings.dashboard_listen:
            self.dashboard = DashboardServer(self.app, self.db, self._wake_sender)
            await self.dashboard.start()
        if not self.db.sqlite:
            for duty in ROLE_DUTIES[self.tuning.role]:
                self._spawn(self._campaign(duty))
        else:
            if self.sends_here:
                await self.sender.scan()
            self._spawn(self._housekeeping())
        self._register_menu()
        now = self.app.engine.clock.now
        if self.uses_webhook:
            self.webhook = WebhookServer(
                self.db,
                self.worker,
                self.activity,
                now,
                secret=settings.webhook_secret,
                listen=settings.listen,
                path=urlsplit(settings.webhook_url).path,
                failpoint=self.failpoint,
            )
            await self.webhook.start()
            try:
                await self._until_answered(
                    "setWebhook",
                    lambda: self.bot.set_webhook(
                        settings.webhook_url,
                        secret_token=settings.webhook_secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    ),
                )
            except BadRequest as exc:
                raise SettingsProblem(
                    f"Telegram refused the webhook GUIDEBOT_WEBHOOK_URL={settings.webhook_url}: {exc.message}"
                ) from None
            log.info("receiving updates by webhook on %s:%s", self.webhook.host, self.webhook.port)
        else:
            self.poller = Poller(
                self.bot,
                self.db,
                self.worker,
                self.activity,
                now,
                timeout=self.tuning.poll_timeout,
                backoff=self.tuning.backoff,
                failpoint=self.failpoint,
            )
            self._spawn(self.poller.run())
            log.info("receiving updates by long polling as @%s", self.username)

    def _take_sqlite(self) -> None:
        """SQLite takes one process (per role): a second is refused, saying why."""
        if self._sqlite_locks is None:
            return
        try:
            self._sqlite_locks.take(SQLITE_LOCKS[self.tuning.role])
        except AlreadyRunning as exc:
            raise SettingsProblem(str(exc)) from None

    async def _campaign(self, duty: str) -> None:
        """PostgreSQL: try for the duty until this process holds it, do it, and keep checking the lock."""
        lock = self._duties.setdefault(duty, DutyLock(self.app.db, duty))
        while not await self._on_duty_thread(lock.try_take):
            await self._until_next_try()
            if self.stopped.is_set():
                return
        log.info("this process now does the %s duty for every process on the database", duty)
        if duty == SEND:
            self.sends_here = True
            self.sender.lookback = LOOKBACK
            self.sender.take_over()
            await self.sender.scan()
            self._spawn(self._send_loop(self.tuning.leader_poll))
        else:
            self._spawn(self._housekeeping())
        while not self.stopped.is_set():
            await self._until_next_try()
            if self.stopped.is_set():
                return
            if not await self._on_duty_thread(lock.still_held):
                if duty == SEND:
                    # Another process may hold the duty already: not one more message from here, no
                    # grace (what is in flight finishes; that is the documented crash-in-flight case).
                    self.sends_here = False
                    await self.sender.stop(0)
                raise Deposed(f"lost the database connection that holds the {duty} duty; stopping")

    async def _until_next_try(self) -> None:
        """Until the next try for a duty, or until the bot stops. Not `asyncio.wait_for`: on Python
        3.11 it can swallow the cancellation of a task that waits on an event already set, and the
        campaign of the other duty then never ended once a deposed one had stopped the bot."""
        stopping = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({stopping}, timeout=self.tuning.elect_every)
        finally:
            stopping.cancel()

    async def _on_duty_thread(self, work: Callable[[], bool]) -> bool:
        """Duty locks are used from one thread, so a release never races a try."""
        return await asyncio.get_running_loop().run_in_executor(self._duty_threads, work)

    async def _until_answered(self, what: str, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """A call on the way to ready. Network trouble, a 5xx and flood control are waited out (the bot
        starts once Telegram is back); Telegram's refusals (400, 403, 401, 404 for a method the server
        does not know, a group that moved) are the caller's."""
        failures = 0
        while True:
            try:
                return await call()
            except (BadRequest, Forbidden, InvalidToken, ChatMigrated, EndPointNotFound):
                raise
            except TelegramError as exc:
                failures += 1
                log.warning("%s: no answer from Telegram yet (%s); trying again", what, type(exc).__name__)
                await asyncio.sleep(self.tuning.backoff.delay(failures))

    async def _connect(self) -> None:
        try:
            await self._until_answered("getMe", self.bot.initialize)
        except EndPointNotFound:  # every Bot API server knows getMe: Telegram's answer to a malformed token
            raise InvalidToken("Not Found") from None
        self.username = self.bot.username

    async def _check_team_chat(self) -> None:
        """The alerts must reach someone: the bot has to be able to post in the team chat."""
        chat_id = self.settings.clinician_chat_id
        if chat_id is None:
            raise SettingsProblem(NO_TEAM_CHAT)
        try:
            problem = await self._until_answered("the team chat check", lambda: team_chat_problem(self.bot, chat_id))
        except ChatMigrated as exc:  # Telegram upgraded the group: it has a new id for good
            problem = (
                f"Telegram made the group a supergroup, whose id is {exc.new_chat_id}; "
                f"set GUIDEBOT_CLINICIAN_CHAT_ID={exc.new_chat_id}"
            )
        except (BadRequest, Forbidden) as exc:
            problem = f"Telegram says '{exc.message}'"
        except EndPointNotFound:  # the Bot API server does not know getChat or getChatMember
            log.warning(
                "the Bot API server does not answer getChat or getChatMember, so the team chat "
                "GUIDEBOT_CLINICIAN_CHAT_ID=%s is not checked; the first alert will show whether it "
                "takes the bot's messages",
                chat_id,
            )
            return
        if problem is not None:
            raise SettingsProblem(
                f"the bot cannot post in the team chat GUIDEBOT_CLINICIAN_CHAT_ID={chat_id}: "
                f"{problem}. Add the bot to that chat and let it send messages, or fix the id."
            )
        await self.db.run(lambda session: mark_reachable(session, chat_id, self.app.engine.clock.now()))

    async def _unhook(self) -> None:
        """Polling needs any webhook gone. Network trouble is waited out, as for getMe; a server that
        does not know deleteWebhook (a 404) has no webhook to remove."""
        try:
            await self._until_answered("deleteWebhook", self.bot.delete_webhook)
        except (EndPointNotFound, BadRequest) as exc:
            log.warning("deleteWebhook was refused (%s); polling without it", exc.message)

    async def _warm_up(self) -> None:
        await asyncio.to_thread(self.app.dialogs.current.dialogs.escalation.learned.warm_up)

    def _register_menu(self) -> None:
        """The command menus, off the path to ready: a menu helps people find the commands, but a bot
        without one still takes every message, and each menu is a call to Telegram. A reload registers
        its own and cancels this one if it is still on its way, so an older menu never lands last."""
        self._menu = asyncio.create_task(self._menu_registered(self.app.dialogs.current))
        self._tasks.add(self._menu)
        self._menu.add_done_callback(self._ended)

    async def _menu_registered(self, current: Loaded) -> None:
        await register_commands(self.bot, current, self.settings.locale)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is None:
            return
        self.error = error
        if not isinstance(error, InvalidToken):
            log.error("the bot stopped: %s", describe(error))
        self.stopped.set()

    async def _housekeeping(self) -> None:
        """Timers, and rows nobody picked up, every scheduler interval."""
        assert self.worker is not None
        while True:
            for step in (
                self.timers.run_due,
                self.worker.load_pending,
                self._scan_outbox,
                self._prune_inbox,
                self._apply_retention,
            ):
                try:
                    await step()
                except Exception as exc:  # noqa: BLE001 (the database is away; the next round tries again)
                    log.error("housekeeping failed: %s", describe(exc))
            await asyncio.sleep(self.settings.scheduler_interval_seconds)

    def _wake_sender(self, chat_id: int | None = None) -> None:
        if self.sends_here:
            self.sender.wake(chat_id)

    async def _scan_outbox(self) -> None:
        if self.sends_here:
            await self.sender.scan()

    async def _send_loop(self, poll: float) -> None:
        """The "send" role or the elected sender: look for new outbox rows often, and for every due row now and then."""
        loop = asyncio.get_running_loop()
        next_scan = loop.time() + self.settings.scheduler_interval_seconds
        while True:
            self.sender.wake()
            if loop.time() >= next_scan:
                await self.sender.scan()
                next_scan = loop.time() + self.settings.scheduler_interval_seconds
            await asyncio.sleep(poll)

    async def _prune_inbox(self) -> None:
        await self.db.run(lambda session: prune_processed(session, self.app.engine.clock.now()))

    async def _apply_retention(self) -> None:
        await self.db.run(lambda session: apply_retention(session, self.app.engine.clock.now(), self.settings))

    # -- while running -----------------------------------------------------------

    async def settled(self, update_id: int = 0) -> None:
        """Until update `update_id` is taken in, and everything taken in is processed and delivered."""
        await self.activity.settled(update_id)

    async def reload_dialogs(self) -> bool:
        """SIGHUP: load the dialog files again; broken ones are refused and the old stay."""
        if await asyncio.to_thread(self.app.dialogs.reload) is not None:
            return False
        await self._warm_up()
        if self._menu is not None:
            self._menu.cancel()  # the start's registration, if still on its way, would be older
        await register_commands(self.bot, self.app.dialogs.current, self.settings.locale)
        return True

    # -- stopping ----------------------------------------------------------------

    async def stop(self) -> None:
        if self.webhook is not None:
            await self.webhook.stop()
        if self.dashboard is not None:
            await self.dashboard.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.worker is not None:
            await self.worker.stop()
        await self.sender.stop(self.tuning.stop_grace)
        for lock in self._duties.values():  # only now may another process send or keep time
            await asyncio.get_running_loop().run_in_executor(self._duty_threads, lock.release)
        self._duties.clear()
        self._duty_threads.shutdown(wait=False)
        if self.poller is not None:
            await self.poller.confirm()
        await self.bot.shutdown()
        self.db.close()
        await self.health.stop()
        if self._sqlite_locks is not None:
            self._sqlite_locks.release()
        self.stopped.set()

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()
