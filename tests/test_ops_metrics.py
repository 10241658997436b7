"""Health and metrics on GUIDEBOT_METRICS_LISTEN: /healthz, /readyz, /metrics."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.channels.telegram.runtime import SettingsProblem
from bot.clock import FakeClock
from bot.ops.health import HealthServer
from bot.ops.metrics import database_gauges, read_engine
from bot.storage.db import transaction
from bot.storage.models import Alert, InboxItem, OutboxItem
from tests.support.settings import make_settings
from tests.support.telegram_harness import running_bot

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


async def scrape(port: int) -> Samples:
    status, text = await get(port, "/metrics")
    assert status == 200
    return parse(text)


@asynccontextmanager
async def serving(database_url: str, clock: FakeClock) -> AsyncIterator[HealthServer]:
    server = HealthServer(database_url, "127.0.0.1:0", clock.now)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def add_rows(app: App, now: datetime) -> None:
    """Made-up rows: what waits in the outbox and inbox, and alerts in every state."""
    with transaction(app.db) as session:
        session.add(OutboxItem(chat_id=1, payload={"text": "x"}, created_at=now - timedelta(minutes=3)))
        session.add(OutboxItem(chat_id=1, payload={"text": "x"}, created_at=now - timedelta(minutes=1)))
        session.add(OutboxItem(chat_id=1, payload={"text": "x"}, created_at=now))
        session.add(OutboxItem(chat_id=1, payload={}, created_at=now - timedelta(hours=5), sent_at=now))
        session.add(OutboxItem(chat_id=1, payload={}, created_at=now - timedelta(hours=6), failed="blocked"))
        session.add(InboxItem(update_id=1, chat_id=1, payload={}, received_at=now))
        session.add(InboxItem(update_id=2, chat_id=1, payload={}, received_at=now, processed_at=now))

        def alert(level: str, minutes: int, **fields: Any) -> Alert:
            at = now - timedelta(minutes=minutes)
            return Alert(label="K-1", signal="s", level=level, week=1, created_at=at, updated_at=at, **fields)

        session.add(alert("urgent", 45))
        session.add(alert("urgent", 90, acknowledged_at=now))
        session.add(alert("urgent", 120, held_until=now + timedelta(minutes=5)))  # still asking the person
        session.add(alert("high", 300))


def test_the_gauges_read_the_database(any_db_app: App, clock: FakeClock) -> None:
    engine = read_engine(any_db_app.settings.database_url)
    try:
        assert database_gauges(engine, clock.now()) == {
            "guidebot_outbox_pending": 0.0,
            "guidebot_outbox_oldest_pending_seconds": 0.0,
            "guidebot_inbox_pending": 0.0,
            "guidebot_alert_unacknowledged_oldest_seconds": 0.0,
        }
        add_rows(any_db_app, clock.now())
        assert database_gauges(engine, clock.now()) == {
            "guidebot_outbox_pending": 3.0,
            "guidebot_outbox_oldest_pending_seconds": 180.0,
            "guidebot_inbox_pending": 1.0,
            "guidebot_alert_unacknowledged_oldest_seconds": 45 * 60.0,
        }
    finally:
        engine.dispose()


async def test_health_ready_and_metrics_endpoints(app: App, clock: FakeClock) -> None:
    add_rows(app, clock.now())
    async with serving(app.settings.database_url, clock) as server:
        assert await get(server.port, "/healthz") == (200, "ok\n")
        assert await get(server.port, "/readyz") == (503, "starting\n")
        server.ready = True
        assert await get(server.port, "/readyz") == (200, "ready\n")
        samples = await scrape(server.port)
    assert samples[("guidebot_database_up", ())] == 1
    assert samples[("guidebot_alert_unacknowledged_oldest_seconds", ())] == 2700
    assert samples[("guidebot_outbox_pending", ())] == 3
    assert samples[("guidebot_inbox_pending", ())] == 1
    assert ("process_resident_memory_bytes", ()) in samples


async def test_without_a_database_it_is_alive_but_not_ready(tmp_path: Path, clock: FakeClock) -> None:
    gone = f"sqlite:///{tmp_path}/no/such/dir/guidebot.db"
    async with serving(gone, clock) as server:
        server.ready = True
        assert (await get(server.port, "/healthz"))[0] == 200
        assert await get(server.port, "/readyz") == (503, "database not answering\n")
        samples = await scrape(server.port)
    assert samples[("guidebot_database_up", ())] == 0
    assert ("guidebot_outbox_pending", ()) not in samples


async def test_the_bot_counts_updates_telegram_errors_and_handling_time(sqlite_url: str) -> None:
    async with running_bot(sqlite_url, metrics_listen="127.0.0.1:0") as tg:
        port = tg.bot.health.port
        assert await get(port, "/readyz") == (200, "ready\n")
        before = await scrape(port)
        tg.server.faults.add("sendMessage", kind="502", count=2)
        user = tg.chat(42)
        await user.send(f"/start {tg.code()}")
        await user.press("Ja, vi fortsetter")
        after = await scrape(port)

    def grew(name: str, *labels: tuple[str, str]) -> float:
        key = (name, tuple(sorted(labels)))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("guidebot_updates_total") == 2
    assert grew("guidebot_update_handling_seconds_count") == 2
    assert grew("guidebot_telegram_errors_total", ("method", "sendMessage"), ("status", "502")) == 2
    assert after[("guidebot_outbox_pending", ())] == 0


def test_a_bad_metrics_address_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GUIDEBOT_METRICS_LISTEN|host:port"):
        make_settings(f"sqlite:///{tmp_path}/g.db", metrics_listen="localhost")


async def test_a_metrics_port_in_use_is_one_clear_line(sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SettingsProblem, match=rf"^cannot listen on GUIDEBOT_METRICS_LISTEN=127.0.0.1:{port}: "):
            async with running_bot(sqlite_url, metrics_listen=f"127.0.0.1:{port}"):
                pass
