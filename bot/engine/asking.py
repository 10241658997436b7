"""Asking directly when a text is unclear, and pausing the conversation after the crisis message.

When a text may be about suicidal thoughts but is not clear ("jeg orker ikke mer"),
the bot does not guess: it stores a HELD alert and asks the person plainly, with
three buttons. "Yes" and "I'd rather not say" send the alert to the clinicians at
once and give the crisis contacts; "no" leaves a notice for the case's clinician;
no answer within the hold time releases the alert (the scheduler does that).

After the crisis message the next question is not sent straight away: the person
chooses to go on now or later. Nothing here grades risk.

Callback data: `r:y:<alert>`, `r:n:<alert>`, `r:s:<alert>` (the answers),
`r:c` and `r:l` (continue now, later).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.dialogs import contract, evidence
from bot.engine import flows, policy
from bot.engine.alerts import (
    LEVEL_ORDER,
    notify_clinicians,
    open_alert,
    raise_signal,
    release_alert,
    tell_user_crisis,
)
from bot.engine.codes import audit
from bot.engine.crisis_pause import CONTINUE, PAUSE, offer_continue
from bot.engine.safety_plan import has_plan
from bot.engine.signals import normalize_text
from bot.engine.turn import Turn
from bot.storage.models import Alert

SIGNAL = contract.RISK_WORDS
HOLD_MINUTES = 30
# Course.scratch key: the alert a direct question is waiting on.
ASKED = "asked_alert"

YES, NO, SKIP = "y", "n", "s"
ANSWER_LABELS = {YES: "asking.yes", NO: "asking.no", SKIP: "asking.skip"}
# Typed answers accepted while a question is open (after normalize_text).
TYPED = {
    YES: {"ja", "jo", "jepp", "ja det har jeg", "yes", "yeah", "yep", "y"},
    NO: {"nei", "nei nei", "nope", "nei det har jeg ikke", "no", "nah", "n"},
    SKIP: {
        "vil ikke svare",
        "jeg vil ikke svare",
        "rather not say",
        "i d rather not say",
        "id rather not say",
        "i would rather not say",
    },
}


# -- asking ------------------------------------------------------------------


def pending_ask(turn: Turn) -> Alert | None:
    """The held alert a direct question is waiting on, for the course (or the chat without one)."""
    return open_alert(turn, SIGNAL, held=True)


def ask(turn: Turn, asked: str, text: str) -> None:
    """An unclear text: hold an alert and ask the person directly, unless a question is already open."""
    pending = pending_ask(turn)
    alert = raise_signal(turn, SIGNAL, evidence.words(asked), message=text, hold_minutes=HOLD_MINUTES)
    if alert is None or alert.id is None:
        return
    if pending is not None and pending.id == alert.id:
        turn.say("asking.still_open")  # it joined the open question; no second question
        return
    if alert.held_until is None:
        level = turn.dialogs.escalation.signals[SIGNAL].level
        if LEVEL_ORDER.get(alert.level, 0) <= LEVEL_ORDER.get(level, 0):
            tell_user_crisis(turn)  # the team already has an open alert: the contacts, as for any risk text
            return
        # A notice left by an earlier "no": this new text is asked about again, held as before.
        alert.level = level
        alert.held_until = turn.now + timedelta(minutes=HOLD_MINUTES)
        alert.next_resend_at = alert.held_until
        audit(
            turn.session, turn.now, "engine", "alert_held", alert.label, alert_id=alert.id, signal=SIGNAL, level=level
        )
    if turn.course is not None:
        turn.set_scratch(ASKED, alert.id)
    buttons = [
        [
            {"text": turn.text(ANSWER_LABELS[YES]), "data": f"r:{YES}:{alert.id}"},
            {"text": turn.text(ANSWER_LABELS[NO]), "data": f"r:{NO}:{alert.id}"},
        ],
        [{"text": turn.text(ANSWER_LABELS[SKIP]), "data": f"r:{SKIP}:{alert.id}"}],
    ]
    turn.say("asking.question", buttons=buttons)


def typed_answer(turn: Turn, text: str) -> bool:
    """A typed "ja", "nei" or "vil ikke svare" while a question is open is taken as the answer."""
    typed = normalize_text(text)
    answer = next((key for key, words in TYPED.items() if typed in words), None)
    if answer is None:
        return False
    alert = pending_ask(turn)
    if alert is None:
        return False
    _answer(turn, alert, answer, live=True)
    return True


def on_button(turn: Turn, rest: str) -> bool:
    """An `r:` button; False if it is stale (the caller says so) and nothing changed."""
    kind, _, id_text = rest.partition(":")
    if kind in ("c", "l"):
        return _pause_button(turn, kind)
    if kind not in ANSWER_LABELS or not id_text.isdigit():
        return False
    alert = turn.session.exec(select(Alert).where(Alert.id == int(id_text)).with_for_update()).first()
    if alert is None or not _owned(turn, alert):
        return False
    live = alert.held_until is not None and alert.acknowledged_at is None
    # Released meanwhile (no answer in time, or a clear risk text), but this question was never answered:
    # a late answer is still heard, and changes no alert (the clinicians already have it).
    late = not live and turn.course is not None and turn.course.scratch.get(ASKED) == alert.id
    if not (live or late):
        return False
    turn.ack_button(chosen=turn.text(ANSWER_LABELS[kind]))
    _answer(turn, alert, kind, live=live)
    return True


def _owned(turn: Turn, alert: Alert) -> bool:
    if turn.course is not None:
        return alert.course_id == turn.course.id
    return alert.course_id is None and alert.chat_id == turn.event.chat_id


def _answer(turn: Turn, alert: Alert, answer: str, *, live: bool) -> None:
    if turn.course is not None:
        turn.set_scratch(ASKED, None)
    audit(turn.session, turn.now, "user", "direct_question_answered", alert.label, alert_id=alert.id, late=not live)
    if answer == NO:
        if live:
            _leave_notice(turn, alert)
        turn.say("asking.thanks_no" if live else "asking.thanks_no_late")
        if turn.course is not None:
            policy.reask(turn)
        return
    if live:
        release_alert(turn, alert, "alert.answered_yes" if answer == YES else "alert.answered_skip")
    tell_user_crisis(turn)
    offer_continue(turn)


def _leave_notice(turn: Turn, alert: Alert) -> None:
    """They answered no: the held alert becomes a notice for the case's clinician, not re-sent."""
    alert.level = "notice"
    alert.held_until = None
    alert.next_resend_at = None
    alert.updated_at = turn.now
    audit(
        turn.session,
        turn.now,
        "engine",
        "alert_noticed",
        alert.label,
        alert_id=alert.id,
        signal=alert.signal,
        level=alert.level,
    )
    notify_clinicians(turn, alert, "alert.denied")


# -- the pause after the crisis message --------------------------------------


def pauses(turn: Turn, action: str) -> bool:
    """Whether this text's scan stops the conversation: a direct question, or the crisis message shown."""
    return action == "ask" or (action == "alert" and turn.told_crisis)


def pause(turn: Turn, text: str) -> None:
    """Keep a free-text answer as written, but send no next question; after the crisis message, offer a choice."""
    flows.keep_text(turn, text)
    if turn.told_crisis:
        offer_continue(turn)


def _pause_button(turn: Turn, kind: str) -> bool:
    course = turn.course
    if course is None or turn.step() is None:
        return False
    state = course.scratch.get(PAUSE)
    if state not in ("choice", "later") or (kind == "l" and state != "choice"):
        return False
    if kind == "l":
        turn.ack_button(chosen=turn.text("asking.later"))
        turn.set_scratch(PAUSE, "later")
        turn.say("asking.later_text", buttons=[[{"text": turn.text("asking.continue_now"), "data": CONTINUE}]])
        return True
    turn.ack_button(chosen=turn.text("asking.continue_now"))
    turn.set_scratch(PAUSE, None)
    text = turn.text("asking.continuing")
    if not has_plan(turn.facts().answers):
        text += "\n\n" + turn.text("asking.safetyplan_offer")
    turn.send(text)
    policy.reask(turn)
    return True
