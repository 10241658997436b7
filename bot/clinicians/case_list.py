"""`guidebot cases`: every course with its state and latest scores, read fast.

This module is kept light on purpose: it imports SQLAlchemy's core only, not the models,
so `guidebot cases --json` at 100,000 courses spends its time reading, not importing.

The rows are read in pages of PAGE course ids, one SQL statement a page:
- the latest and the previous complete PHQ-9 and GAD-7 come from `ix_score_latest`
  (course_id, instrument, week, total) by index seeks per course: on SQLite four scalar
  lookups, on PostgreSQL one array of the last two per instrument (fewer sub-plans). A window
  function over every score of the page had to sort them all, and took three times longer;
- the homework counts read the partial index `ix_answer_homework` (the homework answers
  only, with their value), grouped per page;
- the open alerts are grouped per page.
Values come back from the driver as they are (no ORM, no type processing); timestamps
are written as `datetime.isoformat()` writes an aware UTC time.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice, pairwise
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Connection, text

from bot.dialogs.contract import HOMEWORK_DONE, HOMEWORK_DONE_VALUES

# The program of `guidebot chat` without a code: a preview, kept out of `guidebot cases` and
# `guidebot report` unless `--include-demo` is given.
DEMO_PROGRAM = "demo"
# `guidebot cases` reads the courses in pages of this many ids, each in one query: its
# memory stays the same for any number of courses.
PAGE = 5000
# The homework answers that count as done, as SQL casts a JSON value to text.
DONE_TEXTS = tuple(json.dumps(value) for value in HOMEWORK_DONE_VALUES)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _scores_sqlite() -> str:
    def latest(instrument: str, offset: int) -> str:
        return (
            "(SELECT s.total FROM score s WHERE s.course_id = c.id"
            f" AND s.instrument = {_quoted(instrument)} AND s.total IS NOT NULL"
            f" ORDER BY s.week DESC LIMIT 1 OFFSET {offset})"
        )

    return ", ".join(latest(instrument, offset) for instrument in ("phq9", "gad7") for offset in (0, 1))


def _scores_postgresql() -> str:
    def last_two(instrument: str) -> str:
        return (
            "(SELECT array_agg(t.total) FROM (SELECT s.total FROM score s WHERE s.course_id = c.id"
            f" AND s.instrument = {_quoted(instrument)} AND s.total IS NOT NULL"
            " ORDER BY s.week DESC LIMIT 2) t)"
        )

    return f"{last_two('phq9')}, {last_two('gad7')}"


def _text(column: str, postgresql: bool) -> str:
    """A timestamp as text, the same on every server: SQLite keeps it as text already
    ('2026-03-05 17:40:00.000000'); PostgreSQL's own text depends on its DateStyle."""
    return f"to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')" if postgresql else column


def page_sql(dialect: str, *, include_demo: bool) -> str:
    """The statement for one page; `:low` and `:high` are the page's first and last course id.

    Only constants of this module are written into the text; the bounds are parameters.
    On SQLite the row's scores are four columns, on PostgreSQL two arrays (latest first).
    """
    postgresql = dialect == "postgresql"
    # SQLite's planner, without statistics, would take (key, course_id) and read every answer row.
    hint = "" if postgresql else " INDEXED BY ix_answer_homework"
    done = ", ".join(_quoted(text) for text in DONE_TEXTS)
    demo = "" if include_demo else f" AND c.program <> {_quoted(DEMO_PROGRAM)}"
    return (
        f"SELECT c.label, c.program, c.state, c.week, {_text('c.due_at', postgresql)}, c.due_kind,"
        f" c.checkin_weekday, c.checkin_time, {_text('c.last_checkin_at', postgresql)},"
        f" {_scores_postgresql() if postgresql else _scores_sqlite()},"
        " h.done, h.checkins, al.open"
        " FROM course c"
        " LEFT JOIN (SELECT a.course_id,"
        f" sum(CASE WHEN CAST(a.value AS TEXT) IN ({done}) THEN 1 ELSE 0 END) AS done, count(*) AS checkins"
        f" FROM answer a{hint} WHERE a.key = {_quoted(HOMEWORK_DONE)} AND a.course_id BETWEEN :low AND :high"
        " GROUP BY a.course_id) h ON h.course_id = c.id"
        " LEFT JOIN (SELECT course_id, count(*) AS open FROM alert"
        " WHERE acknowledged_at IS NULL AND course_id BETWEEN :low AND :high GROUP BY course_id) al"
        " ON al.course_id = c.id"
        f" WHERE c.id BETWEEN :low AND :high{demo}"
        " ORDER BY c.id"
    )


def case_rows(connection: Connection, *, include_demo: bool = True, page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every course, by id, for `guidebot cases`; the demo program's only when `include_demo`.

    The rows of `case_json`, read back: one place says what a row holds.
    """
    for line in case_json(connection, include_demo=include_demo, page=page):
        yield json.loads(line)


def case_json(connection: Connection, *, include_demo: bool = True, page: int = PAGE) -> Iterator[str]:
    """Every course, by id, each as the JSON text `json.dumps(row, ensure_ascii=False)` gives for
    its row, written directly: at 100,000 courses, building dicts and encoding them cost more
    than reading the database (tests/test_caseload_scale.py holds the text to json.dumps's bytes).

    Rows are made as they are read, one query per page of `page` course ids.
    """
    enc = encode_basestring
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
    ) in _read(connection, include_demo, page):
        # Inlined on purpose (a call per value cost a third of the time). Label, program and state
        # are never NULL; the numbers are ints from the driver (COUNT, SUM of 0/1, integer columns).
        next_checkin = enc(iso_utc(due_at)) if due_at is not None and due_kind == "checkin" else "null"
        slot = "null" if weekday is None else f'{{"weekday": {weekday:d}, "time": {enc(clock)}}}'
        last = "null" if last_checkin_at is None else enc(iso_utc(last_checkin_at))
        phq9_trend, gad7_trend = arrow(phq9, phq9_before), arrow(gad7, gad7_before)
        yield (
            f'{{"label": {enc(label)}, "program": {enc(program)}, "state": {enc(state)}, "week": {week:d}, '
            f'"next_checkin": {next_checkin}, "checkin_slot": {slot}, "last_checkin": {last}, '
            f'"phq9": {"null" if phq9 is None else f"{phq9:d}"}, '
            f'"phq9_trend": {"null" if phq9_trend is None else enc(phq9_trend)}, '
            f'"gad7": {"null" if gad7 is None else f"{gad7:d}"}, '
            f'"gad7_trend": {"null" if gad7_trend is None else enc(gad7_trend)}, '
            f'"homework_done": {homework_done or 0:d}, "homework_checkins": {homework_checkins or 0:d}, '
            f'"open_alerts": {open_alerts or 0:d}}}'
        )


# PostgreSQL pages read at once, each on a connection of its own (see `_read`).
READERS = 2


def _read(connection: Connection, include_demo: bool, page: int) -> Iterator[tuple[Any, ...]]:
    """The rows, `page` courses per query, as (label ... open alerts) with the four scores.

    A page is the next `page` course ids that exist, found in the primary key (however sparse
    the ids, after erasures): the page's first and last id bound every part of its query.
    The next pages are read while this one is written: both drivers let go of the GIL while
    the database works, so its time and Python's overlap. On SQLite one reader, on the caller's
    connection and its one snapshot; on PostgreSQL READERS, each on a connection of its own
    (under READ COMMITTED each statement reads its own snapshot anyway), since the server's
    seeks per page take as long as Python's writing.
    """
    postgresql = connection.dialect.name == "postgresql"
    statement = text(page_sql(connection.dialect.name, include_demo=include_demo))
    firsts = list(
        connection.execute(
            text(
                "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM course) t"
                " WHERE (n - 1) % :page = 0 ORDER BY id"
            ),
            {"page": page},
        ).scalars()
    )
    if not firsts:
        return
    top = connection.execute(text("SELECT max(id) FROM course")).scalar_one()
    bounds = [(first, after - 1) for first, after in pairwise(firsts)] + [(firsts[-1], max(top, firsts[-1]))]
    local = threading.local()
    opened: list[Connection] = []
    lock = threading.Lock()

    def read(low: int, high: int) -> Sequence[Any]:
        own: Connection | None = getattr(local, "connection", None) if postgresql else connection
        if own is None:
            own = local.connection = connection.engine.connect()
            with lock:
                opened.append(own)
        return own.execute(statement, {"low": low, "high": high}).all()

    readers = READERS if postgresql else 1
    try:
        with ThreadPoolExecutor(max_workers=readers, thread_name_prefix="case-list") as pool:
            waiting = iter(bounds)
            coming = deque(pool.submit(read, *bound) for bound in islice(waiting, readers + 1))
            while coming:
                result = coming.popleft().result()
                for bound in islice(waiting, 1):
                    coming.append(pool.submit(read, *bound))
                yield from _unpacked(result) if postgresql else result
    finally:
        for own in opened:
            own.close()


def _unpacked(result: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """PostgreSQL's rows with each instrument's array (latest first) as two columns, as on SQLite."""
    for row in result:
        phq9: list[int] = row[9] or []
        gad7: list[int] = row[10] or []
        yield (
            *row[:9],
            phq9[0] if phq9 else None,
            phq9[1] if len(phq9) > 1 else None,
            gad7[0] if gad7 else None,
            gad7[1] if len(gad7) > 1 else None,
            *row[11:],
        )


def iso_utc(value: str | datetime) -> str:
    """A stored UTC time as `datetime.isoformat()` writes it aware ('2026-03-05T17:40:00+00:00'),
    from its text: 'YYYY-MM-DD HH:MM:SS.ffffff' (see `_text`), microseconds left out when zero."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat()
    if len(value) == 26 and value[10] == " " and value[19] == ".":
        micro = value[19:]
        return f"{value[:10]}T{value[11:19]}{'' if micro == '.000000' else micro}+00:00"
    return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()


def arrow(latest: int | None, previous: int | None) -> str | None:
    """As ScoreSeries.arrow (tests/test_caseload_scale.py holds the two together)."""
    if latest is None or previous is None:
        return None
    if latest > previous:
        return "↑"
    return "↓" if latest < previous else "→"
