"""Only clinicians use clinician commands; everyone else learns nothing, not even whether a label exists."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import App
from bot.storage.db import transaction
from bot.storage.models import Alert, AuditEntry, Clinician
from tests.support.clinician import Colleague
from tests.support.participant import Participant, team_messages

NOT_AVAILABLE = "Beklager, det er ikke tilgjengelig. Skriv /help for å se hva jeg kan hjelpe deg med."

PROBES = [
    ("/case K-1001", "/case K-9999"),
    ("/pause K-1001", "/pause K-9999"),
    ("/resume K-1001", "/resume K-9999"),
    ("/checkin K-1001", "/checkin K-9999"),
    ("/close K-1001", "/close K-9999"),
    ("/close K-1001 therapy", "/close K-9999 therapy"),
    ("/ack 1", "/ack 999"),
]
OTHERS = ["/cases", "/cases all", "/alerts", "/newcode depression", "/newcode depression K-2", "/invite Ola"]


@pytest.fixture
def case_with_alert(app: App) -> Participant:
    """K-1001, started with a clinician's code, with an open alert."""
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(1001, "K-1001")
    user.send("jeg vil ikke være her lenger")
    assert user.alerts()
    return user


@pytest.mark.parametrize("stranger_has_course", [False, True])
def test_a_non_clinician_gets_the_same_refusal_whether_or_not_the_label_exists(
    app: App, case_with_alert: Participant, stranger_has_course: bool
) -> None:
    stranger = Participant(app, 2002)
    if stranger_has_course:
        stranger.start_with_new_code(label="K-2002")
    stranger.receive()
    before = len(team_messages(app, -1001))
    for existing, missing in PROBES:
        assert [m.text for m in stranger.send(existing)] == [NOT_AVAILABLE], existing
        assert [m.text for m in stranger.send(missing)] == [NOT_AVAILABLE], missing
    for command in OTHERS:
        assert [m.text for m in stranger.send(command)] == [NOT_AVAILABLE], command
    assert case_with_alert.course().state == "intake"
    assert case_with_alert.receive() == [], "nothing reached the user"
    assert len(team_messages(app, -1001)) == before, "nothing reached the team"
    assert "K-1001" not in "\n".join(stranger.texts())


def test_a_non_clinician_pressing_alert_buttons_gets_not_available(app: App, case_with_alert: Participant) -> None:
    alert_id = case_with_alert.alerts()[0].id
    stranger = Colleague(app, 2002, register=False)
    for data in (f"a:case:{alert_id}", f"a:ack:{alert_id}", "a:case:999", "c:close:1:none"):
        assert stranger.press_data(data) == []
    assert stranger.callbacks == [NOT_AVAILABLE] * 4
    with transaction(app.db) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.acknowledged_at is None
    assert case_with_alert.course().state == "intake"


def test_refusals_are_audited_without_their_arguments(app: App, case_with_alert: Participant) -> None:
    stranger = Participant(app, 2002)
    stranger.send("/case K-1001")
    with transaction(app.db) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "clinician_command_refused")).all()
    assert [(r.actor, r.subject, r.detail) for r in refused] == [("anonymous", None, {"command": "case"})]


def test_users_keep_their_own_pause_resume_and_checkin(app: App) -> None:
    user = Participant(app, 1001)
    user.start_with_new_code(label="K-1001")
    assert "pause" in user.send("/pause")[-1].text
    assert user.course().state == "paused"
    user.send("/resume")
    assert user.course().state == "intake"


def test_a_removed_clinician_is_refused(app: App, case_with_alert: Participant) -> None:
    per = Colleague(app, 777, "Per")
    with transaction(app.db) as session:
        clinician = session.exec(select(Clinician).where(Clinician.telegram_id == 777)).one()
        clinician.active = False
    assert [m.text for m in per.send("/case K-1001")] == [NOT_AVAILABLE]


def test_group_messages_from_strangers_go_to_the_engine(app: App) -> None:
    stranger = Colleague(app, 2002, register=False)
    stranger.send_in_team("/cases")
    texts = [m.text for m in team_messages(app, -1001)]
    assert texts == ["Jeg svarer bare i private samtaler. Skriv gjerne direkte til meg."]


def test_clinicians_keep_cases_out_of_groups(app: App, case_with_alert: Participant) -> None:
    kari = Colleague(app, 502, "Kari")
    before = len(team_messages(app, -1001))
    kari.send_in_team("Jeg tar K-1001 i dag")
    assert len(team_messages(app, -1001)) == before, "team chatter gets no answer"
    kari.send_in_team("/case K-1001")
    assert "privat samtale" in team_messages(app, -1001)[-1].text
    assert "Sak K-1001" not in "\n".join(m.text for m in team_messages(app, -1001))
    kari.send_in_team("/alerts")
    assert any("#" in m.text and "K-1001" in m.text and m.buttons for m in team_messages(app, -1001)[-2:])


def test_a_clinician_without_a_course_gets_the_clinician_help(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    for text in ("/start", "/help", "hei"):
        assert kari.send(text)[-1].text.startswith("Hei! Dette kan du gjøre her som veileder")
