"""Issue 10 over the fake Telegram server: /assign and /away route alerts to the owner (or their
cover) as well as the team chat; acknowledging from either place acknowledges the alert; a
clinician opens another's case only while covering; the participant's reply goes to the cover;
and /views lists who looked at the case."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Alert, AuditEntry
from tests.fakes.records import SentMessage
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import Chat, Running, do_intake, enrol, running_bot

TEAM = -1001
ASK = "Kan noen ringe meg?"  # raises "asks_for_person" (high), with no pause of the conversation
NOT_YOURS = "Sak K-42 følges av en kollega"


def _open_alerts(tg: Running) -> list[Alert]:
    with transaction(tg.app.db) as session:
        return list(session.exec(select(Alert).where(col(Alert.acknowledged_at).is_(None))).all())


def _alert_copy(chat: Chat, before: int) -> SentMessage | None:
    """The alert about K-42 that reached this private chat after `before` messages, if any."""
    return next(
        (m for m in chat.user.messages[before:] if "K-42" in (m.text or "") and "Kvitter" in m.buttons),
        None,
    )


async def _raise(tg: Running, user: Chat, *chats: Chat) -> list[int]:
    """The user asks for a person; how many messages each chat had before."""
    before = [len(c.user.messages) for c in chats]
    await user.send(ASK)
    return before


async def test_assign_and_away_route_alerts_and_cover_opens_the_case(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        add_clinician(tg.app, 502, "Ola")
        add_clinician(tg.app, 503, "Per")
        add_clinician(tg.app, 509, "Liv Leder", admin=True)
        team = tg.server.group(TEAM, "Veilederteamet")
        kari, ola, per, liv = tg.chat(501), tg.chat(502), tg.chat(503), tg.chat(509)
        user = await enrol(tg, 42, "K-42")  # Kari made the code: she owns the case
        await do_intake(user)

        # 1. The alert goes to the team chat (label and signal only) and to Kari, the owner.
        k, o, p = await _raise(tg, user, kari, ola, per)
        in_team = next(m for m in team.messages if "K-42" in (m.text or "") and m.buttons)
        assert ASK not in (in_team.text or "")
        to_kari = _alert_copy(kari, k)
        assert to_kari is not None and _alert_copy(ola, o) is None and _alert_copy(per, p) is None
        # Acknowledged from Kari's private chat: the team chat's copy loses its buttons and is told.
        await kari.press_on(to_kari, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _open_alerts(tg) == []
        assert in_team.buttons == [] and to_kari.buttons == []
        assert (team.messages[-1].text or "") == "✅ Ber om kontakt for K-42 er kvittert av Kari."

        # 2. /assign moves the case to Ola: the next alert goes to Ola, not to Kari.
        await kari.send("/assign K-42 Ola")
        k, o = await _raise(tg, user, kari, ola)
        to_ola = _alert_copy(ola, o)
        assert to_ola is not None and _alert_copy(kari, k) is None
        await ola.press_on(to_ola, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _open_alerts(tg) == []

        # 3. Ola writes to the person, then goes away with Per covering.
        await ola.send("/msg K-42 Hvordan går det med dagboken?")
        until = (clock.now() + timedelta(days=7)).date()
        told = len(per.user.messages)
        away = await ola.send(f"/away {until.isoformat()} Per")
        assert f"Per dekker for deg til og med {until.strftime('%d.%m.%Y')}" in (away[-1].text or "")
        assert "Ola er borte til og med" in (per.texts()[told] or "")

        # While Ola is away, the alert goes to the team chat and to Per; Per acknowledges in his chat.
        k, o, p = await _raise(tg, user, kari, ola, per)
        to_per = _alert_copy(per, p)
        assert to_per is not None and _alert_copy(ola, o) is None and _alert_copy(kari, k) is None
        in_team = next(m for m in reversed(team.messages) if "K-42" in (m.text or "") and m.buttons)
        await per.press_on(to_per, "Kvitter")
        await tg.settle(int(tg.server.updates[-1]["update_id"]))
        assert _open_alerts(tg) == [] and in_team.buttons == []
        assert (team.messages[-1].text or "") == "✅ Ber om kontakt for K-42 er kvittert av Per."

        # Per may open Ola's case while he covers; Kari may not (she neither owns it nor covers).
        assert any((m.text or "").startswith("Sak K-42") for m in await per.send("/case K-42"))
        assert "K-42" in (await per.send("/cases"))[-1].text  # type: ignore[operator]
        refused = await kari.send("/case K-42")
        assert len(refused) == 1 and (refused[0].text or "").startswith(NOT_YOURS)

        # The person's reply to Ola's message goes to Per while Ola is away.
        before_per, before_ola = len(per.user.messages), len(ola.user.messages)
        await user.press_on(
            next(m for m in reversed(user.user.messages) if "Svar veilederen" in m.buttons), "Svar veilederen"
        )
        await user.send("Det går bedre nå, takk.")
        assert any("Det går bedre nå" in (m.text or "") for m in per.user.messages[before_per:])
        assert not any("Det går bedre nå" in (m.text or "") for m in ola.user.messages[before_ola:])

        # 4. /back: alerts go to Ola again, and Per can no longer open the case.
        told = len(per.user.messages)
        back = await ola.send("/back")
        assert (back[-1].text or "").startswith("Velkommen tilbake!")
        assert (per.texts()[told] or "") == "Ola er tilbake, og sakene går til Ola igjen."
        k, o, p = await _raise(tg, user, kari, ola, per)
        assert _alert_copy(ola, o) is not None and _alert_copy(per, p) is None
        assert (await per.send("/case K-42"))[-1].text.startswith(NOT_YOURS)  # type: ignore[union-attr]

        # 5. Who looked at the case: the admin's /views lists each view and the refused tries.
        views = (await liv.send("/views K-42"))[-1].text or ""
        assert views.startswith("Hvem som har åpnet sak K-42 (3 ganger)")
        assert views.count("· Per · Telegram") == 2 and "· Kari · Telegram · avvist" in views
        refused_views = await kari.send("/views K-42")
        assert (refused_views[-1].text or "") == "Bare administratorer kan se hvem som har åpnet en sak."
        with transaction(tg.app.db) as session:
            actions = [a.action for a in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()]
        assert actions.count("cover_started") == 1 and actions.count("cover_ended") == 1
        assert tg.server.unanswered_callback_queries == []
