"""The web dashboard in tests: a caseload to look at, the bot with the dashboard on, and signing in.

- `seed_caseload(...)`: Kari's two cases (K-A in week 3 with scores and homework, K-B
  with an open alert) and Per's K-C, made through the engine before the bot starts.
- `dashboard_bot(...)`: `running_bot` with the dashboard served on a free local port.
- `WebClient`: an HTTP client with a cookie jar, which signs in by the link that
  /dashboard sends over the fake Telegram server.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from sqlmodel import col, select

from bot.app import build_app
from bot.clock import FakeClock
from bot.dialogs.contract import ASKS_FOR_PERSON
from bot.dialogs.store import DialogStore
from bot.storage.db import transaction
from bot.storage.models import Alert
from tests.support.clinician import Colleague
from tests.support.participant import do_checkin, do_intake, go_to_next_checkin
from tests.support.settings import make_settings
from tests.support.telegram_harness import Running, free_port, running_bot

PHQ_START = [2, 2, 2, 1, 1, 2, 1, 1, 0]  # 12
GAD_START = [2, 1, 2, 1, 1, 1, 1]  # 9
PHQ_WEEK2 = [2, 2, 1, 1, 1, 1, 1, 1, 0]  # 10
GAD_WEEK2 = [1, 1, 1, 1, 1, 1, 1]  # 7
KARI, PER = 501, 502

LINK = re.compile(r"https?://\S+/login/\S+")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
CASE_LINK = re.compile(r'href="(/dashboard/cases/[A-Za-z0-9_-]+)">([^<]+)</a>')


def seed_caseload(database_url: str, clock: FakeClock, dialogs: DialogStore) -> None:
    app = build_app(make_settings(database_url), clock, run_migrations=False, dialogs=dialogs)
    try:
        kari = Colleague(app, KARI, "Kari")
        per = Colleague(app, PER, "Per")
        first = kari.enrol(1001, "K-A")
        do_intake(first, "nb", PHQ_START, GAD_START)
        go_to_next_checkin(app, clock, first)
        do_checkin(first, PHQ_WEEK2, GAD_WEEK2)
        worried = kari.enrol(1002, "K-B")
        worried.send("Kan noen ringe meg?")
        per.enrol(1003, "K-C")
        kari.receive()
        per.receive()
        with transaction(app.db) as session:
            alerts = [(a.label, a.signal, a.evidence) for a in session.exec(select(Alert).order_by(col(Alert.id)))]
        # The dashboard tests count on this one open alert: say at once if the seed made another.
        expected = [("K-B", ASKS_FOR_PERSON)]
        assert [(label, signal) for label, signal, _ in alerts] == expected, f"the seed's alerts: {alerts}"
    finally:
        app.db.dispose()


@asynccontextmanager
async def dashboard_bot(
    database_url: str, clock: FakeClock, dialogs: DialogStore | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    """The bot with the dashboard on a free local port; share the session's `shipped_dialogs` to start faster."""
    port = free_port()
    values: dict[str, Any] = {
        "dashboard_listen": f"127.0.0.1:{port}",
        "dashboard_url": f"http://127.0.0.1:{port}/dashboard",
    }
    values.update(overrides)
    async with running_bot(database_url, clock, dialogs=dialogs, **values) as tg:
        yield tg


async def login_link(tg: Running, telegram_id: int = KARI) -> str:
    reply = await tg.chat(telegram_id).send("/dashboard")
    found = LINK.search(reply[-1].text or "")
    assert found is not None, reply
    return found.group(0)


@dataclass
class Page:
    status: int
    text: str
    url: str
    headers: Any

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.text)
        assert found is not None, self.text[:400]
        return found.group(1)

    def case_links(self) -> dict[str, str]:
        """label -> path of each case link on the page."""
        return {label: path for path, label in CASE_LINK.findall(self.text)}


class WebClient:
    """A browser without a browser: follows redirects, keeps cookies (also for 127.0.0.1)."""

    def __init__(self, tg: Running) -> None:
        self.tg = tg
        settings = tg.app.settings
        self.base = settings.dashboard_url
        self.origin = self.base.rsplit("/", 1)[0]
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.session.close()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.origin + path

    async def get(self, path: str) -> Page:
        async with self.session.get(self.url(path)) as response:
            return Page(response.status, await response.text(), str(response.url), response.headers)

    async def post(self, path: str, data: dict[str, str], **kwargs: Any) -> Page:
        async with self.session.post(self.url(path), data=data, **kwargs) as response:
            return Page(response.status, await response.text(), str(response.url), response.headers)

    async def sign_in(self, telegram_id: int = KARI) -> Page:
        """/dashboard in Telegram, open the link, press the button: the caseload."""
        return await self.sign_in_with(await login_link(self.tg, telegram_id))

    async def sign_in_with(self, link: str) -> Page:
        opened = await self.get(link)
        assert opened.status == 200, opened.text
        return await self.post("/dashboard/login", {"token": link.rsplit("/", 1)[1]})
