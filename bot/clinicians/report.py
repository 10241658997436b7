"""Service outcomes per program and per owning clinician, with the NHS Talking Therapies definitions.

- Only ended courses count as finished treatment: completed, or dropped out
  with at least 2 sessions, a session being a week with a complete (full-form)
  PHQ-9 or GAD-7. A course closed before it was completed (by a clinician, or
  expired) counts as dropped out. Running courses are counted apart, as
  "in progress", and never in the outcome figures.
- Change, caseness, recovery and reliable change need paired scores: a full-form
  score at the start and at the end (two sessions or more); they use each
  instrument's first and last complete score (see `bot.dialogs.context.outcome`
  and PRACTICE.md).
- Recovery and reliable recovery rates are out of those at caseness at the
  start; the reliable improvement rate is out of all with paired scores.
- Service figures: completion and dropout rates out of the ended courses, the
  dropout reasons given in the dropout flow, the median days from the access
  code to the first conversation, and the median minutes to acknowledge an
  urgent alert.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, true
from sqlmodel import Session, col, select

from bot.clinicians.case_list import DEMO_PROGRAM
from bot.clinicians.caseload import Scope, score_series
from bot.dialogs.context import outcome
from bot.dialogs.model import DialogSet
from bot.dialogs.render import Renderer
from bot.storage import report_facts
from bot.storage.models import AccessCode, Alert, Answer, Clinician, Course

ALL = "all"
DROPPED = ("dropped_out", "dropout_eval")
INSTRUMENTS = ("phq9", "gad7")
# The choices of the dropout flow's `why_stop` step (stored as `dropout_reason`).
DROPOUT_REASONS = ("time", "not_helpful", "better", "too_hard", "other")
REASON_KEY = report_facts.REASON_KEY


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
    in_progress: int = 0
    ended: int = 0
    completed: int = 0
    dropped_out: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROPOUT_REASONS, 0))
    finished_treatment: int = 0
    paired: int = 0
    days_to_first: list[float] = field(default_factory=list)
    changes: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in INSTRUMENTS})
    at_caseness: int = 0
    recovered: int = 0
    reliably_improved: int = 0
    reliably_recovered: int = 0
    ack_minutes: list[float] = field(default_factory=list)
    urgent_alerts: int = 0

    def add_course(self, course: Course, facts: CourseFacts, dialogs: DialogSet) -> None:
        self.started += 1
        if facts.days_to_first is not None:
            self.days_to_first.append(facts.days_to_first)
        completed = _completed(course)
        dropped = not completed and _dropped(course)
        if not (completed or dropped):
            self.in_progress += 1
            return
        self.ended += 1
        self.completed += completed
        self.dropped_out += dropped
        if dropped and facts.reason is not None:
            reason = facts.reason if facts.reason in self.reasons else "other"
            self.reasons[reason] += 1
        scores = facts.scores
        full = {name: by_week for name, by_week in scores.items() if _full_form(dialogs, name)}
        sessions = {week for by_week in full.values() for week, total in by_week.items() if total is not None}
        if dropped and len(sessions) < 2:
            return
        self.finished_treatment += 1
        if len(sessions) < 2:
            return
        self.paired += 1
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
            "in_progress": self.in_progress,
            "ended": self.ended,
            "completed": self.completed,
            "completion_rate": _rate(self.completed, self.ended),
            "dropped_out": self.dropped_out,
            "dropout_rate": _rate(self.dropped_out, self.ended),
            **{f"dropout_reason_{name}": count for name, count in self.reasons.items()},
            "finished_treatment": self.finished_treatment,
            "paired_scores": self.paired,
            "phq9_mean_change": _mean(self.changes["phq9"]),
            "gad7_mean_change": _mean(self.changes["gad7"]),
            "at_caseness": self.at_caseness,
            "recovered": self.recovered,
            "recovery_rate": _rate(self.recovered, self.at_caseness),
            "reliably_improved": self.reliably_improved,
            "reliable_improvement_rate": _rate(self.reliably_improved, self.paired),
            "reliably_recovered": self.reliably_recovered,
            "reliable_recovery_rate": _rate(self.reliably_recovered, self.at_caseness),
            "urgent_alerts": self.urgent_alerts,
            "urgent_acknowledged": len(self.ack_minutes),
            "median_minutes_to_acknowledge": round(statistics.median(self.ack_minutes), 1)
            if self.ack_minutes
            else None,
            "median_days_to_first_conversation": round(statistics.median(self.days_to_first), 1)
            if self.days_to_first
            else None,
        }


@dataclass(frozen=True)
class CourseFacts:
    """What the report needs of one course besides the row itself."""

    scores: dict[str, dict[int, int | None]]
    reason: str | None = None
    days_to_first: float | None = None


def _completed(course: Course) -> bool:
    return (
        course.finished_at is not None
        or course.state == "completed"
        or course.scratch.get("closed_from") == "completed"
    )


def _dropped(course: Course) -> bool:
    """Dropped out, or closed (by a clinician or on expiry) before the course was completed."""
    return course.state in DROPPED or course.state == "closed"


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
    by_clinician: bool = False,
) -> list[dict[str, Any]]:
    """One row per program with courses in scope, then one for all of them together.

    With `by_clinician`, then one row per owning clinician (the course's `clinician_id`, by
    name), and one for the courses nobody owns if there are any: the same figures over the
    same courses, with `clinician_id` and `clinician` (the name; None for nobody) added and
    `program` the program asked for, or "all". Without `include_demo`, the demo program's
    courses and alerts are left out.
    """
    scope: Scope = true()
    if not include_demo:
        scope = and_(scope, col(Course.program) != DEMO_PROGRAM)
    if since is not None:
        scope = and_(scope, col(Course.started_at) >= since)
    if program is not None:
        scope = and_(scope, col(Course.program) == program)
    courses = session.exec(select(Course).where(scope).order_by(col(Course.program), col(Course.id))).all()
    series = score_series(session, scope)
    per_program: dict[str, ProgramOutcomes] = {}
    per_owner: dict[int | None, ProgramOutcomes] = {}
    total = ProgramOutcomes(ALL)
    row_program = program or ALL
    reasons = _dropout_reasons(session, scope)
    codes = _code_times(session, scope)
    for course in courses:
        assert course.id is not None
        code_made = codes.get(course.label)
        kept = course.scratch.get(report_facts.KEY) or {}  # an anonymised course keeps these
        facts = CourseFacts(
            scores={name: dict(s.points) for name, s in series.get(course.id, {}).items()},
            reason=reasons.get(course.id, kept.get("reason")),
            days_to_first=round((course.started_at - code_made).total_seconds() / 86400, 2)
            if code_made is not None
            else kept.get("days_to_first"),
        )
        theirs = _owner_bucket(per_owner, course.clinician_id, row_program)
        for bucket in (_bucket(per_program, course.program), total, theirs):
            bucket.add_course(course, facts, dialogs)
    for alert, alert_program, owner in _urgent_alerts(session, since, program):
        if not include_demo and alert_program == DEMO_PROGRAM:
            continue
        buckets = [total] if alert_program is None else [_bucket(per_program, alert_program), total]
        if alert_program is not None:
            buckets.append(_owner_bucket(per_owner, owner, row_program))
        for bucket in buckets:
            bucket.add_alert(alert)
    rows = [per_program[name].row() for name in sorted(per_program)] + [total.row()]
    if by_clinician:
        rows += _owner_rows(session, per_owner)
    return rows


def _owner_bucket(per_owner: dict[int | None, ProgramOutcomes], owner: int | None, scope: str) -> ProgramOutcomes:
    if owner not in per_owner:
        per_owner[owner] = ProgramOutcomes(scope)
    return per_owner[owner]


def _owner_rows(session: Session, per_owner: dict[int | None, ProgramOutcomes]) -> list[dict[str, Any]]:
    """One row per owning clinician, by name, then the courses nobody owns."""
    named: list[tuple[str, int, ProgramOutcomes]] = []
    for owner, bucket in per_owner.items():
        if owner is not None:
            clinician = session.get(Clinician, owner)
            named.append((clinician.name if clinician is not None else str(owner), owner, bucket))
    rows = [
        {"clinician_id": owner, "clinician": name, **bucket.row()}
        for name, owner, bucket in sorted(named, key=lambda n: (n[0].casefold(), n[1]))
    ]
    if None in per_owner:
        rows.append({"clinician_id": None, "clinician": None, **per_owner[None].row()})
    return rows


def is_clinician_row(row: dict[str, Any]) -> bool:
    """Whether a report row is one clinician's (or nobody's) rather than a program's or the total."""
    return "clinician_id" in row


def _dropout_reasons(session: Session, scope: Scope) -> dict[int, str]:
    """The last reason each course in `scope` gave in the dropout flow."""
    query = (
        select(Answer.course_id, Answer.value)
        .join(Course, col(Course.id) == col(Answer.course_id))
        .where(scope, Answer.key == REASON_KEY)
        .order_by(col(Answer.id))
    )
    return {course_id: str(value) for course_id, value in session.exec(query).all() if value is not None}


def _code_times(session: Session, scope: Scope) -> dict[str, datetime]:
    """When the access code of each course in `scope` was made, by label."""
    query = (
        select(AccessCode.label, AccessCode.created_at)
        .join(Course, col(Course.label) == col(AccessCode.label))
        .where(scope)
    )
    return {label: made for label, made in session.exec(query).all()}


def _full_form(dialogs: DialogSet, name: str) -> bool:
    """The report counts the full forms only, never PHQ-2 or GAD-2."""
    instrument = dialogs.instruments.get(name)
    return instrument is None or instrument.full


def _bucket(per_program: dict[str, ProgramOutcomes], program: str) -> ProgramOutcomes:
    if program not in per_program:
        per_program[program] = ProgramOutcomes(program)
    return per_program[program]


def _urgent_alerts(
    session: Session, since: datetime | None, program: str | None
) -> list[tuple[Alert, str | None, int | None]]:
    """Urgent alerts in scope, each with its course's program and owner (None without a course)."""
    query = select(Alert, Course.program, Course.clinician_id).join(
        Course, col(Alert.course_id) == col(Course.id), isouter=True
    )
    query = query.where(Alert.level == "urgent")
    if since is not None:
        query = query.where(col(Alert.created_at) >= since)
    if program is not None:
        query = query.where(Course.program == program)
    found = session.exec(query.order_by(col(Alert.id))).all()
    return [(alert, alert_program, owner) for alert, alert_program, owner in found]


def csv_fields(rows: list[dict[str, Any]]) -> list[str]:
    """The CSV columns of the report's rows: every figure, with the clinician columns last
    (empty on the program rows), the same in `guidebot report --csv` and the dashboard's download."""
    fields = list(rows[0]) if rows else []
    for row in rows:
        fields += [key for key in row if key not in fields]
    return fields
