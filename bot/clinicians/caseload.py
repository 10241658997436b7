"""The caseload: every course with where it stands, its scores and its open alerts."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal_column
from sqlalchemy import select as sa_select
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


# The program of `guidebot chat` without a code: a preview, kept out of `guidebot cases` and
# `guidebot report` unless `--include-demo` is given.
DEMO_PROGRAM = "demo"


# `guidebot cases` reads the courses in pages of this many ids, each in one query: its
# memory stays the same for any number of courses.
PAGE = 5000
# The homework answers that count as done, as SQL casts a JSON value to text.
DONE_TEXTS = tuple(json.dumps(value) for value in HOMEWORK_DONE)


def case_rows(session: Session, *, include_demo: bool = True, page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every course, by id, for `guidebot cases`; the demo program's only when `include_demo`.

    Rows are made as they are read, one query per range of `page` course ids: the latest and
    the previous complete PHQ-9 and GAD-7 (a window function), the homework counts and the
    open alerts (GROUP BY), joined to the courses.
    """
    connection = session.connection()
    top = connection.execute(sa_select(func.max(col(Course.id)))).scalar()
    if top is None:
        return
    first = connection.execute(sa_select(func.min(col(Course.id)))).scalar_one()
    assert first is not None
    for low in range(first, top + 1, page):
        # Plain tuples, unpacked by position: at 100,000 rows, attribute access and a
        # ScoreSeries per trend cost more than the query.
        for (
            label,
            program,
            state,
            week,
            due_at,
            due_kind,
            weekday,
            clock,
            last_checkin_at,
            phq9,
            phq9_before,
            gad7,
            gad7_before,
            homework_done,
            homework_checkins,
            open_alerts,
        ) in connection.execute(_page(low, low + page - 1, include_demo=include_demo)).all():
            yield {
                "label": label,
                "program": program,
                "state": state,
                "week": week,
                "next_checkin": due_at.isoformat() if due_at and due_kind == "checkin" else None,
                "checkin_slot": {"weekday": weekday, "time": clock} if weekday is not None else None,
                "last_checkin": last_checkin_at.isoformat() if last_checkin_at else None,
                "phq9": phq9,
                "phq9_trend": _arrow(phq9, phq9_before),
                "gad7": gad7,
                "gad7_trend": _arrow(gad7, gad7_before),
                "homework_done": homework_done or 0,
                "homework_checkins": homework_checkins or 0,
                "open_alerts": open_alerts or 0,
            }


def _arrow(latest: int | None, previous: int | None) -> str | None:
    """As ScoreSeries.arrow (tests/test_caseload_scale.py holds the two together)."""
    if latest is None or previous is None:
        return None
    if latest > previous:
        return "↑"
    return "↓" if latest < previous else "→"


def _page(low: int, high: int, *, include_demo: bool) -> Select[Any]:
    """One query for the courses with ids low..high and their figures."""
    rank = (
        func.row_number()
        .over(partition_by=(col(Score.course_id), col(Score.instrument)), order_by=col(Score.week).desc())
        .label("rank")
    )
    ranked = (
        sa_select(col(Score.course_id), col(Score.instrument), col(Score.total), rank)
        .where(
            col(Score.course_id).between(low, high),
            col(Score.instrument).in_(("phq9", "gad7")),
            col(Score.total).is_not(None),
        )
        .subquery()
    )

    def total(instrument: str, place: int) -> Any:
        chosen = (ranked.c.instrument == literal_column(f"'{instrument}'")) & (
            ranked.c.rank == literal_column(str(place))
        )
        return func.max(case((chosen, ranked.c.total)))

    scores = (
        sa_select(
            ranked.c.course_id,
            total("phq9", 1).label("phq9"),
            total("phq9", 2).label("phq9_before"),
            total("gad7", 1).label("gad7"),
            total("gad7", 2).label("gad7_before"),
        )
        .where(ranked.c.rank <= literal_column("2"))
        .group_by(ranked.c.course_id)
        .subquery()
    )
    done = case((cast(Answer.value, String).in_(DONE_TEXTS), 1), else_=0)
    homework = (
        sa_select(
            col(Answer.course_id),
            func.sum(done).label("homework_done"),
            func.count().label("homework_checkins"),
        )
        .where(col(Answer.key) == contract.HOMEWORK_DONE, col(Answer.course_id).between(low, high))
        .group_by(col(Answer.course_id))
        .subquery()
    )
    alerts = (
        sa_select(col(Alert.course_id), func.count().label("open_alerts"))
        .where(col(Alert.acknowledged_at).is_(None), col(Alert.course_id).between(low, high))
        .group_by(col(Alert.course_id))
        .subquery()
    )
    query = (
        sa_select(
            col(Course.label),
            col(Course.program),
            col(Course.state),
            col(Course.week),
            col(Course.due_at),
            col(Course.due_kind),
            col(Course.checkin_weekday),
            col(Course.checkin_time),
            col(Course.last_checkin_at),
            scores.c.phq9,
            scores.c.phq9_before,
            scores.c.gad7,
            scores.c.gad7_before,
            homework.c.homework_done,
            homework.c.homework_checkins,
            alerts.c.open_alerts,
        )
        .outerjoin(scores, scores.c.course_id == col(Course.id))
        .outerjoin(homework, homework.c.course_id == col(Course.id))
        .outerjoin(alerts, alerts.c.course_id == col(Course.id))
        .where(col(Course.id).between(low, high))
    )
    if not include_demo:
        query = query.where(col(Course.program) != DEMO_PROGRAM)
    return query.order_by(col(Course.id))
