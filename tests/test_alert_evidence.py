"""Alert evidence is data (a kind and its values), shown through texts in the reader's language."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.app import App
from bot.clock import FakeClock
from bot.dialogs import evidence
from bot.engine.alerts import alert_view
from bot.engine.events import Event
from bot.engine.personal_data import export_data
from bot.engine.turn import Turn
from bot.storage.db import transaction
from bot.storage.models import Alert, Course
from tests.support.clinician import Colleague
from tests.support.participant import do_intake, go_to_next_checkin, team_messages

TEAM = -1001


def _turn(app: App, session: Session, course: Course) -> Turn:
    loaded = app.dialogs.current
    turn = Turn(
        session,
        Event.message(course.chat_id or 0, "x"),
        app.engine.clock.now(),
        loaded.dialogs,
        loaded.renderer,
        app.settings,
    )
    turn.course = course
    return turn


def test_each_kind_reads_in_each_shipped_language(app: App) -> None:
    renderer = app.dialogs.current.renderer
    for kind, values in evidence.SAMPLES.items():
        for locale in ("nb", "en"):
            shown = evidence.render_entry(renderer, locale, {"kind": kind, **values})
            fallback = " ".join([kind, *(f"{k}={v}" for k, v in values.items())])
            assert shown and shown != fallback and "{" not in shown, (kind, locale, shown)
    item9 = evidence.risk_item("PHQ-9", 9, 2)
    assert evidence.render_entry(renderer, "en", item9) == "PHQ-9 item 9 = 2"
    assert evidence.render_entry(renderer, "nb", item9) == "PHQ-9, spørsmål 9: svar 2"
    assert evidence.render_entry(renderer, "nb", evidence.contact_requested()) != evidence.render_entry(
        renderer, "en", evidence.contact_requested()
    )


def test_old_plain_strings_and_unknown_kinds_still_show(app: App) -> None:
    renderer = app.dialogs.current.renderer
    assert evidence.render_entry(renderer, "nb", "PHQ-9 item 9 = 2") == "PHQ-9 item 9 = 2"
    assert evidence.render_entry(renderer, "nb", {"kind": "gone", "n": 3}) == "gone n=3"
    assert evidence.render_entry(renderer, "nb", {"kind": "risk_item"}) == "risk_item", "values missing: as data"


def test_item_9_is_stored_as_data_and_read_in_the_service_and_the_persons_language(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    go_to_next_checkin(app, clock, user)
    user.send("/language")
    user.press("English")
    for value in [1, 1, 1, 1, 1, 1, 1, 1, 2]:
        user.press_index(value)

    [alert] = user.alerts()
    assert alert.evidence == [{"kind": "risk_item", "instrument": "PHQ-9", "item": 9, "value": 2}]
    [to_team] = [m for m in team_messages(app, TEAM) if "K-3001" in m.text]
    assert "PHQ-9, spørsmål 9: svar 2" in to_team.text, "the team reads the service's language (nb)"
    with transaction(app.db) as session:
        course = session.exec(select(Course)).one()
        turn = _turn(app, session, course)
        assert export_data(turn)["alerts"][0]["evidence"] == ["PHQ-9 item 9 = 2"], "/mydata: the person's (en)"


def test_an_old_row_with_plain_string_evidence_still_renders(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3002, "K-3002")
    with transaction(app.db) as session:
        course = session.exec(select(Course)).one()
        now = clock.now()
        session.add(
            Alert(
                course_id=course.id,
                label="K-3002",
                signal="risk_answer",
                level="urgent",
                evidence=["PHQ-9 item 9 = 2"],
                week=2,
                created_at=now,
                updated_at=now,
            )
        )
    with transaction(app.db) as session:
        [row] = session.exec(select(Alert)).all()
        assert str(alert_view(_turn(app, session, course), row)["evidence"]) == "PHQ-9 item 9 = 2"
    assert any("PHQ-9 item 9 = 2" in m.text for m in kari.send("/alerts"))
    assert user.alerts()
