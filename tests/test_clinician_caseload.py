"""A clinician makes a code, watches the course, and reads one case in full."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.clock import FakeClock
from bot.engine.codes import ALPHABET
from bot.storage.db import transaction
from bot.storage.models import AccessCode, AuditEntry, Clinician
from tests.support.clinician import CODE, Colleague, audit_actions
from tests.support.participant import do_checkin, do_intake, go_to_next_checkin

PHQ_START = [2, 2, 2, 1, 1, 2, 1, 1, 0]  # 12
GAD_START = [2, 1, 2, 1, 1, 1, 1]  # 9
PHQ_WEEK2 = [2, 2, 1, 1, 1, 1, 1, 1, 0]  # 10
GAD_WEEK2 = [1, 1, 1, 1, 1, 1, 1]  # 7


def test_newcode_gives_a_code_to_read_aloud_and_a_deep_link(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    reply = kari.send("/newcode depression K-7001")[-1].text
    code = CODE.search(reply)
    assert code is not None
    raw = code.group(0).replace("-", "")
    assert len(raw) == 9 and set(raw) <= set(ALPHABET)
    assert f"https://t.me/guidebot_test_bot?start={raw}" in reply
    assert " ".join(raw[:3]) in reply, "spelled out to read aloud"
    assert "K-7001" in reply and "Depresjon" in reply and "e-post" in reply
    with transaction(app.db) as session:
        stored = session.exec(select(AccessCode).where(AccessCode.label == "K-7001")).one()
        kari_id = session.exec(select(Clinician.id).where(Clinician.telegram_id == 501)).one()
    assert raw not in stored.code_hash and stored.clinician_id == kari_id
    created = [a for a in audit_actions(app) if a.action == "code_created"]
    assert [(a.actor, a.subject) for a in created] == [(f"clinician:{kari_id}", "K-7001")]


def test_newcode_explains_what_is_wrong(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    assert "Programmer: anxiety, demo, depression" in kari.send("/newcode")[-1].text
    assert "«tristhet»" in kari.send("/newcode tristhet")[-1].text
    assert "høyst 24 tegn" in kari.send("/newcode depression Ola Nordmann")[-1].text
    assert "høyst 24 tegn" in kari.send("/newcode depression Kari&Ola")[-1].text
    kari.send("/newcode depression K-1")
    assert "allerede i bruk" in kari.send("/newcode depression K-1")[-1].text
    made = kari.send("/newcode DEPRESSION")[-1].text
    assert CODE.search(made) and "Saken heter K-" in made


def test_a_code_from_newcode_starts_a_course_owned_by_the_clinician(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(1001, "K-7001")
    course = user.course()
    with transaction(app.db) as session:
        owner = session.get(Clinician, course.clinician_id)
    assert course.label == "K-7001" and owner is not None and owner.telegram_id == 501


def _course_in_week_3(app: App, clock: FakeClock, kari: Colleague, chat_id: int, label: str) -> None:
    user = kari.enrol(chat_id, label)
    do_intake(user, "nb", PHQ_START, GAD_START)
    go_to_next_checkin(app, clock, user)
    do_checkin(user, PHQ_WEEK2, GAD_WEEK2)


def test_cases_shows_open_alerts_first_with_trends_and_homework(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    _course_in_week_3(app, clock, kari, 1001, "K-A")
    worried = kari.enrol(1002, "K-B")
    worried.send("Kan noen ringe meg?")
    other = Colleague(app, 502, "Per")
    other.enrol(1003, "K-C")
    kari.receive()

    reply = kari.send("/cases")
    text = reply[-1].text
    assert text.startswith("Sakene dine (2)")
    assert text.index("K-B") < text.index("K-A"), "the case with an open alert comes first"
    assert "K-C" not in text, "another clinician's case is not in my list"
    assert "⚠️ K-B" in text and "Åpne varsler: Ber om kontakt" in text
    assert "K-A · Depresjon og nedstemthet · uke 3 · I gang, venter på neste samtale" in text
    assert "PHQ-9 10↓ · GAD-7 7↓" in text
    assert "Hjemmearbeid gjort: 1 av 1" in text
    mine = kari.send("/cases alle")[-1].text
    assert mine.startswith("Alle åpne saker i teamet (2)") and "K-C" not in mine, "need-to-know: not Per's case"
    admin = Colleague(app, 503, "Anne", admin=True)
    everyone = admin.send("/cases alle")[-1].text
    assert everyone.startswith("Alle åpne saker i teamet (3)") and "K-C" in everyone


def test_case_shows_the_course_a_chart_the_answers_and_a_draft_note(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    _course_in_week_3(app, clock, kari, 1001, "K-A")
    kari.receive()

    messages = kari.send("/case K-A")
    summary, chart, answers, note = messages
    assert summary.text.startswith("Sak K-A · Depresjon og nedstemthet")
    assert "PHQ-9 uke for uke: 12 → 10 (nå moderate plager)" in summary.text
    assert "GAD-7 uke for uke: 9 → 7 (nå milde plager)" in summary.text
    assert "Samtaler gjennomført: 1" in summary.text
    assert chart.kind == "photo" and chart.image is not None and chart.image.startswith(b"\x89PNG")
    assert "K-A" in chart.text
    assert "Jobbet med (uke 2): Del 1 og 2, aktivitetsdagbok" in answers.text
    assert "Gjorde hjemmearbeidet (uke 2): Ja" in answers.text
    assert "Mål for kurset (uke 1): Sove bedre og komme meg ut hver dag" in answers.text
    assert "Plan for uken (uke 2): Tirsdag kveld: del 3" in answers.text

    lines = note.text.splitlines()
    assert [line for line in lines if line.isupper()] == ["AKTUELT", "VURDERING", "TILTAK"]
    assert "PHQ-9: 10 (moderate plager), 12 ved start (12 → 10). Endringen er innenfor måleusikkerheten." in lines
    assert "Brukerens plan for uken: Tirsdag kveld: del 3" in lines
    assert "Ingen varsler i kurset." in lines
    lowered = note.text.lower()
    assert "risiko" not in lowered and "risk" not in lowered, "no risk grading"
    viewed = [a for a in audit_actions(app) if a.action == "case_viewed"]
    assert [(a.subject, a.detail) for a in viewed] == [("K-A", {"channel": "telegram"})]


def test_the_note_lists_signals_and_who_acknowledged_them(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(1001, "K-A")
    user.send("I just want to unalive")
    kari.send(f"/ack {user.alerts()[0].id}")
    note = kari.send("/case K-A")[-1].text
    assert "• Risikoord, uke 1, 2026-01-05 10:00: «unalive». Kvittert av Kari 2026-01-05 10:00." in note


def test_case_for_an_unknown_label_says_so_to_a_clinician(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    assert kari.send("/case K-9999")[-1].text.startswith("Jeg finner ingen sak med merkelappen K-9999")
    assert kari.send("/case")[-1].text.startswith("Skriv /case og merkelappen")


def test_labels_are_found_in_any_letter_case(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    kari.enrol(1001, "K-Abc")
    assert kari.send("/case k-abc")[0].text.startswith("Sak K-Abc")


def test_clinician_actions_are_audited_without_message_text(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    _course_in_week_3(app, clock, kari, 1001, "K-A")
    kari.send("/cases")
    kari.send("/case K-A")
    kari.send("/alerts")
    with transaction(app.db) as session:
        entries = session.exec(select(AuditEntry)).all()
    dumped = " ".join(f"{e.subject} {e.detail}" for e in entries)
    for words in ("Tirsdag kveld", "aktivitetsdagbok", "Sove bedre"):
        assert words not in dumped
    assert {"cases_viewed", "case_viewed", "alerts_viewed"} <= {e.action for e in entries}
