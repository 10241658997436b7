"""What each dashboard page shows, gathered with the clinician functions the Telegram commands use.

A page is built inside one database transaction, as a clinician's `Desk` on a turn
of its own: the same texts, the same facts, the same audit lines ("case_viewed" and
the rest, with channel "dashboard"). An acknowledgement from the page goes through
`bot.clinicians.alerts.acknowledge`, so the team chat hears of it through the outbox
exactly as after the button in Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlmodel import Session

from bot.clinicians import alerts as clinician_alerts
from bot.clinicians.caseload import CaseSummary, ScoreSeries, caseload, open_alerts, summarize
from bot.clinicians.desk import Desk
from bot.clinicians.facts import (
    answer_text,
    answers_by_week,
    case_facts,
    instrument_order,
    latest_answers,
    program_title,
    safety_plan_facts,
    score_facts,
)
from bot.clinicians.notes import note_facts
from bot.clinicians.report import ALL, DROPOUT_REASONS, is_clinician_row, outcome_rows
from bot.dashboard import svg
from bot.dashboard.access import may_view_case
from bot.dashboard.tokens import handle_for
from bot.dialogs import contract
from bot.engine.alerts import alert_view
from bot.engine.core import Engine
from bot.engine.events import Event
from bot.engine.messages import can_receive, send_to_participant, thread
from bot.engine.safety_plan import STEP_KEYS
from bot.engine.turn import Turn
from bot.storage.models import Alert, Clinician, Course, DashboardSession

TRENDS = {"↑": "up", "↓": "down", "→": "same"}
# The rates of the outcome report drawn as bars, in this order.
RATES = ("recovery_rate", "reliable_improvement_rate", "reliable_recovery_rate")
# Figures shown as a percentage on the report page.
PERCENTS = (*RATES, "completion_rate", "dropout_rate")
REPORT_COLUMNS = (
    "started",
    "in_progress",
    "ended",
    "completed",
    "completion_rate",
    "dropped_out",
    "dropout_rate",
    *(f"dropout_reason_{name}" for name in DROPOUT_REASONS),
    "finished_treatment",
    "paired_scores",
    "phq9_mean_change",
    "gad7_mean_change",
    "at_caseness",
    "recovered",
    "recovery_rate",
    "reliably_improved",
    "reliable_improvement_rate",
    "reliably_recovered",
    "reliable_recovery_rate",
    "urgent_alerts",
    "urgent_acknowledged",
    "median_minutes_to_acknowledge",
    "median_days_to_first_conversation",
)


def web_desk(engine: Engine, session: Session, clinician: Clinician, now: datetime) -> Desk:
    """A clinician's desk for one web request: a turn of its own, answering to their private chat."""
    loaded = engine.dialogs.current
    event = Event("command", chat_id=clinician.telegram_id, from_id=clinician.telegram_id, command="dashboard")
    return Desk(Turn(session, event, now, loaded.dialogs, loaded.renderer, engine.config), clinician)


@dataclass
class Visit:
    """One signed-in request: the clinician's desk and their browser session."""

    desk: Desk
    login: DashboardSession

    def handle(self, course_id: int | None) -> str | None:
        return None if course_id is None else handle_for(self.login, course_id)

    def audit(self, action: str, subject: str | None = None, **detail: object) -> None:
        self.desk.audit(action, subject, channel="dashboard", **detail)


# -- the caseload ----------------------------------------------------------------


def instruments(desk: Desk) -> list[dict[str, str]]:
    dialogs = desk.turn.dialogs
    return [{"id": name, "name": dialogs.instruments[name].name} for name in instrument_order(dialogs)]


def _scores(desk: Desk, summary: CaseSummary) -> dict[str, dict[str, Any]]:
    return {name: {**view, "trend": TRENDS.get(view["arrow"] or "")} for name, view in score_facts(desk, summary)}


def caseload_view(visit: Visit, everyone: bool) -> dict[str, Any]:
    desk = visit.desk
    covering = desk.covering()
    summaries = caseload(desk.session, None if everyone else desk.clinician.id, covering)
    rows = [
        {
            **case_facts(desk, summary),
            "handle": visit.handle(summary.course.id),
            "by_instrument": _scores(desk, summary),
        }
        for summary in summaries
        if may_view_case(desk.clinician, summary.course, covering)
    ]
    visit.audit("cases_viewed", None, scope="all" if everyone else "own", count=len(rows))
    return {"everyone": everyone, "cases": rows, "instruments": instruments(desk)}


# -- one case --------------------------------------------------------------------


def _weeks(desk: Desk, scores: dict[str, ScoreSeries]) -> list[dict[str, Any]]:
    """Per week with a score: each instrument's total and band."""
    dialogs = desk.turn.dialogs
    weeks: dict[int, dict[str, Any]] = {}
    for name, series in scores.items():
        if name not in dialogs.instruments:
            continue
        for week, total in series.points:
            band = dialogs.instruments[name].band(total).label[desk.locale]
            weeks.setdefault(week, {})[name] = {"total": total, "band": band}
    return [{"week": week, "scores": by} for week, by in sorted(weeks.items())]


def _chart(desk: Desk, label: str, scores: dict[str, ScoreSeries]) -> Markup | None:
    dialogs = desk.turn.dialogs
    panels = [
        svg.Panel(
            dialogs.instruments[name],
            scores[name].points,
            [band.label[desk.locale] for band in dialogs.instruments[name].bands],
        )
        for name in instrument_order(dialogs)
        if name in scores and name in dialogs.instruments
    ]
    if not panels:
        return None
    described = [{"name": p.instrument.name, "points": [{"week": w, "total": t} for w, t in p.points]} for p in panels]
    texts = {
        "title": desk.text("dashboard.case.chart_title", label=label),
        "desc": desk.text("dashboard.case.chart_desc", series=described),
        "week": desk.text("chart.week"),
        "total": desk.text("chart.total"),
    }
    return svg.score_chart(panels, dialogs.schedule.last_week, texts)


def find_case(visit: Visit, course_id: int | None) -> Course | None:
    """The course, when it exists and this clinician may see it."""
    if course_id is None:
        return None
    course = visit.desk.session.get(Course, course_id)
    if course is None or not may_view_case(visit.desk.clinician, course, visit.desk.covering()):
        return None
    return course


def case_view(visit: Visit, course: Course) -> dict[str, Any]:
    desk = visit.desk
    summary = summarize(desk.session, [course])[0]
    note = note_facts(desk, summary)
    answers = latest_answers(desk, course)
    goals = {
        key: answer_text(desk, key, answers[key][1])
        for key in (contract.GOALS, contract.WEEK_GOALS)
        if key in answers and answers[key][1] not in (None, "")
    }
    open_ids = {a.id for a in summary.open_alerts}
    visit.audit("case_viewed", course.label)
    return {
        "case": note["case"],
        "handle": visit.handle(course.id),
        "instruments": [i for i in instruments(desk) if i["id"] in summary.scores],
        "weeks": _weeks(desk, summary.scores),
        "chart": _chart(desk, course.label, summary.scores),
        "answers_by_week": answers_by_week(desk, course),
        "goals": goals,
        "plan": safety_plan_facts(desk, course),
        "plan_steps": STEP_KEYS,
        "alerts": sorted(
            ({**signal, "open": signal["id"] in open_ids} for signal in note["signals"]), key=lambda s: not s["open"]
        ),
        "note": desk.text("clinician.note", note=note),
        "thread": thread(desk.turn, course, desk.turn.config.tz),
        "can_message": can_receive(course),
    }


def write_message(visit: Visit, course: Course, text: str) -> str:
    """Send the case page's message; 'sent', 'empty' or 'cannot', for the notice on the next page."""
    if not text:
        return "empty"
    if not can_receive(course):
        return "cannot"
    send_to_participant(visit.desk.turn, course, visit.desk.clinician, text)  # audited as "message_sent"
    return "sent"


# -- alerts ----------------------------------------------------------------------


def alerts_view(visit: Visit) -> dict[str, Any]:
    """Every open alert, the oldest first."""
    desk = visit.desk
    found = sorted(open_alerts(desk.session), key=lambda a: (a.created_at, a.id or 0))
    visit.audit("alerts_viewed", None, count=len(found))
    return {"alerts": [_alert_row(visit, alert) for alert in found]}


def _alert_row(visit: Visit, alert: Alert) -> dict[str, Any]:
    course = find_case(visit, alert.course_id)
    return {
        **alert_view(visit.desk.turn, alert, private=True),
        "handle": visit.handle(course.id) if course else None,
        "open": True,
    }


def acknowledge(visit: Visit, alert_id: int) -> str:
    """'acknowledged', 'already' or 'missing', for the notice on the next page."""
    alert, done = clinician_alerts.acknowledge(visit.desk, alert_id)
    if alert is None:
        return "missing"
    return "acknowledged" if done else "already"


# -- the report ------------------------------------------------------------------


def report_rows(visit: Visit) -> list[dict[str, Any]]:
    desk = visit.desk
    return outcome_rows(desk.session, desk.turn.dialogs, by_clinician=True)


def report_view(visit: Visit) -> dict[str, Any]:
    desk = visit.desk
    every = report_rows(visit)
    rows = [row for row in every if not is_clinician_row(row)]
    visit.audit("report_viewed", None, programs=len(rows) - 1)
    named = [{**row, "name": _program_name(desk, row["program"]), "total": row["program"] == ALL} for row in rows]
    clinicians = [
        {**row, "name": row["clinician"] or desk.text("dashboard.report.no_owner"), "total": False}
        for row in every
        if is_clinician_row(row)
    ]
    series = [desk.text(f"dashboard.report.col.{key}") for key in RATES]
    groups = [svg.Bars(row["name"], [row[key] for key in RATES]) for row in named]
    chart = svg.rate_chart(
        groups,
        series,
        {
            "title": desk.text("dashboard.report.chart_title"),
            "desc": desk.text("dashboard.report.chart_desc"),
            "none": desk.text("dashboard.report.no_figure"),
        },
        lambda value: desk.text("dashboard.percent", value=value),
        chart_id="rate-chart",
    )
    return {"rows": named, "clinicians": clinicians, "columns": REPORT_COLUMNS, "rates": PERCENTS, "chart": chart}


def _program_name(desk: Desk, program: str) -> str:
    return desk.text("dashboard.report.all") if program == ALL else program_title(desk, program)


def report_csv(visit: Visit) -> list[dict[str, Any]]:
    """The report's rows for the CSV download, exactly as `guidebot report --csv` writes them."""
    rows = report_rows(visit)
    visit.audit("report_exported", None, csv=True)
    return rows
