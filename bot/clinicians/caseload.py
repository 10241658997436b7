"""The caseload: every course with where it stands, its scores and its open alerts."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func
from sqlmodel import Session, col, select

from bot.dialogs import contract
from bot.engine.alerts import LEVEL_ORDER
from bot.storage.models import Alert, Answer, Course, Score

# Answers to "did you do the homework?" that count as doing it.
HOMEWORK_DONE = contract.HOMEWORK_DONE_VALUES


@dataclass(frozen=True)
class ScoreSeries:
    """One instrument's complete totals, in week order."""

    points: tuple[tuple[int, int], ...]

    @property
    def first(self) -> int:
        return self.points[0][1]

    @property
    def latest(self) -> int:
        return self.points[-1][1]

    @property
    def previous(self) -> int | None:
        return self.points[-2][1] if len(self.points) > 1 else None

    @property
    def arrow(self) -> str | None:
        """↑ rose, ↓ fell, → unchanged since the measurement before; None with one measurement."""
        if self.previous is None:
            return None
        if self.latest > self.previous:
            return "↑"
        return "↓" if self.latest < self.previous else "→"


@dataclass(frozen=True)
class CaseSummary:
    course: Course
    scores: dict[str, ScoreSeries] = field(default_factory=dict)
    homework_done: int = 0
    homework_total: int = 0
    open_alerts: tuple[Alert, ...] = ()

    @property
    def most_urgent(self) -> int:
        """Sort key: the most urgent open alert first, cases without alerts last."""
        return min((LEVEL_ORDER.get(a.level, 9) for a in self.open_alerts), default=10)


# Per-course figures are read for every course a condition on `Course` picks (a join, never
# a list of ids), so no query binds a parameter per course (issue 11: PostgreSQL refuses
# more than 65,535, and 100,000 courses are a realistic service).
Scope = ColumnElement[bool]


def score_series(session: Session, scope: Scope) -> dict[int, dict[str, ScoreSeries]]:
    """course id -> instrument -> complete totals by week, for the courses in `scope` with any."""
    points: dict[int, dict[str, list[tuple[int, int]]]] = {}
    query = (
        select(Score.course_id, Score.instrument, Score.week, Score.total)
        .join(Course, col(Course.id) == col(Score.course_id))
        .where(scope, col(Score.total).is_not(None))
        .order_by(col(Score.week))
    )
    for course_id, instrument, week, total in session.exec(query).all():
        assert total is not None
        points.setdefault(course_id, {}).setdefault(instrument, []).append((week, total))
    return {cid: {name: ScoreSeries(tuple(p)) for name, p in by.items()} for cid, by in points.items()}


def _homework(session: Session, where: Scope, join: bool = True) -> dict[int, tuple[int, int]]:
    """course id -> (check-ins with the homework done, check-ins asked), counted in SQL by answer."""
    query = select(Answer.course_id, cast(Answer.value, String), func.count()).where(
        Answer.key == contract.HOMEWORK_DONE, where
    )
    if join:
        query = query.join(Course, col(Course.id) == col(Answer.course_id))
    counts: dict[int, tuple[int, int]] = {}
    for course_id, value, count in session.exec(query.group_by(col(Answer.course_id), cast(Answer.value, String))):
        done, total = counts.get(course_id, (0, 0))
        counts[course_id] = (done + count * (_decoded(value) in HOMEWORK_DONE), total + count)
    return counts


def _decoded(value: str | None) -> Any:
    """A JSON answer value as SQL casts it to text (the stored JSON)."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def open_alerts(session: Session, scope: Scope | None = None) -> list[Alert]:
    """Unacknowledged alerts (of the courses in `scope`, or all), the most urgent and then the oldest first."""
    query = select(Alert).where(col(Alert.acknowledged_at).is_(None))
    if scope is not None:
        query = query.join(Course, col(Course.id) == col(Alert.course_id)).where(scope)
    alerts = session.exec(query.order_by(col(Alert.created_at), col(Alert.id))).all()
    return sorted(alerts, key=lambda a: LEVEL_ORDER.get(a.level, 9))


def summarize(session: Session, courses: Sequence[Course], scope: Scope | None = None) -> list[CaseSummary]:
    """The summaries of `courses`; `scope`, a condition on `Course` that picks at least them
    (the one that found them), keeps the number of parameters the same for any number of
    courses. Without it, the courses are picked by id, for a handful (one case)."""
    ids = [c.id for c in courses if c.id is not None]
    if scope is None:
        if not ids:
            return []
        scope = col(Course.id).in_(ids)
    series = score_series(session, scope)
    homework = _homework(session, scope)
    alerts: dict[int, list[Alert]] = {}
    for alert in open_alerts(session, scope):
        if alert.course_id is not None:
            alerts.setdefault(alert.course_id, []).append(alert)
    result: list[CaseSummary] = []
    for course in courses:
        assert course.id is not None
        done, total = homework.get(course.id, (0, 0))
        result.append(CaseSummary(course, series.get(course.id, {}), done, total, tuple(alerts.get(course.id, ()))))
    return result


def caseload(session: Session, clinician_id: int | None, covering: Collection[int] = ()) -> list[CaseSummary]:
    """Open courses (one clinician's and those of colleagues they cover for, or everyone's with None),
    open alerts first."""
    scope: Scope = col(Course.state) != "closed"
    if clinician_id is not None:
        scope = and_(scope, col(Course.clinician_id).in_([clinician_id, *sorted(covering)]))
    courses = session.exec(select(Course).where(scope).order_by(col(Course.label))).all()
    return sorted(summarize(session, courses, scope), key=lambda s: s.most_urgent)
