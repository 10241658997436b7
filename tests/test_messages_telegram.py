"""Issue 10 over the fake Telegram server: /msg, the participant's reply, the feedback queue."""

from __future__ import annotations

from sqlmodel import col, select

from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Alert, AuditEntry, Message
from tests.support import course_script as script
from tests.support.clinician import add_clinician
from tests.support.telegram_harness import Running, answer_measure, course_of, do_intake, enrol, running_bot

TEAM = -1001
NOTE = "Hei! Fint å se at du er i gang. Hvordan gikk aktivitetsdagboken?"
REPLY = "Den gikk greit, takk. Jeg skrev tre dager."


def _messages(tg: Running) -> list[Message]:
    with transaction(tg.app.db) as session:
        return list(session.exec(select(Message).order_by(col(Message.id))).all())


def _audit(tg: Running, *actions: str) -> list[AuditEntry]:
    with transaction(tg.app.db) as session:
        query = select(AuditEntry).where(col(AuditEntry.action).in_(actions)).order_by(col(AuditEntry.id))
        return list(session.exec(query).all())


async def test_a_message_and_its_reply_mid_checkin_and_the_feedback_queue(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari Nordmann")
        kari = tg.chat(501)
        user = await enrol(tg, 42, "K-42")
        await do_intake(user)
        tg.clock.advance(days=4)  # past the schedule's first gap
        await user.send("/checkin")
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0])
        await answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
        pending = user.question()  # "did you do the homework?", mid check-in
        asked = pending.text

        # The clinician writes; the person gets it marked as from their clinician, never by name.
        sent = await kari.send(f"/msg K-42 {NOTE}")
        assert "K-42" in (sent[-1].text or "")
        got = user.user.messages[-1]
        assert NOTE in (got.text or "") and "veilederen din" in (got.text or "")
        assert "Kari" not in (got.text or "") and "Nordmann" not in (got.text or "")
        assert got.buttons == ["Svar veilederen"]

        # "Answer your clinician": a free-text step; the reply goes to Kari, labelled with the case.
        prompt = await user.press("Svar veilederen")
        assert "Skriv svaret ditt" in (prompt[-1].text or "")
        before = len(kari.texts())
        after = await user.send(REPLY)
        to_kari = kari.texts()[before:]
        assert len(to_kari) == 1 and "K-42" in to_kari[0] and REPLY in to_kari[0]
        # ... and the check-in did not move: the pending question comes again, answerable as before.
        assert "sendt til veilederen din" in (after[0].text or "")
        assert after[-1].text == asked and after[-1].buttons == pending.buttons
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "checkin" and course.feedback_due_at is None

        # Finishing the check-in puts the case in the queue, and the person is told what to expect.
        steps = script.checkin([], [])[2:]
        await user.play(steps)
        assert any("innen to virkedager" in t for t in user.texts()[-4:])
        course = course_of(tg.app, 42)
        assert course is not None and course.state == "active" and course.feedback_due_at is not None

        # Stored both ways; the case view shows the thread; the audit never holds the text.
        stored = _messages(tg)
        assert [(m.direction, m.text) for m in stored] == [("to_participant", NOTE), ("from_participant", REPLY)]
        assert stored[0].clinician_id is not None and stored[1].clinician_id == stored[0].clinician_id
        case = await kari.send("/case K-42")
        thread = next(m.text or "" for m in case if (m.text or "").startswith("Meldinger med K-42"))
        assert NOTE in thread and REPLY in thread
        lines = _audit(tg, "message_sent", "message_received")
        assert [a.action for a in lines] == ["message_sent", "message_received"]
        assert all(NOTE not in str(a.detail) and REPLY not in str(a.detail) for a in lines)

        # A message clears the queue; so does /seen.
        await kari.send("/msg K-42 Takk for at du svarte!")
        course = course_of(tg.app, 42)
        assert course is not None and course.feedback_due_at is None
        seen = await kari.send("/seen K-42")
        assert "venter ikke" in (seen[-1].text or "")


async def test_the_reply_is_read_for_risk_like_every_text(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        team = tg.server.group(TEAM, "Veilederteamet")
        kari = tg.chat(501)
        user = await enrol(tg, 43, "K-43")
        await do_intake(user)
        await kari.send("/msg K-43 Hvordan har du det?")
        await user.press("Svar veilederen")
        await user.send("Kan noen ringe meg?")
        assert any("Kan noen ringe meg?" in t for t in kari.texts())
        with transaction(tg.app.db) as session:
            alerts = session.exec(select(Alert)).all()
        assert [a.signal for a in alerts] == ["asks_for_person"]
        assert any("K-43" in (m.text or "") for m in team.messages)


async def test_msg_refused_to_a_non_clinician_and_usage_without_text(sqlite_url: str, clock: FakeClock) -> None:
    async with running_bot(sqlite_url, clock) as tg:
        add_clinician(tg.app, 501, "Kari")
        kari = tg.chat(501)
        user = await enrol(tg, 44, "K-44")
        await do_intake(user)
        usage = await kari.send("/msg K-44")
        assert "/msg MERKELAPP" in (usage[-1].text or "")
        stranger = tg.chat(77)
        refused = await stranger.send("/msg K-44 hei")
        assert "ikke tilgjengelig" in (refused[-1].text or "")
        assert _messages(tg) == []
