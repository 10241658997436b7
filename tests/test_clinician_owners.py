"""Every course has an owning clinician; a clinician sees their own cases (and the team's
unowned ones), an admin sees all, and /assign moves a case (issue 10, "Who sees what")."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.storage.db import transaction
from bot.storage.models import AuditEntry, Clinician, Course
from tests.support.clinician import Colleague

NOT_YOURS = "Sak K-1001 følges av en kollega, så jeg viser den ikke til deg."


def _owner(app: App, label: str) -> str | None:
    with transaction(app.db) as session:
        course = session.exec(select(Course).where(Course.label == label)).one()
        if course.clinician_id is None:
            return None
        owner = session.get(Clinician, course.clinician_id)
        assert owner is not None
        return owner.name


def test_newcode_makes_the_clinician_the_owner_and_a_colleague_cannot_open_the_case(app: App) -> None:
    kari, per = Colleague(app, 501, "Kari"), Colleague(app, 502, "Per")
    user = kari.enrol(1001, "K-1001")
    user.send("jeg vil ikke være her lenger")
    assert _owner(app, "K-1001") == "Kari"
    for command in ("/case K-1001", "/pause K-1001", "/checkin K-1001", "/close K-1001"):
        reply = [m.text for m in per.send(command)]
        assert len(reply) == 1 and reply[0].startswith(NOT_YOURS), command
    assert "Sak K-1001" not in per.text().replace(NOT_YOURS, "")
    assert user.course().state == "intake", "nothing was done to the case"
    alert_id = user.alerts()[0].id
    per.press_data(f"a:case:{alert_id}")
    assert per.inbox[-1].text.startswith(NOT_YOURS), "the alert's Show case button is refused too"
    assert "K-1001" not in per.send("/cases alle")[-1].text
    assert any("Sak K-1001" in m.text for m in kari.send("/case K-1001")), "the owner opens it"
    with transaction(app.db) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "case_access_refused")).all()
    assert len(refused) == 5 and {r.subject for r in refused} == {"K-1001"}


def test_an_admin_sees_every_case(app: App) -> None:
    kari, boss = Colleague(app, 501, "Kari"), Colleague(app, 503, "Anne", admin=True)
    kari.enrol(1001, "K-1001")
    assert any("Sak K-1001" in m.text for m in boss.send("/case K-1001"))
    assert "K-1001" in boss.send("/cases alle")[-1].text


def test_assign_moves_the_case_and_tells_the_new_owner(app: App) -> None:
    kari, per = Colleague(app, 501, "Kari"), Colleague(app, 502, "Per Olsen")
    kari.enrol(1001, "K-1001")
    assert kari.send("/assign K-1001 per olsen")[-1].text == "Sak K-1001 følges nå av Per Olsen."
    assert _owner(app, "K-1001") == "Per Olsen"
    assert per.receive()[-1].text == "Kari har gitt deg sak K-1001. Skriv /case K-1001 for å se den."
    assert any("Sak K-1001" in m.text for m in per.send("/case K-1001"))
    assert kari.send("/case K-1001")[-1].text.startswith(NOT_YOURS), "Kari handed it on"
    assert kari.send("/assign K-1001 Kari")[-1].text.startswith(NOT_YOURS), "only the owner or an admin moves it"
    with transaction(app.db) as session:
        moved = session.exec(select(AuditEntry).where(AuditEntry.action == "case_assigned")).all()
    assert [m.subject for m in moved] == ["K-1001"]


def test_assign_bad_input_gets_a_clear_reply(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    kari.enrol(1001, "K-1001")
    assert kari.send("/assign")[-1].text.startswith("Skriv /assign MERKELAPP NAVN")
    assert kari.send("/assign K-1001")[-1].text.startswith("Skriv /assign MERKELAPP NAVN")
    assert kari.send("/assign K-1001 Ola")[-1].text.startswith("Jeg finner ingen aktiv kollega som heter Ola.")
    assert kari.send("/assign K-9999 Kari")[-1].text.startswith("Jeg finner ingen sak med merkelappen K-9999")
    assert _owner(app, "K-1001") == "Kari"
