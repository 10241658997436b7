"""The caseload: every course with where it stands, its scores and its open alerts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

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


def score_series(session: Session, course_ids: Sequence[int]) -> dict[int, dict[str, ScoreSeries]]:
    """course id -> instrument -> complete totals by week."""
    points: dict[int, dict[str, list[tuple[int, int]]]] = {cid: {} for cid in course_ids}
    if course_ids:
        query = (
            select(Score)
            .where(col(Score.course_id).in_(course_ids), col(Score.total).is_not(None))
            .order_by(col(Score.week))
        )
        for score in session.exec(query).all():
            assert score.total is not None
            points[score.course_id].setdefault(score.instrument, []).append((score.week, score.total))
    return {cid: {name: ScoreSeries(tuple(p)) for name, p in by.items()} for cid, by in points.items()}


def _homework(session: Session, course_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    counts = {cid: (0, 0) for cid in course_ids}
    if course_ids:
        query = select(Answer).where(col(Answer.course_id).in_(course_ids), Answer.key == contract.HOMEWORK_DONE)
        for answer in session.exec(query).all():
            done, total = counts[answer.course_id]
            counts[answer.course_id] = (done + (answer.value in HOMEWORK_DONE), total + 1)
    return counts


def open_alerts(session: Session, course_ids: Sequence[int] | None = None) -> list[Alert]:
    """Unacknowledged alerts, the most urgent and then the oldest first."""
    query = select(Alert).where(col(Alert.acknowledged_at).is_(None))
    if course_ids is not None:
        query = query.where(col(Alert.course_id).in_(course_ids))
    alerts = session.exec(query.order_by(col(Alert.created_at), col(Alert.id))).all()
    return sorted(alerts, key=lambda a: LEVEL_ORDER.get(a.level, 9))


def summarize(session: Session, courses: Sequence[Course]) -> list[CaseSummary]:
    ids = [c.id for c in courses if c.id is not None]
    series = score_series(session, ids)
    homework = _homework(session, ids)
    alerts: dict[int, list[Alert]] = {cid: [] for cid in ids}
    for alert in open_alerts(session, ids):
        if alert.course_id is not None:
            alerts[alert.course_id].append(alert)
    result: list[CaseSummary] = []
    for course in courses:
        assert course.id is not None
        done, total = homework[course.id]
        result.append(CaseSummary(course, series[course.id], done, total, tuple(alerts[course.id])))
    return result


def caseload(session: Session, clinician_id: int | None, covering: Collection[int] = ()) -> list[CaseSummary]:
    """Open courses (one clinician's and those of colleagues they cover for, or everyone's with None),
    open alerts first."""
    query = select(Course).where(Course.state != "closed")
    if clinician_id is not None:
        query = query.where(col(Course.clinician_id).in_([clinician_id, *sorted(covering)]))
    courses = session.exec(query.order_by(col(Course.label))).all()
    return sorted(summarize(session, courses), key=lambda s: s.most_urgent)


# The program of `guidebot chat` without a code: a preview, kept out of `guidebot cases` and
# `guidebot report` unless `--include-demo` is given.
DEMO_PROGRAM = "demo"


def case_rows(session: Session, *, include_demo: bool = True) -> list[dict[str, Any]]:
    """Every course, for `guidebot cases`; the demo program's only when `include_demo`."""
    query = select(Course)
    if not include_demo:
        query = query.where(Course.program != DEMO_PROGRAM)
    courses = session.exec(query.order_by(col(Course.id))).all()
    rows: list[dict[str, Any]] = []
    for summary in summarize(session, courses):
        course = summary.course
        phq9, gad7 = summary.scores.get("phq9"), summary.scores.get("gad7")
        rows.append(
            {
                "label": course.label,
                "program": course.program,
                "state": course.state,
                "week": course.week,
                "next_checkin": course.due_at.isoformat() if course.due_at and course.due_kind == "checkin" else None,
                "checkin_slot": (
                    {"weekday": course.checkin_weekday, "time": course.checkin_time}
                    if course.checkin_weekday is not None
                    else None
                ),
                "last_checkin": course.last_checkin_at.isoformat() if course.last_checkin_at else None,
                "phq9": phq9.latest if phq9 else None,
                "phq9_trend": phq9.arrow if phq9 else None,
                "gad7": gad7.latest if gad7 else None,
                "gad7_trend": gad7.arrow if gad7 else None,
                "homework_done": summary.homework_done,
                "homework_checkins": summary.homework_total,
                "open_alerts": len(summary.open_alerts),
            }
        )
    return rows
