"""Redeeming an access code: the lockout after failed tries, the new course, and its intake."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.engine import policy
from bot.engine.codes import audit, chat_key, failed_attempts, find_redeemable, looks_like_code
from bot.engine.turn import Turn
from bot.storage.models import CodeAttempt, Course

log = logging.getLogger(__name__)


def redeem(turn: Turn, text: str) -> None:
    config = turn.config
    chat_id = turn.event.chat_id
    since = turn.now - timedelta(minutes=config.lockout_minutes)
    if failed_attempts(turn.session, chat_id, since) >= config.lockout_attempts:
        turn.say("start.locked", minutes=config.lockout_minutes)
        return
    if not looks_like_code(text):
        turn.say("start.ask_code")
        return
    code = find_redeemable(turn.session, text, turn.now, turn.config.secret_key)
    if code is None:
        attempts = failed_attempts(turn.session, chat_id, since) + 1
        turn.session.add(CodeAttempt(chat_key=chat_key(chat_id), at=turn.now))
        if attempts >= config.lockout_attempts:
            audit(turn.session, turn.now, "engine", "code_lockout", None, chat=chat_key(chat_id))
            turn.say("start.locked", minutes=config.lockout_minutes)
        else:
            turn.say("start.bad_code")
        return
    if code.program not in turn.dialogs.programs:
        log.error("code for unknown program %s", code.program)
        turn.say("common.error")
        return
    code.redeemed_at = turn.now
    course = Course(
        label=code.label,
        program=code.program,
        chat_id=chat_id,
        clinician_id=code.clinician_id,
        locale=turn.dialogs.locale_for(turn.event.language, config.locale),
        timezone=config.timezone,
        state="intake",
        started_at=turn.now,
        last_activity_at=turn.now,
    )
    turn.session.add(course)
    turn.session.flush()
    turn.course = course
    audit(turn.session, turn.now, "user", "code_redeemed", code.label, program=code.program)
    policy.start_flow(turn, turn.dialogs.schedule.weeks[1].flow)
