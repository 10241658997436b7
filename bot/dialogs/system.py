"""Text keys the code itself uses, with the extra values each one is given.

The checker renders each with these sample values, so a text that names a
value the code does not pass is caught before it reaches a user.
"""

from __future__ import annotations

from typing import Any

from bot.clinicians.text_samples import CLINICIAN_TEXTS

_ALERT = {
    "alert": {
        "id": 7,
        "label": "K-1234",
        "signal": "risk_answer",
        "signal_name": "Risikosvar",
        "level": "urgent",
        "level_name": "haster",
        "evidence": ["PHQ-9 item 9 = 2"],
        "week": 3,
        "time": "2026-01-14 18:05",
        "resend_count": 1,
        "program": "Depresjon",
    }
}

USER_COMMANDS = (
    "start",
    "checkin",
    "plan",
    "safetyplan",
    "chart",
    "contact",
    "pause",
    "resume",
    "language",
    "mydata",
    "delete",
    "help",
)

SYSTEM_TEXTS: dict[str, dict[str, Any]] = {
    "common.help": {},
    "common.reask_choice": {"options": ["Ja", "Nei"]},
    "common.reask_number": {"min": 0, "max": 10},
    "common.reask_time": {},
    "common.too_long": {"limit": 4000},
    "common.unsupported": {},
    "common.edited": {},
    "common.stale_button": {},
    "common.not_now": {},
    "common.paused": {},
    "common.resumed": {},
    "common.already_paused": {},
    "common.not_paused": {},
    "common.language_prompt": {},
    "common.language_set": {},
    "common.waiting": {},
    "common.completed": {},
    "common.closed": {},
    "common.dropped_out": {},
    "common.groups": {},
    "common.error": {},
    "start.ask_code": {},
    "start.bad_code": {},
    "start.locked": {"minutes": 60},
    "start.already_started": {},
    "safety.crisis": {},
    "safety.contact_requested": {},
    "plan.show": {},
    "safetyplan.show": {},
    "safetyplan.none": {},
    "reminder.text": {"n": 1, "hours": 24},
    "missed.week": {},
    "measure.item": {"stem": "Hvor ofte …", "number": 1, "count": 9, "item": "Lite interesse", "instrument": "PHQ-9"},
    "measure.risk_only": {"stem": "Hvor ofte …", "item": "Tanker om …", "instrument": "PHQ-9"},
    "checkin.due": {},
    "closing.due": {},
    "dropout.notice": {},
    "alert.message": _ALERT,
    "alert.unanswered": _ALERT,
    "alert.resend": _ALERT,
    "alert.admins": _ALERT,
    "alert.ack_button": {},
    "alert.case_button": {},
    "alert.acknowledged": {**_ALERT, "by": "Kari"},
    "chart.title": {},
    "chart.week": {},
    "chart.total": {},
    "chart.caption": {},
    "chart.none": {},
    "delete.confirm": {},
    "delete.yes": {},
    "delete.no": {},
    "delete.done": {},
    "delete.cancelled": {},
    "mydata.caption": {},
    "language.nb": {},
    "language.en": {},
    "format.when": {"weekday": "torsdag", "day": 15, "month": "januar", "time": "18:00"},
    **{f"weekday.{n}": {} for n in range(7)},
    **{f"month.{n}": {} for n in range(1, 13)},
    **{f"commands.{name}": {} for name in USER_COMMANDS},
    **CLINICIAN_TEXTS,
}

ACTIONS = (
    "schedule_checkins",
    "finish_intake",
    "finish_checkin",
    "finish_closing",
    "finish_dropout_eval",
    "send_chart",
    "request_contact",
)

REQUIRED_SIGNALS = (
    "risk_answer",
    "risk_words",
    "asks_for_person",
    "severe_score",
    "deterioration",
    "disengagement",
    "unreachable",
    "eligibility",
)

REQUIRED_FLOWS = ("dropout",)
