"""Every text a person writes is read, clinicians see the whole message, and typed digits are positions.

Engine level: edited messages, captions and command arguments are scanned; a voice message
gets a kind "I can't listen" with the crisis lines; the clinician's case view shows the whole
message (marked when edited) while the team chat keeps only the matched words; and a digit
typed on a symptom scale is the option's position (1 = "Ikke i det hele tatt", score 0).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import App
from bot.channels.console import ConsoleChat
from bot.channels.telegram.updates import to_event
from bot.engine.codes import issue_code
from bot.engine.events import Event
from bot.storage.db import transaction
from bot.storage.models import Course, Score
from tests.support.clinician import Colleague
from tests.support.course_script import INTAKE_ANSWERS
from tests.support.evidence import shown_evidence
from tests.support.participant import Participant, Sent, team_messages

TEAM = -1001
RISK_NB = "jeg vil ta livet mitt"
RISK_EN = "i want to kill myself"
CRISIS_NB = "Takk for at du sier det."
CRISIS_LINES = ("116 123", "22 40 00 40", "113")


def _intake_to_phq(user: Participant, locale: str = "nb") -> None:
    for label in INTAKE_ANSWERS[locale]:
        user.press(label)
    assert "PHQ-9 (1/9)" in user.last().text


def _team_alerts(app: App, label: str) -> list[Sent]:
    return [m for m in team_messages(app, TEAM) if label in m.text and m.buttons]


# -- every text is read ----------------------------------------------------------


def test_an_edited_message_with_risk_words_raises_an_alert_marked_as_an_edit(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4001, "K-4001")
    user.receive()
    edited = f"Egentlig har jeg det ikke så bra. {RISK_NB.capitalize()}."

    app.handle(Event("edited", user.chat_id, user.chat_id, text=edited, language="nb"))

    replies = user.receive()
    assert replies[0].text.startswith(CRISIS_NB)
    assert not any("endret en melding" in m.text for m in replies), "no 'I keep your first answer' after it"
    [alert] = user.alerts()
    assert alert.signal == "risk_words" and alert.level == "urgent"
    assert alert.messages[0]["text"] == edited and alert.messages[0]["edited"] is True
    [team_alert] = _team_alerts(app, "K-4001")
    assert "(i en redigert melding)" in team_alert.text
    assert edited not in team_alert.text and "Egentlig" not in team_alert.text, "no whole text in the team chat"

    case = "\n".join(m.text for m in kari.send("/case K-4001"))
    assert f"Hele meldingen (redigert), 2026-01-05 10:00: «{edited}»" in case


def test_an_edit_without_risk_words_keeps_its_kind_reply_and_raises_nothing(app: App) -> None:
    user = Participant(app, 4002)
    user.start_with_new_code(label="K-4002")
    app.handle(Event("edited", user.chat_id, user.chat_id, text="jeg sov dårlig i natt", language="nb"))
    assert "endret en melding" in user.receive()[0].text
    assert user.alerts() == []


def test_a_photo_caption_with_risk_words_raises_an_alert_before_the_unsupported_reply(app: App) -> None:
    user = Participant(app, 4003)
    user.start_with_new_code(label="K-4003")
    user.receive()
    app.handle(Event("unsupported", user.chat_id, user.chat_id, text=RISK_NB, language="nb"))
    replies = user.receive()
    assert replies[0].text.startswith(CRISIS_NB)
    assert not any("bare lese tekst" in m.text for m in replies), "no 'I could not use that' after it"
    assert replies[-1].buttons, "a way to go on"
    [alert] = user.alerts()
    assert alert.signal == "risk_words" and alert.messages[0] == {**alert.messages[0], "text": RISK_NB, "edited": False}
    assert _team_alerts(app, "K-4003")


def test_a_photo_without_caption_still_gets_the_text_only_reply(app: App) -> None:
    user = Participant(app, 4004)
    user.start_with_new_code(label="K-4004")
    user.receive()
    app.handle(Event("unsupported", user.chat_id, user.chat_id, language="nb"))
    replies = user.receive()
    assert "bare lese tekst" in replies[0].text and replies[-1].labels()
    assert user.alerts() == []


def test_text_after_a_command_is_read(app: App) -> None:
    user = Participant(app, 4005)
    user.start_with_new_code(label="K-4005")
    user.receive()
    replies = user.send(f"/checkin {RISK_NB}")  # with words after it, /checkin is a clinician's command
    assert replies[0].text.startswith(CRISIS_NB)
    assert not any("ikke tilgjengelig" in m.text for m in replies)
    assert [a.signal for a in user.alerts()] == ["risk_words"]
    assert user.alerts()[0].messages[0]["text"] == RISK_NB

    user.send(f"/plan {RISK_NB}")
    assert len(user.alerts()[0].messages) == 2, "joins the open alert"


def test_text_after_start_is_read_in_a_chat_without_a_course(app: App) -> None:
    stranger = Participant(app, 4006)
    replies = stranger.send(f"/start abc {RISK_NB}")
    assert replies[0].text.startswith(CRISIS_NB)
    [alert] = team_messages(app, TEAM)
    assert "Risikoord" in alert.text and RISK_NB not in alert.text


def test_a_clinicians_own_commands_are_not_scanned(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    kari.send(f"/newcode depression K-4007 {RISK_NB}")
    assert team_messages(app, TEAM) == []


# -- what cannot be read ---------------------------------------------------------


def test_a_voice_message_gets_a_kind_reply_with_the_crisis_lines_and_the_question_again(app: App) -> None:
    user = Participant(app, 4010)
    user.start_with_new_code(label="K-4010")
    user.receive()
    app.handle(Event("unreadable", user.chat_id, user.chat_id, language="nb"))
    replies = user.receive()
    assert "kan dessverre ikke høre" in replies[0].text
    crisis_line = [line for line in replies[0].text.splitlines() if "116 123" in line]
    assert len(crisis_line) == 1 and all(number in crisis_line[0] for number in CRISIS_LINES)
    assert replies[-1].labels() == ["Ja, vi fortsetter", "Nei, ikke nå"]
    assert user.alerts() == [] and team_messages(app, TEAM) == []


def test_a_voice_message_in_english_and_without_a_course(app: App) -> None:
    stranger = Participant(app, 4011, language="en")
    app.handle(Event("unreadable", stranger.chat_id, stranger.chat_id, language="en"))
    [reply] = stranger.receive()
    assert "can't listen to voice" in reply.text
    assert all(number in reply.text for number in CRISIS_LINES)


def test_the_caption_of_a_voice_message_is_read_too(app: App) -> None:
    user = Participant(app, 4012, language="en")
    user.start_with_new_code(label="K-4012")
    user.receive()
    app.handle(Event("unreadable", user.chat_id, user.chat_id, text=RISK_EN, language="en"))
    replies = user.receive()
    assert "can't listen" in replies[0].text
    assert replies[1].text.startswith("Thank you for telling me.")
    assert [a.signal for a in user.alerts()] == ["risk_words"]


def _message(**content: Any) -> dict[str, Any]:
    return {
        "message_id": 5,
        "from": {"id": 42, "is_bot": False, "first_name": "X", "language_code": "nb"},
        "chat": {"id": 42, "type": "private", "first_name": "X"},
        "date": 1,
        **content,
    }


def test_telegram_updates_carry_edited_texts_captions_and_spoken_content() -> None:
    bot = "guidebot_test_bot"
    edited = to_event({"update_id": 1, "edited_message": _message(text=RISK_NB, edit_date=2)}, bot)
    assert edited is not None and (edited.kind, edited.text) == ("edited", RISK_NB)
    edited_caption = to_event(
        {"update_id": 2, "edited_message": _message(photo=[{"file_id": "p"}], caption=RISK_NB)}, bot
    )
    assert edited_caption is not None and (edited_caption.kind, edited_caption.text) == ("edited", RISK_NB)
    for kind in ("photo", "document", "video"):
        event = to_event({"update_id": 3, "message": _message(**{kind: {"file_id": "f"}}, caption=RISK_NB)}, bot)
        assert event is not None and (event.kind, event.text) == ("unsupported", RISK_NB), kind
    for kind in ("voice", "video_note", "audio"):
        event = to_event({"update_id": 4, "message": _message(**{kind: {"file_id": "f"}})}, bot)
        assert event is not None and (event.kind, event.text) == ("unreadable", ""), kind
    sticker = to_event({"update_id": 5, "message": _message(sticker={"file_id": "s"})}, bot)
    assert sticker is not None and (sticker.kind, sticker.text) == ("unsupported", "")


# -- clinicians see the whole message ---------------------------------------------


def test_case_shows_the_whole_messages_and_the_team_chat_only_the_matched_words(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4020, "K-4020")
    first = f"Jeg har tenkt mye i det siste. {RISK_NB.capitalize()}, men jeg vet ikke."
    user.send(first)
    [team_alert] = _team_alerts(app, "K-4020")
    assert "Jeg har tenkt mye" not in team_alert.text and "(i en redigert" not in team_alert.text

    case = "\n".join(m.text for m in kari.press("Vis sak", team_alert))
    assert "Varsler:" in case and f"Hele meldingen, 2026-01-05 10:00: «{first}»" in case
    assert "(redigert)" not in case


def test_show_case_of_an_acknowledged_alert_still_shows_its_message(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4021, "K-4021")
    user.send(RISK_NB)
    [alert] = user.alerts()
    kari.send(f"/ack {alert.id}")
    case = "\n".join(m.text for m in kari.press_data(f"a:case:{alert.id}"))
    assert f"«{RISK_NB}»" in case and "Kvittert av Kari" in case


def test_show_case_of_an_alert_from_a_chat_without_a_course_shows_the_alert(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    stranger = Participant(app, 4022)
    stranger.send(RISK_NB)
    [team_alert] = team_messages(app, TEAM)
    replies = kari.press_data(team_alert.buttons[1]["data"], chat_id=TEAM)
    assert kari.callbacks[-1] == "Saken er sendt til deg i privat chat."
    assert len(replies) == 1 and replies[0].chat_id == 501
    assert "ingen sak å vise" in replies[0].text and f"«{RISK_NB}»" in replies[0].text


def test_alerts_list_marks_an_edit_without_the_whole_text(app: App) -> None:
    kari = Colleague(app, 501, "Kari")
    user = kari.enrol(4023, "K-4023")
    app.handle(Event("edited", user.chat_id, user.chat_id, text=f"hei. {RISK_NB}", language="nb"))
    listed = "\n".join(m.text for m in kari.send_in_team("/alerts"))
    assert "(i en redigert melding)" in listed and "hei." not in listed


# -- typed digits are option positions ------------------------------------------------


def _phq_total(app: App, course_id: int | None) -> int | None:
    with transaction(app.db) as session:
        score = session.exec(select(Score).where(Score.course_id == course_id, Score.instrument == "phq9")).first()
        return score.total if score is not None else None


def test_typing_1_on_every_phq9_item_is_a_total_of_0_and_raises_nothing(app: App) -> None:
    user = Participant(app, 4030)
    user.start_with_new_code(label="K-4030")
    _intake_to_phq(user)
    for _ in range(9):
        user.send("1")
    assert "GAD-7 (1/7)" in user.last().text
    for _ in range(7):
        user.send("1")
    assert _phq_total(app, user.course().id) == 0
    assert user.alerts() == [] and team_messages(app, TEAM) == []
    assert not any(m.text.startswith(CRISIS_NB) for m in user.inbox)


def test_typing_4_on_item_9_raises_the_urgent_alert(app: App) -> None:
    user = Participant(app, 4031)
    user.start_with_new_code(label="K-4031")
    _intake_to_phq(user)
    for _ in range(8):
        user.send("1")
    replies = user.send("4")
    assert replies[0].text.startswith(CRISIS_NB)
    [alert] = user.alerts()
    assert (alert.signal, alert.level, shown_evidence(app, alert)) == ("risk_answer", "urgent", ["PHQ-9 item 9 = 3"])


def test_a_digit_outside_the_options_is_asked_again_and_labels_still_work(app: App) -> None:
    user = Participant(app, 4032)
    user.start_with_new_code(label="K-4032")
    _intake_to_phq(user)
    for typed in ("0", "5", "²", "9" * 5000):
        replies = user.send(typed)
        assert "Trykk på en av knappene" in replies[0].text, typed
        assert "PHQ-9 (1/9)" in replies[-1].text
    user.send("nesten hver dag")
    user.send("2")
    assert user.course().scratch["measure"]["values"]["phq9"] == {"interest": 3, "mood": 1}


def test_typed_digits_are_positions_in_english_too(app: App) -> None:
    user = Participant(app, 4033, language="en")
    user.start_with_new_code(label="K-4033")
    _intake_to_phq(user, "en")
    user.send("1")
    user.send("Not at all")
    user.send("3")
    assert user.course().scratch["measure"]["values"]["phq9"] == {"interest": 0, "mood": 0, "sleep": 2}


def test_the_console_reads_typed_digits_as_positions(app: App) -> None:
    lines: list[str] = []
    console = ConsoleChat(app, write=lines.append, chat_id=4040)
    with transaction(app.db) as session:
        code = issue_code(session, app.engine.clock.now(), program="depression", label="K-4040", ttl_days=30).code
    console.send(f"/start {code}")
    console.send("1")  # consent: the first button
    console.send("30–49")  # a button's label works as well
    console.send("En del")
    console.send("/help")  # shows no buttons: numbers now go to the engine as typed text
    assert console.buttons == []
    for _ in range(9 + 7):  # PHQ-9, then GAD-7
        console.send("1")
    with transaction(app.db) as session:
        course = session.exec(select(Course).where(Course.chat_id == 4040)).one()
    assert _phq_total(app, course.id) == 0
    assert team_messages(app, TEAM) == []
