"""The clinician texts the code renders, with sample values for `guidebot dialogs check`.

Plain data beside the checker, so that bot/dialogs imports nothing from
bot/clinicians or bot/dashboard.
"""

from __future__ import annotations

from typing import Any

from bot.dialogs.cover_samples import COVER_TEXTS
from bot.dialogs.dashboard_samples import DASHBOARD_TEXTS

_CASE: dict[str, Any] = {
    "label": "K-1234",
    "program": "Depresjon",
    "state": "active",
    "state_name": "I gang",
    "week": 3,
    "last_week": 6,
    "started": "2026-01-05 09:00",
    "last_activity": "2026-01-14 18:05",
    "last_checkin": "2026-01-14 18:05",
    "next_checkin": "2026-01-22 18:30",
    "checkins": 2,
    "scores": [{"name": "PHQ-9", "latest": 12, "first": 14, "arrow": "↓", "band": "moderat", "history": "14 → 12"}],
    "homework_done": 1,
    "homework_total": 2,
    "open_alerts": 1,
    "alert_names": ["Risikosvar"],
    "unreachable": True,
    "next_step": "Kurs eller gruppe",
}

_ALERT: dict[str, Any] = {
    "id": 7,
    "label": "K-1234",
    "name": "Risikosvar",
    "level": "urgent",
    "level_name": "haster",
    "resends": 1,
    "week": 3,
    "evidence": "PHQ-9 item 9 = 2",
    "time": "2026-01-14 18:05",
    "acknowledged_by": "Kari",
    "acknowledged_at": "2026-01-14 18:12",
    "edited": True,
    "messages": [{"text": "Jeg sov dårlig i natt og orker ikke mer", "edited": True, "time": "2026-01-14 18:05"}],
    "erased": False,
}

_NOTE: dict[str, Any] = {
    "case": _CASE,
    "answers": {
        key: "Eksempel"
        for key in (
            "homework_done",
            "homework_what",
            "homework_managed",
            "homework_hard",
            "goals",
            "week_goals",
            "warning_signs",
            "worse_plan",
        )
    },
    "scores": [
        {"name": "PHQ-9", "first": 14, "latest": 7, "band": "mild", "change": "improved", "history": "14 → 12 → 7"}
    ],
    "recovery": True,
    "reliable_recovery": True,
    "caseness_before": True,
    "caseness_after": False,
    "signals": [_ALERT],
    "open_signals": 1,
}

_CARE = {"action": "paused", "label": "K-1234", "week": 3, "unreachable": True}

CLINICIAN_TEXTS: dict[str, dict[str, Any]] = {
    "clinician.not_available": {},
    "clinician.private_only": {},
    "clinician.case_not_found": {"label": "K-1234"},
    "clinician.help": {},
    **{
        f"clinician.state.{state}": {}
        for state in (
            "intake",
            "active",
            "checkin",
            "closing",
            "completed",
            "paused",
            "dropped_out",
            "dropout_eval",
            "closed",
        )
    },
    **{f"clinician.level.{level}": {} for level in ("urgent", "high", "notice")},
    **{f"clinician.next_step.{step}": {} for step in ("none", "group", "therapy", "referral")},
    **{
        f"clinician.answer.{key}": {}
        for key in (
            "homework_done",
            "homework_what",
            "homework_times",
            "homework_relevant",
            "homework_useful",
            "homework_hard",
            "homework_own",
            "homework_managed",
            "wants_call",
            "goals",
            "week_goals",
            "warning_signs",
            "worse_plan",
        )
    },
    "clinician.newcode.usage": {"programs": "anxiety, depression"},
    "clinician.newcode.unknown_program": {"program": "angst", "programs": "anxiety, depression"},
    "clinician.newcode.bad_label": {},
    "clinician.newcode.label_taken": {"label": "K-1234"},
    "clinician.newcode.made": {
        "code": "ABC-DEF-GHJ",
        "label": "K-1234",
        "program": "Depresjon",
        "expires": "2026-02-04 09:00",
        "link": "https://t.me/guidebot?start=ABCDEFGHJ",
        "spelled": "A B C – D E F – G H J",
    },
    "clinician.cases.none": {},
    "clinician.cases.none_all": {},
    "clinician.cases.everyone": {},
    "clinician.cases.header": {"count": 3, "everyone": False},
    "clinician.cases.row": {"case": _CASE},
    "clinician.case.summary": {"case": _CASE, "alerts": [_ALERT]},
    "clinician.case.alert_only": {"alert": _ALERT},
    "clinician.case.chart_title": {"label": "K-1234"},
    "clinician.case.chart_caption": {"case": _CASE},
    "clinician.case.answers": {
        "case": _CASE,
        "answers": [{"label": "Plan for uken", "week": 3, "value": "Lese del 3"}],
    },
    "clinician.case.sent_privately": {},
    "clinician.case.safety_plan": {
        "case": _CASE,
        "plan": {
            "week": 6,
            "steps": {
                "warning_signs": "Trekker meg unna",
                "worse_plan": "Gå en tur",
                "safety_distraction": None,
                "safety_people": "Søsteren min",
                "safety_professionals": "Fastlegen",
                "safety_surroundings": None,
                "safety_reasons": "Barna mine",
            },
        },
    },
    "clinician.alerts.none": {},
    "clinician.alerts.header": {"count": 25, "shown": 20},
    "clinician.alerts.item": {"alert": _ALERT},
    "clinician.ack.usage": {},
    "clinician.ack.not_found": {"id": 7},
    "clinician.ack.already": {"alert": _ALERT},
    "clinician.ack.chosen": {"by": "Kari"},
    "clinician.care.usage": {"command": "pause"},
    "clinician.care.done": _CARE,
    "clinician.care.refused": {**_CARE, "state_name": "På pause"},
    "clinician.close.ask": {"label": "K-1234"},
    "clinician.close.done": {"label": "K-1234", "next_step": "Samtalebehandling"},
    "clinician.close.already": {"label": "K-1234", "next_step": "Samtalebehandling"},
    "clinician.invite.usage": {"max": 60},
    "clinician.invite.admins_only": {},
    "clinician.invite.made": {
        "name": "Kari",
        "link": "https://t.me/guidebot?start=inv_x",
        "command": "/start inv_x",
        "expires": "2026-01-12 09:00",
    },
    "clinician.invite.invalid": {},
    "clinician.invite.already": {},
    "clinician.invite.welcome": {"name": "Kari"},
    "clinician.note": {"note": _NOTE},
    **DASHBOARD_TEXTS,
    **COVER_TEXTS,
    "owners.not_yours": {"label": "K-1234"},
    "owners.assign_usage": {},
    "owners.assign_unknown": {"name": "Ola"},
    "owners.assign_ambiguous": {"name": "Ola"},
    "owners.assigned": {"label": "K-1234", "name": "Per"},
    "owners.assigned_to_you": {"label": "K-1234", "by": "Kari"},
    "clinician.report.all_programs": {},
    **{
        f"clinician.report.column.{name}": {}
        for name in (
            "program",
            "clinician",
            "started",
            "completed",
            "dropped",
            "finished",
            "in_progress",
            "recovery",
            "reliable_improvement",
            "reliable_recovery",
            "ack_median",
        )
    },
    "clinician.report.column.change": {"instrument": "PHQ-9"},
    "clinician.report.minutes": {"minutes": "20"},
    "clinician.report.scope_since": {"since": "2026-01-01"},
    "clinician.report.scope_all": {},
    "clinician.report.no_owner": {},
    "clinician.report.by_clinician": {},
    "clinician.report.footnote": {},
    **{
        f"clinician.report.chart.{name}": {}
        for name in ("title", "all_programs", "rate", "recovery", "reliable_improvement", "reliable_recovery")
    },
}
