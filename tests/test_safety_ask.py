"""Asking directly when a text is unclear, and the pause after the crisis message (engine, FakeClock)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.app import App
from bot.clock import FakeClock
from bot.storage.db import transaction
from bot.storage.models import Alert, OutboxItem
from tests.support.clinician import Colleague
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

TEAM = -1001
UNCLEAR = "jeg orker ikke mer"
CLEAR = "jeg vil ta livet mitt"
QUESTION = "Har du tanker om å ta livet ditt?"
CRISIS = "Takk for at du sier det. Jeg tar det du skriver på alvor."
WHAT = "Hva jobbet du med?"
TIMES = "Hvor mange ganger øvde du?"
STALE = "Den knappen er ikke i bruk lenger."
CONTINUE_PROMPT = "Vil du fortsette samtalen vår nå, eller ta den senere?"
SAFETYPLAN_OFFER = "Skriv /safetyplan når det passer deg."


def _in_checkin_at_what(
    app: App, clock: FakeClock, kari: Colleague, chat: int = 3001, label: str = "K-3001"
) -> Participant:
    """A user in the week 2 check-in, just asked the free-text question "what did you work on"."""
    user = kari.enrol(chat, label)
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    go_to_next_checkin(app, clock, user)
    answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
    user.press("Ja")
    assert WHAT in user.last().text
    return user


def _texts(messages: list[Sent]) -> str:
    return "\n".join(m.text for m in messages)


def _callbacks(app: App, chat_id: int) -> list[str]:
    with transaction(app.db) as session:
        rows = session.exec(
            select(OutboxItem)
            .where(OutboxItem.chat_id == chat_id, OutboxItem.kind == "callback")
            .order_by(col(OutboxItem.id))
        ).all()
        return [str(r.payload.get("text") or "") for r in rows]


def _alert(app: App, alert_id: int | None) -> Alert:
    with transaction(app.db) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert


def test_an_unclear_text_is_asked_about_and_held_and_the_next_question_waits(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    team_before = len(team_messages(app, TEAM))

    replies = user.send(UNCLEAR)

    assert len(replies) == 1 and QUESTION in replies[0].text
    assert replies[0].labels() == ["Ja", "Nei", "Vil ikke svare"]
    assert all(len(b["data"].encode()) < 64 for b in replies[0].buttons)
    assert CRISIS not in _texts(replies) and TIMES not in _texts(replies), "no guess, and no next question"
    assert len(team_messages(app, TEAM)) == team_before and kari.receive() == [], "held: nobody told yet"
    [alert] = user.alerts()
    assert (alert.signal, alert.level) == ("risk_words", "urgent")
    [evidence] = shown_evidence(app, alert)
    assert evidence.startswith("«") and evidence.endswith("»") and "orker" in evidence
    assert alert.held_until == clock.now() + timedelta(minutes=30)
    assert alert.messages[0]["text"] == UNCLEAR
    assert user.answers()["homework_what"] == UNCLEAR, "what they wrote is kept"
    assert user.course().step == "what"


def test_yes_alerts_the_team_at_once_and_gives_the_crisis_contacts(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)
    clock.advance(minutes=3)

    replies = user.press("Ja")

    assert replies[0].text.startswith(CRISIS)
    for number in ("113", "116 117", "116 123", "22 40 00 40"):
        assert number in replies[0].text
    assert replies[-1].text == CONTINUE_PROMPT and replies[-1].labels() == ["Fortsett nå", "Senere"]
    assert TIMES not in _texts(replies) and WHAT not in _texts(replies)
    [alert] = user.alerts()
    assert alert.held_until is None and alert.level == "urgent"
    assert alert.next_resend_at == clock.now() + timedelta(minutes=15), "re-sent until acknowledged"
    [to_team] = [m for m in team_messages(app, TEAM) if "K-3001" in m.text]
    assert "svarte ja" in to_team.text and "Risikoord (haster)" in to_team.text
    assert shown_evidence(app, alert, "nb")[0] in to_team.text
    assert to_team.labels() == ["Kvitter", "Vis sak"]
    assert any("svarte ja" in m.text for m in kari.receive()), "the owning clinician has it too"

    clock.advance(minutes=15)
    assert run_due_timers(app) == 1
    assert "ikke kvittert ennå (1)" in team_messages(app, TEAM)[-1].text


def test_no_answer_in_30_minutes_alerts_the_team(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)
    team_before = len(team_messages(app, TEAM))

    clock.advance(minutes=29)
    run_due_timers(app)
    assert len(team_messages(app, TEAM)) == team_before
    clock.advance(minutes=2)
    run_due_timers(app)

    new = team_messages(app, TEAM)[team_before:]
    [alert] = user.alerts()
    assert len(new) == 1 and "ikke besvart" in new[0].text and shown_evidence(app, alert, "nb")[0] in new[0].text
    assert new[0].labels() == ["Kvitter", "Vis sak"]
    assert alert.held_until is None and alert.next_resend_at == clock.now() + timedelta(minutes=15)
    assert user.receive() == [], "the timer tells the team, not the person"

    # A late "yes" is still heard: the crisis contacts, and no second alert (the team has it).
    replies = user.press("Ja")
    assert replies[0].text.startswith(CRISIS)
    assert len(team_messages(app, TEAM)) == team_before + 1
    assert user.press_data(f"r:y:{alert.id}") == [] and _callbacks(app, 3001)[-1] == STALE


def test_rather_not_say_alerts_the_team(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)

    replies = user.press("Vil ikke svare")

    assert replies[0].text.startswith(CRISIS)
    assert replies[-1].labels() == ["Fortsett nå", "Senere"]
    [alert] = user.alerts()
    assert alert.held_until is None and alert.level == "urgent" and alert.next_resend_at is not None
    [to_team] = [m for m in team_messages(app, TEAM) if "K-3001" in m.text]
    assert "ville ikke svare" in to_team.text


def test_no_leaves_a_notice_for_the_clinician_and_the_conversation_goes_on(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)
    kari.receive()

    replies = user.press("Nei")

    assert CRISIS not in _texts(replies) and "113" not in _texts(replies)
    assert replies[0].text.startswith("Takk for at du svarer meg.")
    assert WHAT in replies[-1].text, "the pending question comes again"
    [alert] = user.alerts()
    assert (alert.level, alert.held_until, alert.next_resend_at) == ("notice", None, None)
    [note] = kari.receive()
    assert "svarte nei" in note.text and "K-3001" in note.text and shown_evidence(app, alert, "nb")[0] in note.text
    assert "til orientering" in note.text
    assert not [m for m in team_messages(app, TEAM) if "haster" in m.text], "no urgent alert in the team chat"

    sent = len(team_messages(app, TEAM))
    clock.advance(minutes=31)
    assert run_due_timers(app) == 0
    assert len(team_messages(app, TEAM)) == sent

    replies = user.send("Del 1 og 2")
    assert TIMES in replies[-1].text
    assert user.answers()["homework_what"] == "Del 1 og 2"


def test_a_clear_risk_text_after_a_no_raises_the_notice_to_an_urgent_alert(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)
    user.press("Nei")

    replies = user.send(CLEAR)

    assert replies[0].text.startswith(CRISIS)
    [alert] = user.alerts()
    assert alert.level == "urgent" and alert.next_resend_at is not None
    assert len(alert.evidence) == 2
    assert any("Risikoord (haster)" in m.text for m in team_messages(app, TEAM))


def test_an_unclear_text_after_a_no_is_asked_about_again(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)
    user.press("Nei")

    replies = user.send("jeg orker ikke mer nå heller")

    assert QUESTION in replies[-1].text
    [alert] = user.alerts()
    assert alert.level == "urgent" and alert.held_until == clock.now() + timedelta(minutes=30)
    user.press("Ja")
    assert "svarte ja" in team_messages(app, TEAM)[-1].text


def test_a_second_unclear_text_joins_the_open_question(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(UNCLEAR)

    replies = user.send("jeg orker ikke mer, alt er for mye")

    assert QUESTION not in _texts(replies) and not any(m.buttons for m in replies)
    [alert] = user.alerts()
    assert len(alert.evidence) == 2 and len(alert.messages) == 2 and alert.held_until is not None


def test_a_typed_yes_or_no_answers_the_open_question(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    yes_user = _in_checkin_at_what(app, clock, kari)
    yes_user.send(UNCLEAR)
    replies = yes_user.send("Ja")
    assert replies[0].text.startswith(CRISIS)
    assert yes_user.alerts()[0].held_until is None
    assert yes_user.press_data(f"r:y:{yes_user.alerts()[0].id}") == [], "the buttons are stale now"

    no_user = kari.enrol(3002, "K-3002")
    no_user.send(UNCLEAR)
    replies = no_user.send("nei.")
    assert replies[0].text.startswith("Takk for at du svarer meg.")
    assert no_user.alerts()[0].level == "notice"


def test_a_clear_risk_text_mid_checkin_pauses_the_conversation(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)

    replies = user.send(CLEAR)

    assert replies[0].text.startswith(CRISIS)
    assert replies[-1].text == CONTINUE_PROMPT
    assert TIMES not in _texts(replies), "the next question is not sent"
    assert user.answers()["homework_what"] == CLEAR
    assert user.course().step == "what"

    replies = user.press("Fortsett nå")
    assert replies[0].text.startswith("Så fint. Da fortsetter vi")
    assert SAFETYPLAN_OFFER in replies[0].text, "no safety plan yet: it is offered"
    assert WHAT in replies[-1].text and replies[-1] is not replies[0]
    assert user.press_data("r:c") == [] and _callbacks(app, 3001)[-1] == STALE

    replies = user.send("Del 1 og 2")
    assert TIMES in replies[-1].text


def test_later_leaves_the_course_waiting_and_checkin_brings_it_back(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    user.send(CLEAR)
    course = user.course()

    replies = user.press("Senere")

    [later] = replies
    assert "/checkin" in later.text and "116 123" in later.text
    assert later.labels() == ["Fortsett nå"]
    assert WHAT not in later.text and TIMES not in later.text
    after = user.course()
    assert (after.state, after.step, after.due_at, after.due_kind) == (
        course.state,
        "what",
        course.due_at,
        course.due_kind,
    )
    assert user.press_data("r:l") == [] and _callbacks(app, 3001)[-1] == STALE

    replies = user.send("/checkin")
    assert WHAT in replies[-1].text
    replies = user.press("Fortsett nå")  # the button under "later" still works once
    assert WHAT in replies[-1].text


def test_a_risk_text_at_a_choice_step_is_not_taken_as_the_answer(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    user.press("Ja, vi fortsetter")
    step = user.course().step
    asked = user.last_with_buttons()

    replies = user.send(CLEAR)

    assert replies[0].text.startswith(CRISIS) and replies[-1].text == CONTINUE_PROMPT
    assert "Svar gjerne" not in _texts(replies)
    assert user.course().step == step and "age_band" not in user.answers()
    replies = user.press("Fortsett nå")
    assert replies[-1].text == asked.text and replies[-1].labels() == asked.labels()


def test_an_item_9_answer_pauses_and_continues_on_fortsett_na(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    for label in ("Ja, vi fortsetter", "30–49", "En del"):
        user.press(label)
    answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1])
    item_9 = user.last_with_buttons()
    replies = user.press_index(2)
    assert replies[0].text.startswith(CRISIS)
    assert replies[-1].text == CONTINUE_PROMPT and replies[-1].labels() == ["Fortsett nå", "Senere"]
    assert "GAD-7" not in _texts(replies), "the next question is not sent"
    [alert] = user.alerts()
    assert alert.signal == "risk_answer"
    assert user.course().scratch["measure"]["values"]["phq9"]["self_harm"] == 2, "the answer is kept"
    assert user.press_data(item_9.buttons[0]["data"]) == [], "the risk item's buttons answer nothing now"

    replies = user.press("Fortsett nå")
    assert SAFETYPLAN_OFFER in replies[0].text
    assert "GAD-7 (1/7)" in replies[-1].text
    answer_measure(user, [1, 1, 1, 1, 1, 1, 1])
    assert user.scores()[("phq9", 1)] == 10, "stored and scored as before"


def test_text_typed_in_the_item_9_pause_shows_the_next_question_rather_than_answering_it(
    app: App, clock: FakeClock
) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    for label in ("Ja, vi fortsetter", "30–49", "En del"):
        user.press(label)
    answer_measure(user, [1, 1, 1, 1, 1, 1, 1, 1])
    replies = user.send("3")  # typed: the third option, "Mer enn halvparten av dagene"
    assert replies[0].text.startswith(CRISIS) and replies[-1].text == CONTINUE_PROMPT

    replies = user.send("2")
    assert "GAD-7 (1/7)" in replies[-1].text
    assert "gad7" not in user.course().scratch["measure"]["values"], "the unseen question was not answered"


def test_stale_and_foreign_ask_buttons_change_nothing(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = _in_checkin_at_what(app, clock, kari)
    other = kari.enrol(3002, "K-3002")
    user.send(UNCLEAR)
    [alert] = user.alerts()
    team_before = len(team_messages(app, TEAM))

    assert other.press_data(f"r:y:{alert.id}") == [], "another user's alert"
    assert _callbacks(app, 3002)[-1] == STALE
    stranger = Participant(app, 4444)
    assert stranger.press_data(f"r:s:{alert.id}") == [], "a chat with no course"
    assert _callbacks(app, 4444)[-1] == STALE
    for data in ("r:y:999", "r:x:1", "r:y:", "r:y:abc", "r"):
        assert user.press_data(data) == []
        assert _callbacks(app, 3001)[-1] == STALE
    assert user.press_data("r:c") == [] and user.press_data("r:l") == [], "no pause to continue from"
    assert _alert(app, alert.id).held_until is not None and len(team_messages(app, TEAM)) == team_before

    user.press("Nei")
    kari.receive()
    for data in (f"r:n:{alert.id}", f"r:y:{alert.id}", f"r:s:{alert.id}"):
        assert user.press_data(data) == []
        assert _callbacks(app, 3001)[-1] == STALE
    stored = _alert(app, alert.id)
    assert (stored.level, stored.held_until, stored.next_resend_at) == ("notice", None, None)
    assert len(team_messages(app, TEAM)) == team_before + 1 and kari.receive() == []


def test_an_unclear_text_between_checkins_is_asked_without_a_continue_choice(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001")
    do_intake(user, "nb", [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1])
    assert user.course().step is None

    replies = user.send(UNCLEAR)
    assert [m.text for m in replies if QUESTION in m.text] and "Neste samtale" not in _texts(replies)
    replies = user.press("Ja")
    assert replies[0].text.startswith(CRISIS) and CONTINUE_PROMPT not in _texts(replies)
    assert user.alerts()[0].held_until is None


def test_english_ask_and_buttons(app: App, clock: FakeClock) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(3001, "K-3001", language="en")
    replies = user.send("i can't do this anymore")
    assert "Are you having thoughts of ending your life?" in replies[-1].text
    assert replies[-1].labels() == ["Yes", "No", "I'd rather not say"]
    replies = user.press("I'd rather not say")
    assert replies[0].text.startswith("Thank you for telling me.")
    assert replies[-1].labels() == ["Continue now", "Later"]
    replies = user.press("Later")
    assert "/checkin" in replies[0].text
