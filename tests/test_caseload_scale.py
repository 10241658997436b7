"""Large caseloads (issue 11): the caseload, `guidebot cases` and the report bind no parameter
per course, `cases --json` gives the rows worked out by hand below, and starting the bot
does not import matplotlib.

The small caseload, made-up (times in UTC, week = the course's week):
  C-1 depression, active, week 3; next check-in 2026-03-12 17:30 on Thursdays 18:30;
      PHQ-9 12 (week 1), 10 (week 2), an incomplete one in week 3 -> latest 10, fell;
      GAD-7 9 (week 1) only -> 9, no arrow; homework "yes", "no", "partly" -> 2 of 3;
      one open alert and one acknowledged -> 1 open.
  C-2 anxiety, completed, week 8, a booster due (not a check-in) -> no next check-in;
      PHQ-9 5, 5 -> 5, unchanged; GAD-7 3, 6 -> 6, rose; homework "no" -> 0 of 1; no alerts.
  C-3 demo, intake: nothing yet; two open alerts -> 2 (left out without --include-demo).
  C-4 depression, closed, week 2: PHQ-9 20 (week 1) -> no arrow; homework answered
      in other steps only -> 0 of 0.
  An open alert from a chat with no course counts for no one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.charts import score_chart
from bot.clinicians.case_list import arrow as _arrow
from bot.clinicians.case_list import case_json, case_rows, iso_utc
from bot.clinicians.caseload import ScoreSeries, caseload, summarize
from bot.clinicians.report import outcome_rows
from bot.dialogs.contract import HOMEWORK_DONE, HOMEWORK_WHAT
from bot.dialogs.store import DialogStore
from bot.storage.db import make_engine, transaction
from bot.storage.models import Alert, Answer, Course, Score

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 12, 17, 30, tzinfo=UTC)
LAST_CHECKIN = datetime(2026, 3, 5, 17, 40, tzinfo=UTC)


def _course(label: str, program: str, state: str, week: int, **more: Any) -> Course:
    return Course(
        label=label,
        program=program,
        state=state,
        week=week,
        started_at=START,
        last_activity_at=START + timedelta(days=week * 7),
        **more,
    )


def _scores(course: Course, instrument: str, totals: dict[int, int | None]) -> list[Score]:
    assert course.id is not None
    return [
        Score(course_id=course.id, week=week, instrument=instrument, total=total, created_at=START)
        for week, total in totals.items()
    ]


def _answers(course: Course, key: str, values: list[str]) -> list[Answer]:
    assert course.id is not None
    return [
        Answer(course_id=course.id, week=week, flow="checkin", key=key, value=value, created_at=START)
        for week, value in enumerate(values, start=1)
    ]


def _alert(course: Course | None, *, acknowledged: bool = False) -> Alert:
    return Alert(
        course_id=course.id if course is not None else None,
        chat_id=None if course is not None else 4242,
        label=course.label if course is not None else "-",
        signal="self_harm",
        level="urgent",
        week=1,
        created_at=START,
        updated_at=START,
        acknowledged_at=START + timedelta(minutes=5) if acknowledged else None,
    )


def seed_small_caseload(session: Session) -> None:
    one = _course(
        "C-1",
        "depression",
        "active",
        3,
        due_at=DUE,
        due_kind="checkin",
        checkin_weekday=3,
        checkin_time="18:30",
        last_checkin_at=LAST_CHECKIN,
    )
    two = _course("C-2", "anxiety", "completed", 8, due_at=DUE, due_kind="booster", last_checkin_at=LAST_CHECKIN)
    three = _course("C-3", "demo", "intake", 1)
    four = _course("C-4", "depression", "closed", 2)
    session.add_all([one, two, three, four])
    session.flush()
    session.add_all(
        [
            *_scores(one, "phq9", {1: 12, 2: 10, 3: None}),
            *_scores(one, "gad7", {1: 9}),
            *_scores(two, "phq9", {1: 5, 2: 5}),
            *_scores(two, "gad7", {1: 3, 2: 6}),
            *_scores(four, "phq9", {1: 20}),
            *_answers(one, HOMEWORK_DONE, ["yes", "no", "partly"]),
            *_answers(two, HOMEWORK_DONE, ["no"]),
            *_answers(four, HOMEWORK_WHAT, ["yes"]),
            _alert(one),
            _alert(one, acknowledged=True),
            _alert(three),
            _alert(three),
            _alert(None),
        ]
    )


def _row(label: str, program: str, state: str, week: int, **more: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "label": label,
        "program": program,
        "state": state,
        "week": week,
        "next_checkin": None,
        "checkin_slot": None,
        "last_checkin": None,
        "phq9": None,
        "phq9_trend": None,
        "gad7": None,
        "gad7_trend": None,
        "homework_done": 0,
        "homework_checkins": 0,
        "open_alerts": 0,
    }
    row.update(more)
    return row


EXPECTED = [
    _row(
        "C-1",
        "depression",
        "active",
        3,
        next_checkin="2026-03-12T17:30:00+00:00",
        checkin_slot={"weekday": 3, "time": "18:30"},
        last_checkin="2026-03-05T17:40:00+00:00",
        phq9=10,
        phq9_trend="↓",
        gad7=9,
        homework_done=2,
        homework_checkins=3,
        open_alerts=1,
    ),
    _row(
        "C-2",
        "anxiety",
        "completed",
        8,
        last_checkin="2026-03-05T17:40:00+00:00",
        phq9=5,
        phq9_trend="→",
        gad7=6,
        gad7_trend="↑",
        homework_checkins=1,
    ),
    _row("C-3", "demo", "intake", 1, open_alerts=2),
    _row("C-4", "depression", "closed", 2, phq9=20),
]


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_cases_json_rows_are_the_ones_worked_out_by_hand(db: Engine) -> None:
    with transaction(db) as session:
        seed_small_caseload(session)
    with transaction(db) as session:
        connection = session.connection()
        assert list(case_rows(connection)) == EXPECTED
        assert list(case_rows(connection, include_demo=False)) == [r for r in EXPECTED if r["program"] != "demo"]
        assert json.loads(json.dumps(list(case_rows(connection)), ensure_ascii=False)) == EXPECTED


def test_the_json_rows_are_the_bytes_json_dumps_writes(db: Engine) -> None:
    """`guidebot cases --json` writes each row's text itself; it must be json.dumps's, byte for byte,
    for awkward labels, times with and without microseconds, and across page boundaries."""
    with transaction(db) as session:
        seed_small_caseload(session)
        odd = [
            _course('K-"1"\\', "depression", "active", 2, due_at=DUE.replace(microsecond=120), due_kind="checkin"),
            _course("Kø-Æå\n\t😀", "depression", "active", 2, last_checkin_at=LAST_CHECKIN.replace(microsecond=5)),
            _course("K-\u2028\x01", "depression", "active", 2, checkin_weekday=0, checkin_time="07:05"),
        ]
        session.add_all(odd)
        session.flush()
        session.add_all([*_scores(odd[0], "phq9", {1: 27, 2: 0}), *_answers(odd[1], HOMEWORK_DONE, ["partly"])])
    with transaction(db) as session:
        connection = session.connection()
        for page in (1, 2, 5000):
            lines = list(case_json(connection, page=page))
            rows = [json.loads(line) for line in lines]
            assert lines == [json.dumps(row, ensure_ascii=False) for row in rows]  # json.dumps's own bytes
            assert list(case_rows(connection, page=page)) == rows
            assert len(rows) == 7
        assert [r["next_checkin"] for r in rows][4] == "2026-03-12T17:30:00.000120+00:00"
        assert [r["last_checkin"] for r in rows][5] == "2026-03-05T17:40:00.000005+00:00"
        shown = list(case_json(connection, include_demo=False))
        assert [json.loads(line) for line in shown] == [r for r in rows if r["program"] != "demo"]


def test_pages_are_courses_that_exist_however_sparse_the_ids(db: Engine) -> None:
    """Ids far apart (erased courses leave gaps) cost no empty pages: a page is the next ids there are."""
    with transaction(db) as session:
        ids = (3, 4, 40_000_000, 2_000_000_000, 2_000_000_001)
        session.add_all(_course(f"G-{n}", "depression", "active", 1, id=n) for n in ids)
    counted = Parameters(db)
    with transaction(db) as session:
        rows = list(case_rows(session.connection(), page=2))
    assert [row["label"] for row in rows] == [f"G-{n}" for n in ids]
    assert counted.statements <= 3 + 2 * 3  # BEGIN, min, max, then a page of two: its last id, its rows


def test_stored_times_are_written_as_isoformat_writes_them() -> None:
    when = datetime(2026, 3, 5, 17, 40, tzinfo=UTC)
    for moment in (when, when.replace(microsecond=1), when.replace(microsecond=999999)):
        naive = moment.replace(tzinfo=None)
        assert iso_utc(f"{naive:%Y-%m-%d %H:%M:%S.%f}") == moment.isoformat()  # SQLite's text, to_char's
        assert iso_utc(str(naive)) == moment.isoformat()  # any other ISO text
        assert iso_utc(naive) == moment.isoformat()


def test_the_caseload_summaries_match_the_rows(db: Engine) -> None:
    with transaction(db) as session:
        seed_small_caseload(session)
    with transaction(db) as session:
        summaries = caseload(session, None)
        # open courses only, the most urgent open alert first, then by label
        assert [s.course.label for s in summaries] == ["C-1", "C-3", "C-2"]
        by_label = {s.course.label: s for s in summaries}
        one = by_label["C-1"]
        assert one.scores["phq9"].points == ((1, 12), (2, 10))
        assert (one.scores["phq9"].first, one.scores["phq9"].latest, one.scores["phq9"].arrow) == (12, 10, "↓")
        assert (one.homework_done, one.homework_total, len(one.open_alerts)) == (2, 3, 1)
        assert len(by_label["C-3"].open_alerts) == 2 and by_label["C-3"].scores == {}
        [alone] = summarize(session, [by_label["C-2"].course])
        assert alone.scores["gad7"].points == ((1, 3), (2, 6)) and alone.homework_total == 1


COURSES = 300


def _seed_many(session: Session) -> None:
    """COURSES courses, each with scores, homework answers and, for every tenth, an open alert."""
    courses = [
        _course(f"M-{n}", "depression" if n % 3 else "demo", "closed" if n % 7 == 0 else "active", 3)
        for n in range(COURSES)
    ]
    session.add_all(courses)
    session.flush()
    rows: list[Any] = []
    for n, course in enumerate(courses):
        rows += _scores(course, "phq9", {1: 10 + n % 5, 2: 9})
        rows += _scores(course, "gad7", {1: 8, 2: 7 + n % 3})
        rows += _answers(course, HOMEWORK_DONE, ["yes", "no"])
        if n % 10 == 0:
            rows.append(_alert(course))
    session.add_all(rows)


class Parameters:
    """The most parameters any one statement bound, counted as the driver gets them."""

    def __init__(self, engine: Engine) -> None:
        self.most = 0
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        self.statements += 1
        if isinstance(parameters, dict | list | tuple):
            self.most = max(self.most, len(parameters))


def test_no_query_binds_a_parameter_per_course(db: Engine, shipped_dialogs: DialogStore) -> None:
    with transaction(db) as session:
        _seed_many(session)
    counted = Parameters(db)
    with transaction(db) as session:
        rows = list(case_rows(session.connection()))
        summaries = caseload(session, None)
        report = outcome_rows(session, shipped_dialogs.current.dialogs)
    assert len(rows) == COURSES
    assert sum(r["open_alerts"] for r in rows) == COURSES // 10
    assert {r["phq9"] for r in rows} == {9} and {r["homework_checkins"] for r in rows} == {2}
    assert len(summaries) == COURSES - len(range(0, COURSES, 7))
    assert report[-1]["started"] == COURSES
    assert counted.statements > 0
    # a page's two ids, each subquery's range and constants: the same for 300 courses or 100,000
    assert counted.most <= 20, f"a statement bound {counted.most} parameters for {COURSES} courses"


def test_starting_the_bot_does_not_import_matplotlib(tmp_path: Path) -> None:
    """matplotlib takes over a second to import; only drawing a chart may import it."""
    script = f"""
import sys
from bot.app import build_app
import bot.cli, bot.channels.telegram.runner, bot.clinicians.cli, bot.dashboard.server
from bot.config import Settings
app = build_app(Settings(_env_file=None, database_url="sqlite:///{tmp_path / "start.db"}", clinician_chat_id=-1))
app.db.dispose()
print(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"))
"""
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"


def test_a_chart_still_imports_matplotlib_when_drawn(shipped_dialogs: DialogStore) -> None:
    texts = {"week": "Uke", "total": "Sum", "title": "Skårer"}
    png = score_chart(shipped_dialogs.current.dialogs, {"phq9": {1: 12, 2: 10}}, "nb", texts)
    assert png is not None and png.startswith(b"\x89PNG")
    assert "matplotlib" in sys.modules


PAST_POSTGRES_LIMIT = 70_000  # PostgreSQL refuses a statement with more than 65,535 parameters


@pytest.mark.slow
def test_seventy_thousand_courses_on_both_backends(db: Engine, shipped_dialogs: DialogStore) -> None:
    """The old `summarize` crashed here on PostgreSQL: one IN list of every course id."""
    now = START
    with db.begin() as connection:
        connection.execute(
            insert(Course),
            [
                {
                    "label": f"S-{n}",
                    "program": "depression",
                    "state": "active",
                    "week": 2,
                    "locale": "nb",
                    "timezone": "Europe/Oslo",
                    "ask_seq": 0,
                    "missed_weeks": 0,
                    "reminders_sent": 0,
                    "unreachable": False,
                    "started_at": now,
                    "last_activity_at": now,
                    "scratch": {},
                }
                for n in range(PAST_POSTGRES_LIMIT)
            ],
        )
        ids = connection.execute(sa_select(col(Course.id)).order_by(col(Course.id))).scalars().all()
        connection.execute(
            insert(Score),
            [
                {
                    "course_id": course_id,
                    "week": 1,
                    "instrument": "phq9",
                    "total": n % 28,
                    "items": {},
                    "created_at": now,
                }
                for n, course_id in enumerate(ids)
            ],
        )
    counted = Parameters(db)
    with transaction(db) as session:
        rows = list(case_rows(session.connection()))
        assert len(rows) == PAST_POSTGRES_LIMIT and rows[-1]["phq9"] == (PAST_POSTGRES_LIMIT - 1) % 28
        assert len(caseload(session, None)) == PAST_POSTGRES_LIMIT
        assert outcome_rows(session, shipped_dialogs.current.dialogs)[-1]["in_progress"] == PAST_POSTGRES_LIMIT
    assert counted.most <= 20


def test_the_cases_trend_is_the_score_series_arrow() -> None:
    for previous in (None, 3, 7, 12):
        for latest in (None, 3, 7, 12):
            expected = None if previous is None or latest is None else ScoreSeries(((0, previous), (1, latest))).arrow
            assert _arrow(latest, previous) == expected


def test_the_listing_reads_a_snapshot_while_the_bot_writes(sqlite_url: str) -> None:
    """`guidebot cases` on SQLite begins deferred: a long listing neither waits for nor holds the
    write lock that the running bot's turns take (with it, each step below would wait 30 s and fail)."""
    bot_engine, reader = make_engine(sqlite_url), make_engine(sqlite_url, reader=True)
    try:
        with transaction(bot_engine) as session:
            seed_small_caseload(session)
        with bot_engine.begin() as turn:  # a turn in the middle of its transaction (BEGIN IMMEDIATE)
            turn.execute(text("UPDATE course SET week = 7 WHERE label = 'C-1'"))
            with reader.connect() as connection:
                assert [row["week"] for row in case_rows(connection)] == [3, 8, 1, 2]
        with reader.connect() as connection:
            listing = case_rows(connection, page=1)
            assert next(listing)["week"] == 7  # the listing has begun, its snapshot open
            with bot_engine.begin() as turn:  # and the bot's next turn writes and commits meanwhile
                turn.execute(text("UPDATE course SET week = 9 WHERE label = 'C-2'"))
            assert [row["week"] for row in listing] == [8, 1, 2]  # still the snapshot
    finally:
        bot_engine.dispose()
        reader.dispose()
