"""Alerts reach a human at once, are re-sent until someone acknowledges them, and survive a crash."""

from __future__ import annotations

import pytest
from sqlmodel import col, func, select

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Alert, Clinician, OutboxItem
from tests.support.clinician import Colleague, audit_actions
from tests.support.evidence import shown_evidence
from tests.support.participant import (
    Participant,
    Sent,
    answer_measure,
    do_intake,
    go_to_next_checkin,
    run_due_timers,
    team_messages,
)
from tests.support.settings import make_settings

TEAM = -1001
CRISIS_NB = "Takk for at du sier det. Jeg tar det du skriver på alvor."
PHQ_RISKY = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # item 9 answered "more than half the days"


def _outbox_after(app: App, last_id: int) -> list[Sent]:
    with transaction(app.db) as session:
        rows = session.exec(select(OutboxItem).where(col(OutboxItem.id) > last_id).order_by(col(OutboxItem.id)))
        return [Sent(r) for r in rows.all() if r.kind == "text"]


def _last_outbox_id(app: App) -> int:
    with transaction(app.db) as session:
        return session.exec(select(func.max(OutboxItem.id))).one() or 0


def _in_checkin(app: App, clock: FakeClock, kari: Colleague, label: str = "K-3001") -> Participant:
    user = kari.enrol(3001, label)
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    go_to_next_checkin(app, clock, user)
    return user


def test_an_item_9_answer_in_a_checkin_reaches_user_and_team_in_the_same_update(
    any_db_app: App, clock: FakeClock
) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin(app, clock, kari)
    answer_measure(user, PHQ_RISKY[:8])
    before = _last_outbox_id(app)

    user.press_index(PHQ_RISKY[8])  # one update: the item 9 answer

    queued = _outbox_after(app, before)
    to_user = [m.text for m in queued if m.chat_id == 3001]
    to_team = [m for m in queued if m.chat_id == TEAM]
    to_owner = [m for m in queued if m.chat_id == 501]
    assert to_user[0].startswith(CRISIS_NB)
    for number in ("113", "116 117", "116 123", "22 40 00 40"):
        assert number in to_user[0]
    assert "Veilederen din får beskjed nå" in to_user[0]
    assert to_user[1].startswith("Vil du fortsette samtalen vår nå"), "the questionnaire pauses"
    assert not any("GAD-7" in text for text in to_user)
    assert len(to_team) == 1 and len(to_owner) == 1
    alert_text = to_team[0].text
    assert "Risikosvar" in alert_text and "K-3001" in alert_text and "uke 2" in alert_text
    assert "PHQ-9, spørsmål 9: svar 2" in alert_text and "2026-01" in alert_text
    assert to_team[0].labels() == ["Kvitter", "Vis sak"]
    [alert] = user.alerts()
    assert (alert.signal, alert.level, alert.week, shown_evidence(app, alert)) == (
        "risk_answer",
        "urgent",
        2,
        ["PHQ-9 item 9 = 2"],
    )
    assert "lav risiko" not in "\n".join(to_user).lower()


def test_an_unacknowledged_urgent_alert_is_resent_then_goes_to_admins_until_acknowledged(
    any_db_app: App, clock: FakeClock
) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    boss = Colleague(app, 900, "Leder", admin=True)
    user = kari.enrol(3001, "K-3001")
    user.send("jeg orker ikke å leve mer")
    [alert] = user.alerts()
    assert len(team_messages(app, TEAM)) == 1

    clock.advance(minutes=14)
    assert run_due_timers(app) == 0
    clock.advance(minutes=1)
    assert run_due_timers(app) == 1
    resent = team_messages(app, TEAM)[-1].text
    assert resent.startswith("⏰ #") and "ikke kvittert ennå (1)" in resent
    assert boss.receive() == []

    clock.advance(minutes=15)
    assert run_due_timers(app) == 1
    to_boss = boss.receive()
    assert len(to_boss) == 1 and to_boss[0].text.startswith("🚨 Til administratorer")
    assert to_boss[0].labels() == ["Kvitter", "Vis sak"]

    clock.advance(minutes=15)
    assert run_due_timers(app) == 1
    assert "ikke kvittert ennå (3)" in boss.receive()[0].text

    clock.advance(minutes=2)
    boss.press("Kvitter")
    assert boss.callbacks[-1] == "✅ Kvittert av Leder"
    with transaction(app.db) as session:
        stored = session.get(Alert, alert.id)
        leader = session.exec(select(Clinician).where(Clinician.telegram_id == 900)).one()
    assert stored is not None and stored.acknowledged_by == leader.id
    assert stored.acknowledged_at == clock.now() and stored.next_resend_at is None
    assert team_messages(app, TEAM)[-1].text == "✅ Risikoord for K-3001 er kvittert av Leder."

    sent_before = len(team_messages(app, TEAM))
    clock.advance(hours=5)
    assert run_due_timers(app) == 0
    assert len(team_messages(app, TEAM)) == sent_before
    acks = [a for a in audit_actions(app) if a.action == "alert_acknowledged"]
    assert [(a.actor, a.subject, a.detail["minutes"]) for a in acks] == [(f"clinician:{leader.id}", "K-3001", 47)]


def test_acknowledging_takes_the_buttons_off_every_delivered_copy(any_db_app: App) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    per = Colleague(app, 502, "Per")
    user = kari.enrol(3001, "K-3001")
    user.send("I want to kill myself")
    with transaction(app.db) as session:  # as the sender does once Telegram has them
        copies = session.exec(select(OutboxItem).where(col(OutboxItem.alert_id).is_not(None))).all()
        for number, copy in enumerate(copies, start=70):
            copy.message_id = number
        delivered = {(c.chat_id, c.message_id) for c in copies}
    assert {chat for chat, _ in delivered} == {TEAM, 501}

    per.press_data(f"a:ack:{user.alerts()[0].id}", chat_id=TEAM, message_id=70)

    with transaction(app.db) as session:
        cleared = session.exec(select(OutboxItem).where(OutboxItem.kind == "clear_buttons")).all()
    assert {(c.chat_id, c.payload["message_id"]) for c in cleared} == delivered
    assert all(c.payload["chosen"] == "✅ Kvittert av Per" for c in cleared)

    kari.press_data(f"a:ack:{user.alerts()[0].id}", message_id=71)
    assert kari.callbacks[-1].startswith("Varsel #1 (Risikoord) er allerede kvittert av Per")


def test_ack_and_alerts_commands(any_db_app: App) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    assert kari.send("/alerts")[-1].text == "Ingen åpne varsler nå."
    first = kari.enrol(3001, "K-3001")
    second = kari.enrol(3002, "K-3002")
    second.send("Kan noen ringe meg?")
    first.send("kms")
    assert len(kari.receive()) == 2, "the owner got both alerts"
    listed = kari.send("/alerts")
    assert listed[0].text.startswith("Åpne varsler: 2.")
    assert "Risikoord (haster) · sak K-3001" in listed[1].text, "urgent first"
    assert "Ber om kontakt (viktig) · sak K-3002" in listed[2].text
    assert listed[1].labels() == ["Kvitter", "Vis sak"]

    alert_id = first.alerts()[0].id
    assert kari.send("/ack")[-1].text.startswith("Skriv /ack og nummeret")
    assert kari.send("/ack 999")[-1].text.startswith("Jeg finner ikke varsel nummer 999")
    assert kari.send(f"/ack #{alert_id}")[-1].text == "✅ Risikoord for K-3001 er kvittert av Kari."
    assert "allerede kvittert av Kari" in kari.send(f"/ack {alert_id}")[-1].text
    assert kari.send("/alerts")[0].text.startswith("Åpne varsler: 1.")


def test_show_case_from_the_team_chat_goes_to_the_clinician_privately(any_db_app: App) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send("vil ikke være her lenger")
    before = [m.text for m in team_messages(app, TEAM) if m.kind == "text"]
    kari.press_data(f"a:case:{user.alerts()[0].id}", chat_id=TEAM)
    assert kari.callbacks[-1] == "Saken er sendt til deg i privat chat."
    assert [m.text for m in team_messages(app, TEAM) if m.kind == "text"] == before
    private = [m.text for m in kari.inbox]
    assert any(text.startswith("Sak K-3001") and "#1 Risikoord (haster)" in text for text in private)


def test_a_signal_joins_the_open_alert_until_it_is_acknowledged(any_db_app: App, clock: FakeClock) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send("kms")
    clock.advance(hours=3)
    user.send("unalive")
    [alert] = user.alerts()
    assert shown_evidence(app, alert) == ["«kms»", "«unalive»"]
    clock.advance(hours=30)
    user.send("kms")
    [alert] = user.alerts()  # still open: the new evidence joins it, however old it is
    assert len(alert.evidence) == 3
    kari.send(f"/ack {alert.id}")
    user.send("kms")
    assert len(user.alerts()) == 2  # acknowledged: new evidence is a new alert


def test_an_alert_survives_a_crash_between_commit_and_sending(database_url: str, clock: FakeClock) -> None:
    first = build_app(make_settings(database_url), clock, run_migrations=False)
    kari = Colleague(first, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send("jeg vil dø")
    first.db.dispose()  # killed: nothing was sent

    restarted = build_app(make_settings(database_url), clock, run_migrations=False)
    try:
        with transaction(restarted.db) as session:
            pending = session.exec(
                select(OutboxItem).where(col(OutboxItem.sent_at).is_(None), col(OutboxItem.alert_id).is_not(None))
            ).all()
        assert {row.chat_id for row in pending} == {TEAM, 501}
        assert all("K-3001" in row.payload["text"] for row in pending)
        clock.advance(minutes=15)
        assert run_due_timers(restarted) == 1, "re-sending goes on after the restart"
    finally:
        restarted.db.dispose()


def test_a_crash_before_commit_leaves_neither_answer_nor_alert(
    any_db_app: App, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = any_db_app
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin(app, clock, kari)
    answer_measure(user, PHQ_RISKY[:8])
    waiting = user.course().scratch["measure"]

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("killed mid-update")

    monkeypatch.setattr("bot.engine.alerts.notify_clinicians", crash)
    with pytest.raises(RuntimeError):
        user.press_index(2)
    monkeypatch.undo()
    assert user.alerts() == []
    assert user.course().scratch["measure"] == waiting, "the item 9 answer was not kept either"
    user.press_index(2)  # Telegram delivers the update again
    assert [a.signal for a in user.alerts()] == ["risk_answer"]


def test_the_evidence_reads_alike_in_the_team_chat_and_in_the_clinicians_list(app: App) -> None:
    """One alert view for every clinician text: a list where a text joins it, plain words where it is shown whole."""
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send("kms")
    user.send("Kan noen ringe meg? kms")
    kari.receive()
    [team_alert] = [m.text for m in team_messages(app, TEAM) if "K-3001" in m.text and "Risikoord" in m.text]
    listed = kari.send("/alerts")[1].text
    evidence = next(line for line in listed.splitlines() if line.startswith("Grunnlag:"))
    assert evidence == "Grunnlag: «kms»; «kms»", "joined as the team chat's text joins it, never a Python list"
    assert "Grunnlag: «kms»" in team_alert
