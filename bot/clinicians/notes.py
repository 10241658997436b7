"""A draft note for the record, under AKTUELT / VURDERING / TILTAK, ready to paste.

It is built from stored data only: the course, the scores with the NHS Talking
Therapies change definitions, the signals and the user's own plan. It grades
no risk; the clinician reads it over and writes the assessment.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.clinicians.caseload import CaseSummary
from bot.clinicians.desk import Desk
from bot.clinicians.facts import answer_text, case_facts, latest_answers, score_facts
from bot.dialogs import contract
from bot.dialogs.context import outcome
from bot.engine.alerts import alert_view
from bot.storage.models import Alert

NOTE_ANSWERS = (
    contract.HOMEWORK_DONE,
    contract.HOMEWORK_WHAT,
    contract.HOMEWORK_MANAGED,
    contract.HOMEWORK_HARD,
    contract.GOALS,
    contract.WEEK_GOALS,
    contract.WARNING_SIGNS,
    contract.WORSE_PLAN,
)


def _change(desk: Desk, name: str, first: int, latest: int, points: int) -> str:
    """'improved', 'deteriorated', 'unchanged' (within measurement error) or 'single' (one measurement)."""
    if points < 2:
        return "single"
    reliable = desk.turn.dialogs.instruments[name].reliable_change
    if first - latest >= reliable:
        return "improved"
    return "deteriorated" if latest - first >= reliable else "unchanged"


def note_facts(desk: Desk, summary: CaseSummary) -> dict[str, Any]:
    course = summary.course
    dialogs = desk.turn.dialogs
    answers = latest_answers(desk, course)
    scores = [
        {**view, "change": _change(desk, name, view["first"], view["latest"], len(summary.scores[name].points))}
        for name, view in score_facts(desk, summary)
    ]
    result = outcome(dialogs, {name: dict(s.points) for name, s in summary.scores.items()})
    alerts = desk.session.exec(
        select(Alert).where(Alert.course_id == course.id).order_by(col(Alert.created_at), col(Alert.id))
    ).all()
    return {
        "case": case_facts(desk, summary),
        "answers": {
            key: answer_text(desk, key, answers[key][1]) if key in answers and answers[key][1] else None
            for key in NOTE_ANSWERS
        },
        "scores": scores,
        "recovery": bool(result.get("recovery")),
        "reliable_recovery": bool(result.get("reliable_recovery")),
        "caseness_before": bool(result.get("caseness_before")),
        "caseness_after": bool(result.get("caseness_after")),
        "signals": [alert_view(desk.turn, a, private=True) for a in alerts],
        "open_signals": len(summary.open_alerts),
    }


def draft_note(desk: Desk, summary: CaseSummary) -> str:
    return desk.text("clinician.note", note=note_facts(desk, summary))
