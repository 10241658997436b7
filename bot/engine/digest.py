"""The clinicians' daily digest: cases with feedback due, open alerts, missed check-ins.

Once a day at GUIDEBOT_DIGEST_TIME (service time zone) the scheduler round finds the
digest due (`digest_due`, reading only) and hands the engine a timer event; the engine
checks again under a lock on the `ServiceState` row "digest" and writes one message to
each active clinician's private chat, through the outbox. A clinician sees the cases
they own, those nobody owns, and those of colleagues they cover for (bot/engine/cover.py);
a clinician who is away gets no digest, their cover has their cases. Each case with feedback due has a button "Seen, no
message needed" (`q:seen:<course id>`, handled in bot/clinicians/messages.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from bot.config import parse_clock
from bot.engine.alerts import alert_view
from bot.engine.codes import audit
from bot.engine.cover import covered_by, is_away
from bot.engine.outgoing import Buttons
from bot.engine.turn import Turn
from bot.storage.models import Alert, Clinician, Course, ServiceState
from state_machines.course import RUNNING

DIGEST = "digest"  # the ServiceState key, and the timer event's data
SEEN_BUTTON = "q:seen:"


def _today(now: datetime, tz: ZoneInfo, at: str) -> str | None:
    """Today's date in the service time zone once the digest time has passed, else None."""
    local = now.astimezone(tz)
    if not at or (local.hour, local.minute) < parse_clock(at):
        return None
    return local.date().isoformat()


def digest_due(session: Session, now: datetime, tz: ZoneInfo, at: str) -> bool:
    today = _today(now, tz, at)
    if today is None:
        return False
    state = session.get(ServiceState, DIGEST)
    return state is None or state.value.get("date") != today


def send_digests(turn: Turn) -> None:
    """The timer: send today's digests unless another round already did."""
    config = turn.config
    today = _today(turn.now, config.tz, config.digest_time)
    if today is None:
        return
    state = turn.session.get(ServiceState, DIGEST, with_for_update=True)
    if state is not None and state.value.get("date") == today:
        return
    if state is None:
        state = ServiceState(key=DIGEST)
        turn.session.add(state)
    state.value = {"date": today}
    state.updated_at = turn.now
    everyone = turn.session.exec(select(Clinician).where(col(Clinician.active).is_(True))).all()
    clinicians = [c for c in everyone if not is_away(turn.session, c, turn.now)]  # their cases go to their cover
    for clinician in clinicians:
        _send(turn, clinician, covered_by(turn.session, clinician, turn.now))
    audit(turn.session, turn.now, "engine", "digest_sent", None, clinicians=len(clinicians))


def _theirs(clinician: Clinician, covering: frozenset[int]) -> Any:
    owners = [clinician.id, *sorted(covering)]
    return or_(col(Course.clinician_id).in_(owners), col(Course.clinician_id).is_(None))


def _send(turn: Turn, clinician: Clinician, covering: frozenset[int]) -> None:
    session, locale = turn.session, turn.config.locale
    due = session.exec(
        select(Course)
        .where(col(Course.feedback_due_at).is_not(None), Course.state != "closed", _theirs(clinician, covering))
        .order_by(col(Course.feedback_due_at))
    ).all()
    missed = session.exec(
        select(Course)
        .where(
            or_(
                (col(Course.missed_weeks) > 0) & col(Course.state).in_(RUNNING),
                col(Course.state).in_(("dropped_out", "dropout_eval")),
            ),
            _theirs(clinician, covering),
        )
        .order_by(col(Course.label))
    ).all()
    alerts = session.exec(
        select(Alert)
        .outerjoin(Course, col(Alert.course_id) == col(Course.id))
        .where(col(Alert.acknowledged_at).is_(None), col(Alert.held_until).is_(None), _theirs(clinician, covering))
        .order_by(col(Alert.id))
    ).all()
    values = {
        "feedback_due": [{"label": c.label, "week": max(c.week - 1, 1)} for c in due],
        "alerts": [alert_view(turn, a) for a in alerts],
        "missed": [{"label": c.label, "missed_weeks": c.missed_weeks, "state": c.state} for c in missed],
    }
    text = turn.renderer.render(locale, "messages.digest", values)
    buttons: Buttons = [
        [
            {
                "text": turn.renderer.render(locale, "messages.seen_button", {"label": c.label}),
                "data": f"{SEEN_BUTTON}{c.id}",
            }
        ]
        for c in due
    ]
    turn.out.text(clinician.telegram_id, text, buttons=buttons or None)
