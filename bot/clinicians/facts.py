"""Plain values about a case for the clinician texts: labels, dates, scores, answers.

Only the case label identifies anyone; users' names are never stored.
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError
from sqlmodel import col, select

from bot.clinicians.caseload import CaseSummary
from bot.clinicians.desk import Desk
from bot.dialogs import contract
from bot.dialogs.context import store_keys
from bot.dialogs.model import DialogSet
from bot.engine.safety_plan import STEP_KEYS, filled, has_plan, plan_of
from bot.storage.models import Answer, Course

# What the clinician sees of a user's answers, in this order.
SHOWN_ANSWERS = (
    contract.HOMEWORK_DONE,
    contract.HOMEWORK_WHAT,
    contract.HOMEWORK_TIMES,
    contract.HOMEWORK_RELEVANT,
    contract.HOMEWORK_USEFUL,
    contract.HOMEWORK_HARD,
    contract.HOMEWORK_OWN,
    contract.HOMEWORK_MANAGED,
    contract.WANTS_CALL,
    contract.GOALS,
    contract.WEEK_GOALS,
)  # the safety plan (warning_signs, worse_plan, safety_*) has a message of its own: safety_plan_facts


def instrument_order(dialogs: DialogSet) -> list[str]:
    """The full forms in the order the schedule asks them (PHQ-9 before GAD-7); the short forms
    (PHQ-2, GAD-2) are no outcome measures, so the clinicians' scores and charts leave them out."""
    scheduled = [name for week in dialogs.schedule.weeks.values() for name in week.instruments]
    ordered = dict.fromkeys([*scheduled, *dialogs.instruments])
    return [name for name in ordered if name not in dialogs.instruments or dialogs.instruments[name].full]


def program_title(desk: Desk, program: str) -> str:
    found = desk.turn.dialogs.programs.get(program)
    return found.title[desk.locale] if found is not None else program


def signal_name(desk: Desk, signal: str) -> str:
    key = f"signal.{signal}"
    return desk.text(key) if desk.turn.renderer.has(desk.locale, key) else signal


def score_facts(desk: Desk, summary: CaseSummary) -> list[tuple[str, dict[str, Any]]]:
    """Per instrument with scores, in the usual order: the id and what a text shows of it."""
    dialogs = desk.turn.dialogs
    facts: list[tuple[str, dict[str, Any]]] = []
    for name in instrument_order(dialogs):
        series = summary.scores.get(name)
        if series is None or name not in dialogs.instruments:
            continue
        instrument = dialogs.instruments[name]
        facts.append(
            (
                name,
                {
                    "name": instrument.name,
                    "latest": series.latest,
                    "first": series.first,
                    "arrow": series.arrow,
                    "band": instrument.band(series.latest).label[desk.locale],
                    "history": " → ".join(str(total) for _week, total in series.points),
                },
            )
        )
    return facts


def case_facts(desk: Desk, summary: CaseSummary) -> dict[str, Any]:
    course = summary.course
    dialogs = desk.turn.dialogs
    scores = [view for _name, view in score_facts(desk, summary)]
    return {
        "label": course.label,
        "program": program_title(desk, course.program),
        "state": course.state,
        "state_name": desk.text(f"clinician.state.{course.state}"),
        "week": course.week,
        "last_week": dialogs.schedule.last_week,
        "started": desk.format_time(course.started_at),
        "last_activity": desk.format_time(course.last_activity_at),
        "last_checkin": desk.format_time(course.last_checkin_at),
        "next_checkin": desk.format_time(course.due_at) if course.due_kind == "checkin" else None,
        "checkins": int(course.scratch.get("checkins_done", 0)),
        "scores": scores,
        "homework_done": summary.homework_done,
        "homework_total": summary.homework_total,
        "open_alerts": len(summary.open_alerts),
        "alert_names": [signal_name(desk, a.signal) for a in summary.open_alerts],
        "unreachable": course.unreachable,
        "next_step": desk.text(f"clinician.next_step.{course.next_step_of_care}") if course.next_step_of_care else None,
    }


def _answer_rows(desk: Desk, course: Course) -> list[Answer]:
    return list(desk.session.exec(select(Answer).where(Answer.course_id == course.id).order_by(col(Answer.id))).all())


def latest_answers(desk: Desk, course: Course) -> dict[str, tuple[int, Any]]:
    """answer key -> (week, value) of the newest answer."""
    return {row.key: (row.week, row.value) for row in _answer_rows(desk, course)}


def answer_text(desk: Desk, key: str, value: Any) -> str:
    """A stored answer as the clinician reads it: a choice's words, or what the user wrote."""
    if store_keys(desk.turn.dialogs).get(key) == "choice":
        for flow in desk.turn.dialogs.flows.values():
            for step in flow.steps.values():
                for choice in step.choices if step.store == key else ():
                    if choice.value == str(value):
                        try:
                            return desk.text(choice.text)
                        except TemplateError:
                            return str(value)
    return str(value)


def safety_plan_facts(desk: Desk, course: Course) -> dict[str, Any] | None:
    """The person's safety plan, step key -> text (None where empty), and the week it last changed."""
    answers = latest_answers(desk, course)
    values = {key: value for key, (_week, value) in answers.items()}
    if not has_plan(values):
        return None
    weeks = [answers[key][0] for key in STEP_KEYS if key in answers and filled(answers[key][1])]
    return {"steps": plan_of(values), "week": max(weeks)}


def shown_answers(desk: Desk, course: Course) -> list[dict[str, Any]]:
    answers = latest_answers(desk, course)
    return [
        {
            "label": desk.text(f"clinician.answer.{key}"),
            "week": answers[key][0],
            "value": answer_text(desk, key, answers[key][1]),
        }
        for key in SHOWN_ANSWERS
        if key in answers and answers[key][1] not in (None, "")
    ]


def answers_by_week(desk: Desk, course: Course) -> list[dict[str, Any]]:
    """The shown answers week by week (the newest of each key in a week), oldest week first."""
    weeks: dict[int, dict[str, Any]] = {}
    for row in _answer_rows(desk, course):
        if row.key in SHOWN_ANSWERS and row.value not in (None, ""):
            weeks.setdefault(row.week, {})[row.key] = row.value
    return [
        {
            "week": week,
            "answers": [
                {"label": desk.text(f"clinician.answer.{key}"), "value": answer_text(desk, key, values[key])}
                for key in SHOWN_ANSWERS
                if key in values
            ],
        }
        for week, values in sorted(weeks.items())
    ]
