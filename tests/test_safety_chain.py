"""No signal reaches nobody: the safety chain in the engine, from the person's words to a clinician.

- the team chat refusing the bot sends every alert to the admins as well (durably);
- high alerts are re-sent until acknowledged; admins join after the second re-send;
- a chat with no code is heard, shown to the team as "chat uten kode";
- help requests and /contact (with or without a course) get an answer and an alert;
- /delete keeps an unacknowledged alert;
- the person is told honestly when the service will see it (GUIDEBOT_SERVICE_HOURS).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from bot.app import App, build_app
from bot.channels.telegram.outbox import drop_pending
from bot.clock import FakeClock
from bot.engine.events import Event
from bot.engine.service_hours import parse
from bot.engine.team_chat import KEY, mark_reachable, unreachable_since
from bot.storage.db import transaction
from bot.storage.models import Alert, AuditEntry, OutboxItem, ServiceState
from bot.storage.outbox import take_unsent
from tests.support.cli import guidebot, use_database
from tests.support.clinician import Colleague
from tests.support.participant import Participant, Sent, run_due_timers, team_messages
from tests.support.settings import make_settings

TEAM = -1001
MONDAY_MORNING = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 10:00 in Oslo, in service hours
FRIDAY_EVENING = datetime(2026, 1, 9, 17, 0, tzinfo=UTC)  # 18:00 in Oslo, closed until Monday 08:00
CONTACTS = ("113", "116 117", "116 123", "22 40 00 40")


def _alerts(app: App) -> list[Alert]:
    with transaction(app.db) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())


def _alert_texts(app: App, chat_id: int) -> list[Sent]:
    return [m for m in team_messages(app, chat_id) if m.kind == "text" and m.buttons]


def _take(app: App, chat_id: int) -> list[Sent]:
    with transaction(app.db) as session:
        return [Sent(r) for r in take_unsent(session, [chat_id]) if r.kind == "text"]


# -- service hours -------------------------------------------------------------------


def test_service_hours_are_parsed_with_ranges_lists_and_wrapping_days() -> None:
    hours = parse("Mon-Thu 08:00-15:30, Fri 08:00-14:00")
    oslo = datetime(2026, 1, 9, 14, 30)  # a Friday, naive local time is enough here
    assert hours.is_open(datetime(2026, 1, 5, 8, 0)) and not hours.is_open(datetime(2026, 1, 5, 15, 30))
    assert not hours.is_open(oslo), "Friday closes at 14:00"
    assert hours.next_open(oslo) == datetime(2026, 1, 12, 8, 0)
    assert hours.next_open(datetime(2026, 1, 5, 7, 0)) == datetime(2026, 1, 5, 8, 0), "later the same day"
    weekend = parse("sat-mon 10:00-12:00 13:00-14:00")
    assert weekend.is_open(datetime(2026, 1, 4, 13, 30)) and not weekend.is_open(datetime(2026, 1, 6, 10, 30))


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "Mon-Fri",
        "Mon-Fry 08:00-15:30",
        "Mon 15:00-08:00",
        "Mon 8-15",
        "Mon 08:00-12:00 11:00-13:00",
        "Mon 08:00-25:00",
    ],
)
def test_bad_service_hours_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse(spec)
    with pytest.raises(ValidationError, match="service_hours"):
        make_settings("sqlite://", service_hours=spec)


def test_a_bad_service_hours_setting_stops_the_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str
) -> None:
    use_database(monkeypatch, tmp_path, sqlite_url)
    monkeypatch.setenv("GUIDEBOT_SERVICE_HOURS", "Mon-Fri 8-15")
    result = guidebot("db", "migrate")
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "GUIDEBOT_SERVICE_HOURS" in lines[0] and "Traceback" not in result.output


def test_the_person_hears_when_the_service_will_see_it(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    clock.set(MONDAY_MORNING)
    [in_hours] = [m.text for m in user.send("ring meg") if "116 123" in m.text]
    clock.set(FRIDAY_EVENING)
    [closed] = [m.text for m in user.send("jeg vil ta livet mitt") if "116 123" in m.text]
    clock.set(FRIDAY_EVENING + timedelta(hours=2))
    [closed_help] = [m.text for m in user.send("trenger hjelp nå") if "116 123" in m.text]

    assert "i dag" in in_hours and "mandag" not in in_hours
    assert "mandag kl. 08.00" in closed and "stengt" in closed
    assert "mandag kl. 08.00" in closed_help and "stengt" in closed_help
    for text in (in_hours, closed, closed_help):
        for number in CONTACTS:
            assert number in text


def test_service_hours_follow_the_setting_and_the_language(clock: FakeClock, sqlite_url: str) -> None:
    application = build_app(
        make_settings(sqlite_url, service_hours="Mon-Thu 08:00-15:30, Fri 08:00-14:00"), clock, run_migrations=False
    )
    try:
        user = Participant(application, 4001, "en")
        clock.set(datetime(2026, 1, 8, 15, 0, tzinfo=UTC))  # Thursday 16:00 in Oslo: closed
        [text] = [m.text for m in user.send("/contact") if "116 123" in m.text]
        assert "tomorrow at 08:00" in text and "closed" in text
    finally:
        application.db.dispose()


# -- help requests and /contact ------------------------------------------------------


@pytest.mark.parametrize("words", ["trenger hjelp nå", "ring meg", "I need help now", "/contact"])
def test_a_help_request_gets_an_answer_the_numbers_and_a_high_alert(app: App, clock: FakeClock, words: str) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    replies = user.send(words)
    [answer] = [m.text for m in replies if "116 123" in m.text]
    assert "veilederen din" in answer.lower() or "your clinician" in answer.lower()
    for number in CONTACTS:
        assert number in answer
    [alert] = _alerts(app)
    assert alert.signal == "asks_for_person" and alert.level == "high" and alert.label == "K-3001"
    assert alert.next_resend_at is not None
    assert len(_alert_texts(app, TEAM)) == 1


def test_contact_without_a_course_still_raises_an_alert_and_gives_the_numbers(app: App) -> None:
    stranger = Participant(app, 7007)
    replies = stranger.send("/contact")
    [answer] = [m.text for m in replies if "116 123" in m.text]
    assert "tilgangskoden" in answer, "they are told the team cannot reach them without the code"
    [alert] = _alerts(app)
    assert alert.signal == "asks_for_person" and alert.course_id is None and alert.chat_id == 7007
    [team] = _alert_texts(app, TEAM)
    assert "chat uten kode" in team.text and "Testuser" not in team.text


# -- high alerts are re-sent until acknowledged ----------------------------------------


def test_a_high_alert_is_re_sent_with_admins_added_and_stops_after_ack(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    boss = Colleague(app, 900, "Sjef", admin=True)
    user = kari.enrol(3001, "K-3001")
    user.send("ring meg")
    [alert] = _alerts(app)
    minutes = app.settings.alert_resend_minutes

    for _ in range(2):
        clock.advance(minutes=minutes)
        assert run_due_timers(app) == 1
    to_team = _alert_texts(app, TEAM)
    assert len(to_team) == 3 and "ikke kvittert" in to_team[1].text
    assert any("administratorer" in m.text for m in boss.receive())

    kari.send(f"/ack {alert.id}")
    clock.advance(minutes=minutes * 3)
    assert run_due_timers(app) == 0
    assert len(_alert_texts(app, TEAM)) == 3


# -- a chat with no code -------------------------------------------------------------------


def test_risk_words_before_a_code_reach_the_team_as_a_chat_with_no_code(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    stranger = Participant(app, 7007)
    replies = stranger.send("jeg vil ta livet mitt")
    assert replies[0].text.startswith("Takk for at du sier det.")
    for number in CONTACTS:
        assert number in replies[0].text
    assert any("tilgangskoden" in m.text for m in replies), "asked for the code as well"
    [alert] = _alerts(app)
    assert alert.label == "-" and alert.chat_id == 7007 and alert.messages[0]["text"] == "jeg vil ta livet mitt"
    [team] = _alert_texts(app, TEAM)
    assert "Sak: chat uten kode" in team.text

    listed = kari.send("/alerts")
    assert any("chat uten kode" in m.text for m in listed)
    kari.press_data(f"a:case:{alert.id}")  # no case to show: nothing breaks
    kari.send(f"/ack {alert.id}")
    [acked] = _alerts(app)
    assert acked.acknowledged_at is not None
    assert any("chat uten kode" in m.text and "kvittert" in m.text for m in _take(app, TEAM))


# -- /delete keeps an alert nobody has seen ----------------------------------------------------


def test_delete_keeps_an_unacknowledged_alert_under_its_label(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send("jeg vil ta livet mitt")
    [confirm] = user.send("/delete")
    assert "blir liggende til en veileder har sett det" in confirm.text
    done = user.press("Ja, slett alt")
    assert any("blir liggende til en veileder har sett det" in m.text for m in done)

    [alert] = _alerts(app)
    assert alert.label == "K-3001" and alert.course_id is None and alert.acknowledged_at is None
    assert alert.evidence and alert.messages[0]["text"] == "jeg vil ta livet mitt"
    assert any("K-3001" in m.text for m in kari.send("/alerts"))
    kari.send(f"/ack {alert.id}")
    # Acknowledged (the team is told, the audit keeps it without the label), and then erased too.
    assert any("K-3001" in m.text and "kvittert" in m.text for m in _take(app, TEAM))
    with transaction(app.db) as session:
        [acked] = session.exec(select(AuditEntry).where(AuditEntry.action == "alert_acknowledged")).all()
        assert acked.detail["alert_id"] == alert.id and acked.subject is None
    assert _alerts(app) == []


def test_delete_without_an_open_alert_says_nothing_of_alerts_and_erases_acknowledged_ones(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send("jeg vil ta livet mitt")
    kari.send(f"/ack {_alerts(app)[0].id}")
    [confirm] = user.send("/delete")
    assert "varsel" not in confirm.text
    done = user.press("Ja, slett alt")
    assert not any("varsel" in m.text for m in done)
    assert _alerts(app) == []


# -- the team chat refuses the bot ---------------------------------------------------------------


def _team_refuses(app: App) -> None:
    """What the sender does when Telegram answers 403 for the team chat."""

    with transaction(app.db) as session:
        drop_pending(session, TEAM, "blocked")
        app.engine.handle(session, Event("blocked", chat_id=TEAM))


def test_a_refused_team_chat_sends_the_alert_and_later_ones_to_the_admins(
    app: App, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    kari = Colleague(app, 501, "Kari")
    boss = Colleague(app, 900, "Sjef", admin=True)
    other = Colleague(app, 901, "Nestleder", admin=True)
    user = kari.enrol(3001, "K-3001")
    user.send("jeg vil ta livet mitt")
    assert not boss.receive(), "admins are not told while the team chat works"

    with caplog.at_level(logging.ERROR):
        _team_refuses(app)
    [copy] = boss.receive()
    assert "K-3001" in copy.text and copy.buttons and "teamchatten" in copy.text
    assert len(other.receive()) == 1
    with transaction(app.db) as session:
        assert unreachable_since(session, app.settings) is not None

    with caplog.at_level(logging.ERROR):
        _team_refuses(app)  # refused again: no second copy of the same alert
    assert not boss.receive()

    second = kari.enrol(3002, "K-3002")
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        second.send("trenger hjelp nå")
    assert any("K-3002" in m.text for m in boss.receive())
    assert any("GUIDEBOT_CLINICIAN_CHAT_ID" in r.getMessage() for r in caplog.records)
    assert not any("hjelp" in r.getMessage() for r in caplog.records), "no message text in the log"

    with transaction(app.db) as session:
        assert mark_reachable(session, TEAM, clock.now())
    third = kari.enrol(3003, "K-3003")
    third.send("ring meg")
    assert not any("K-3003" in m.text for m in boss.receive()), "fixed: the team chat has it again"
    with transaction(app.db) as session:
        assert session.get(ServiceState, KEY) is None


def test_a_refused_team_chat_copies_only_open_alerts(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    boss = Colleague(app, 900, "Sjef", admin=True)
    first = kari.enrol(3001, "K-3001")
    first.send("jeg vil ta livet mitt")
    kari.send(f"/ack {_alerts(app)[0].id}")
    _take(app, TEAM)  # the first alert and its acknowledgement went through
    second = kari.enrol(3002, "K-3002")
    second.send("ring meg")
    _team_refuses(app)
    texts = [m.text for m in boss.receive()]
    assert any("K-3002" in t for t in texts) and not any("K-3001" in t for t in texts)
    with transaction(app.db) as session:
        rows = session.exec(
            select(OutboxItem).where(OutboxItem.chat_id == TEAM, col(OutboxItem.failed).is_not(None))
        ).all()
        assert rows and all(r.failed and r.failed.startswith("blocked") for r in rows)
