"""Issue 10 on the dashboard: the case page's message thread and its form (no JavaScript needed)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.clock import FakeClock
from bot.dialogs.store import DialogStore
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, Message
from tests.support.dashboard import WebClient, dashboard_bot

NOTE = "Hei! Jeg har lest svarene dine. Fint at dagboken hjelper."


async def test_a_message_from_the_case_page_reaches_the_participant(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        caseload = await web.sign_in()
        path = caseload.case_links()["K-A"]
        case = await web.get(path)
        assert "Ingen meldinger ennå." in case.text and f'action="{path}/messages"' in case.text

        refused = await web.post(f"{path}/messages", {"csrf": "0" * 64, "text": NOTE})
        assert refused.status == 403
        empty = await web.post(f"{path}/messages", {"csrf": case.csrf, "text": "   "})
        assert "Skriv en melding først." in empty.text

        user = tg.server.user(1001)
        sent = await web.post(f"{path}/messages", {"csrf": case.csrf, "text": NOTE})
        assert sent.status == 200 and "Meldingen er sendt." in sent.text
        assert NOTE in sent.text and "Fra veileder" in sent.text
        got = await user.wait_for_message(lambda m: NOTE in (m.text or ""))
        assert "Kari" not in (got.text or "") and got.buttons == ["Svar veilederen"]
        assert "K-A" not in sent.url

        with transaction(tg.app.db) as session:
            stored = session.exec(select(Message)).all()
            lines = session.exec(select(AuditEntry).where(AuditEntry.action == "message_sent")).all()
            feedback = session.exec(select(Message.course_id).order_by(col(Message.id))).all()
        assert [(m.direction, m.text) for m in stored] == [("to_participant", NOTE)]
        assert len(lines) == 1 and NOTE not in str(lines[0].detail) and feedback


async def test_another_clinicians_case_cannot_be_written_to(
    caseload_url: str, clock: FakeClock, shipped_dialogs: DialogStore
) -> None:
    async with dashboard_bot(caseload_url, clock, shipped_dialogs) as tg, WebClient(tg) as web:
        caseload = await web.sign_in()
        path = caseload.case_links()["K-A"]
        case = await web.get(path)
        missing = await web.post("/dashboard/cases/unknownhandle123/messages", {"csrf": case.csrf, "text": NOTE})
        assert missing.status == 404
        with transaction(tg.app.db) as session:
            assert session.exec(select(Message)).all() == []
