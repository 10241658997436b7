"""/delete in the engine: what an open alert keeps, and what still reaches the clinicians."""

from __future__ import annotations

from sqlmodel import col, select

from bot.app import App
from bot.storage.db import transaction
from bot.storage.models import Alert, OutboxItem
from bot.storage.outbox import take_unsent
from tests.support.clinician import Colleague

TEAM = -1001
RISK = "jeg vil ta livet mitt"


def _alert_rows(app: App) -> list[OutboxItem]:
    with transaction(app.db) as session:
        query = select(OutboxItem).where(col(OutboxItem.alert_id).is_not(None)).order_by(col(OutboxItem.id))
        return list(session.exec(query).all())


def test_an_open_alert_not_yet_delivered_still_reaches_the_team_after_delete(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send(RISK)  # the team's copy is queued, not yet delivered
    user.send("/delete")
    user.press("Ja, slett alt")

    with transaction(app.db) as session:
        [queued] = [row for row in take_unsent(session, [TEAM]) if row.alert_id is not None]
    assert "K-3001" in queued.payload["text"] and "ta livet mitt" in queued.payload["text"]


def test_delivered_copies_of_an_open_alert_lose_their_text_but_keep_the_button(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.send(RISK)
    with transaction(app.db) as session:
        take_unsent(session, [TEAM, 501])  # delivered
    user.send("/delete")
    user.press("Ja, slett alt")

    rows = _alert_rows(app)
    assert rows and all("text" not in row.payload for row in rows)
    assert all(row.payload["buttons"][0][0]["text"] == "Kvitter" for row in rows)
    with transaction(app.db) as session:
        [alert] = session.exec(select(Alert)).all()
        assert alert.erased_at is not None and alert.messages[0]["text"] == RISK

    kari.send(f"/ack {alert.id}")
    assert _alert_rows(app) == []
    with transaction(app.db) as session:
        assert session.exec(select(Alert)).all() == []


def test_delete_erases_every_course_of_the_chat_and_the_clinicians_case_views(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    kari.send("/case K-3001")
    kari.send("/close K-3001 none")
    code = kari.new_code(label="K-3002")
    user.send(code)
    assert user.course().label == "K-3002"
    kari.send("/case K-3002")

    user.send("/delete")
    user.press("Ja, slett alt")
    with transaction(app.db) as session:
        left = session.exec(select(OutboxItem)).all()
    assert not [row for row in left if "K-300" in str(row.payload)]
    # To the person, only this turn's answer to the button and the farewell are left.
    texts = [row.payload["text"] for row in left if row.chat_id == 3001 and row.kind == "text"]
    assert len(texts) == 1 and "alt du har svart og skrevet" in texts[0]
