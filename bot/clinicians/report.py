"""Service outcomes per program, with the NHS Talking Therapies definitions.

- Finished treatment: at least 2 sessions, a session being a week with a
  complete PHQ-9 or GAD-7. Only these count towards the outcome rates.
- Change, caseness, recovery and reliable change use each instrument's first
  and last complete score (see `bot.dialogs.context.outcome` and PRACTICE.md).
- Recovery and reliable recovery rates are out of those at caseness at the
  start; the reliable improvement rate is out of all who finished treatment.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.clinicians.caseload import DEMO_PROGRAM, score_series
from bot.dialogs.context import outcome
from bot.dialogs.model import DialogSet
from bot.dialogs.render import Renderer
from bot.storage.models import Alert, Course

ALL = "all"
DROPPED = ("dropped_out", "dropout_eval")
INSTRUMENTS = ("phq9", "gad7")


@dataclass(frozen=True)
class ReportWords:
    """The report's headings and labels in the reader's locale (texts `clinician.report.*`)."""

    dialogs: DialogSet
    renderer: Renderer
    locale: str

    def __call__(self, key: str, **values: Any) -> str:
        return self.renderer.render(self.locale, f"clinician.report.{key}", values)

    def program(self, program: str) -> str:
        """A program's title, or the chart's words for all programs together."""
        if program == ALL:
            return self("chart.all_programs")
        found = self.dialogs.programs.get(program)
        return found.title[self.locale] if found is not None else program


@dataclass
class ProgramOutcomes:
    program: str
    started: int = 0
    completed: int = 0
    dropped_out: int = 0
    finished_treatment: int = 0
    changes: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in INSTRUMENTS})
    at_caseness: int = 0
    recovered: int = 0
    reliably_improved: int = 0
    reliably_recovered: int = 0
    ack_minutes: list[float] = field(default_factory=list)
    urgent_alerts: int = 0

    def add_course(self, course: Course, scores: dict[str, dict[int, int | None]], dialogs: DialogSet) -> None:
        self.started += 1
        self.completed += course.finished_at is not None
        self.dropped_out += course.state in DROPPED or course.scratch.get("closed_from") in DROPPED
        full = {name: by_week for name, by_week in scores.items() if _full_form(dialogs, name)}
        sessions = {week for by_week in full.values() for week, total in by_week.items() if total is not None}
        if len(sessions) < 2:
            return
        self.finished_treatment += 1
        result = outcome(dialogs, scores)
        if not result["available"]:
            return
        for name, change in result["change"].items():
            if name in self.changes:
                self.changes[name].append(change)
        if result["caseness_before"]:
            self.at_caseness += 1
            self.recovered += result["recovery"]
            self.reliably_recovered += result["reliable_recovery"]
        self.reliably_improved += result["reliable_improvement"]

    def add_alert(self, alert: Alert) -> None:
        self.urgent_alerts += 1
        if alert.acknowledged_at is not None:
            self.ack_minutes.append((alert.acknowledged_at - alert.created_at).total_seconds() / 60)

    def row(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "started": self.started,
            "completed": self.completed,
            "dropped_out": self.dropped_out,
            "finished_treatment": self.finished_treatment,
            "phq9_mean_change": _mean(self.changes["phq9"]),
            "gad7_mean_change": _mean(self.changes["gad7"]),
            "at_caseness": self.at_caseness,
            "recovered": self.recovered,
            "recovery_rate": _rate(self.recovered, self.at_caseness),
            "reliably_improved": self.reliably_improved,
            "reliable_improvement_rate": _rate(self.reliably_improved, self.finished_treatment),
            "reliably_recovered": self.reliably_recovered,
            "reliable_recovery_rate": _rate(self.reliably_recovered, self.at_caseness),
            "urgent_alerts": self.urgent_alerts,
            "urgent_acknowledged": len(self.ack_minutes),
            "median_minutes_to_acknowledge": round(statistics.median(self.ack_minutes), 1)
            if self.ack_minutes
            else None,
        }


def _mean(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def outcome_rows(
    session: Session,
    dialogs: DialogSet,
    *,
    since: datetime | None = None,
    program: str | None = None,
    include_demo: bool = True,
) -> list[dict[str, Any]]:
    """One row per program with courses in scope, then one for all of them together.

    Without `include_demo`, the demo program's courses and alerts are left out.
    """
    query = select(Course)
    if not include_demo:
        query = query.where(Course.program != DEMO_PROGRAM)
    if since is not None:
        query = query.where(col(Course.started_at) >= since)
    if program is not None:
        query = query.where(Course.program == program)
    courses = session.exec(query.order_by(col(Course.program), col(Course.id))).all()
    series = score_series(session, [c.id for c in courses if c.id is not None])
    per_program: dict[str, ProgramOutcomes] = {}
    total = ProgramOutcomes(ALL)
    for course in courses:
        assert course.id is not None
        scores: dict[str, dict[int, int | None]] = {name: dict(s.points) for name, s in series[course.id].items()}
        for bucket in (_bucket(per_program, course.program), total):
            bucket.add_course(course, scores, dialogs)
    for alert, alert_program in _urgent_alerts(session, since, program):
        if not include_demo and alert_program == DEMO_PROGRAM:
            continue
        buckets = [total] if alert_program is None else [_bucket(per_program, alert_program), total]
        for bucket in buckets:
            bucket.add_alert(alert)
    return [per_program[name].row() for name in sorted(per_program)] + [total.row()]


def _full_form(dialogs: DialogSet, name: str) -> bool:
    """The report counts the full forms only, never PHQ-2 or GAD-2."""
    instrument = dialogs.instruments.get(name)
    return instrument is None or instrument.full


def _bucket(per_program: dict[str, ProgramOutcomes], program: str) -> ProgramOutcomes:
    if program not in per_program:
        per_program[program] = ProgramOutcomes(program)
    return per_program[program]


def _urgent_alerts(session: Session, since: datetime | None, program: str | None) -> list[tuple[Alert, str | None]]:
    query = select(Alert, Course.program).join(Course, col(Alert.course_id) == col(Course.id), isouter=True)
    query = query.where(Alert.level == "urgent")
    if since is not None:
        query = query.where(col(Alert.created_at) >= since)
    if program is not None:
        query = query.where(Course.program == program)
    return [(alert, alert_program) for alert, alert_program in session.exec(query.order_by(col(Alert.id))).all()]
