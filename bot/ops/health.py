"""The operators' HTTP endpoints on GUIDEBOT_METRICS_LISTEN, served by `guidebot run`.

- `/healthz`: 200 while the process runs (its event loop answers).
- `/readyz`: 200 once the database and the dialogs are loaded and the bot has started,
  and while the database answers; 503 with the reason otherwise.
- `/metrics`: Prometheus text (bot/ops/metrics.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy import Engine, text

from bot.config import parse_listen
from bot.ops.metrics import database_registry, exposition, read_engine

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    """Does nothing when `listen` is empty (GUIDEBOT_METRICS_LISTEN unset)."""

    def __init__(self, database_url: str, listen: str, now: Callable[[], datetime]) -> None:
        self.database_url = database_url
        self.listen = listen
        self.host, self.port = parse_listen(listen) if listen else ("", 0)
        self.now = now
        self.ready = False
        self._engine: Engine | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if not self.listen:
            return
        self._engine = read_engine(self.database_url)
        self.registry = database_registry(self._engine, self.now)
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _request: web.Request) -> web.Response:
        if not self.ready:
            return web.Response(status=503, text="starting\n")
        if not await asyncio.to_thread(self._database_answers):
            return web.Response(status=503, text="database not answering\n")
        return web.Response(text="ready\n")

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = await asyncio.to_thread(exposition, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    def _database_answers(self) -> bool:
        assert self._engine is not None
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 (any failure means not ready; the reason is not the probe's business)
            return False
        return True
