"""`guidebot report` on a seeded database gives the figures worked out by hand below.

NHS Talking Therapies definitions (PRACTICE.md): caseness PHQ-9 >= 10 or GAD-7 >= 8;
reliable change PHQ-9 6, GAD-7 4; only ended courses count: finished treatment =
completed, or dropped out with at least 2 sessions; outcomes need paired full-form
scores (first and last complete scores). Running courses are "in progress" apart.

depression (started since 2026-01-01):
  A  PHQ 14 -> 8,  GAD 9 -> 5   completed   case at start, not at end: recovered;
                                            -6/-4: reliable improvement -> reliable recovery
  B  PHQ 12 -> 11, GAD 10 -> 9  completed   case at start and end; no reliable change
  C  PHQ 9 -> 2,   GAD 5 -> 2   active      in progress: left out of every outcome figure
  D  PHQ 15,       GAD 12       dropped out one session: not finished treatment; reason "time"
  E  PHQ 11 -> 18, GAD 7 -> 7   closed after dropping out; case at start and end; +7: deterioration;
                                            reason "not_helpful"
  in progress 1 (C); ended 4: completed 2/4 = 0.5, dropped out 2/4 = 0.5
  finished 3 (A B E), paired 3; at caseness 3 (A B E)
  recovery 1/3, reliable improvement 1/3 (A), reliable recovery 1/3
  mean change PHQ-9 (-6 -1 +7)/3 = 0.0, GAD-7 (-4 -1 +0)/3 = -1.67
  code made A 2, B 4, C 1, D 3, E 6 days before the first conversation: median 3.0
  urgent alerts acknowledged after 10 and 30 minutes, one open: median 20 (2/3)
anxiety:
  F  PHQ 6 -> 4,   GAD 12 -> 6  completed   case at start (GAD), not at end; -6 GAD: reliable recovery
                                            code 5 days before
  G  started 2025-11-01, before --since: left out
  urgent alert acknowledged after 5 minutes; a high alert (100 minutes) does not count
all: started 6, in progress 1, ended 5, completed 3/5 = 0.6, dropped out 2/5 = 0.4
  finished 4 (A B E F), paired 4, at caseness 4
  recovery 2/4, reliable improvement 2/4 (A F), reliable recovery 2/4
  mean change PHQ-9 (-6 -1 +7 -2)/4 = -0.5, GAD-7 (-4 -1 +0 -6)/4 = -2.75
  days from code to first conversation 2 4 1 3 6 5: median 3.5
  median to acknowledge of 10, 30, 5 = 10 (3/4)
Per owning clinician (same courses, --since 2026-01-01): Kari owns A B F, Ola owns C D E, G has no owner.
  Kari: started 3, in progress 0, ended 3, completed 3/3 = 1.0, dropped out 0/3 = 0.0
    finished 3 (A B F), paired 3, at caseness 3 (A B F); recovered A F: 2/3
    reliable improvement A F: 2/3, reliable recovery A F: 2/3
    mean change PHQ-9 (-6 -1 -2)/3 = -3.0, GAD-7 (-4 -1 -6)/3 = -3.67
    days from code 2 4 5: median 4.0; urgent alerts of A B F acknowledged after 10, 30, 5: median 10 (3/3)
  Ola: started 3, in progress 1 (C), ended 2, completed 0/2 = 0.0, dropped out 2/2 = 1.0 (time, not_helpful)
    finished 1 (E), paired 1, at caseness 1 (E); recovered 0/1, reliable improvement 0/1, reliable recovery 0/1
    mean change PHQ-9 +7.0, GAD-7 0.0; days from code 1 3 6: median 3.0; urgent alert of E open: (0/1)
  Nobody (all time, --program anxiety): G only, completed; PHQ 20 -> 2, GAD 15 -> 1: recovered.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.storage.db import transaction
from bot.storage.models import AccessCode, Alert, Answer, Clinician, Course, Score
from tests.support.cli import guidebot, use_database
from tests.support.clinician import audit_actions
from tests.support.settings import make_settings

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

COURSES: dict[str, dict[str, Any]] = {
    "A": {"program": "depression", "phq9": {1: 14, 6: 8}, "gad7": {1: 9, 6: 5}, "state": "completed"},
    "B": {"program": "depression", "phq9": {1: 12, 3: 13, 6: 11}, "gad7": {1: 10, 6: 9}, "state": "completed"},
    "C": {"program": "depression", "phq9": {1: 9, 2: 2}, "gad7": {1: 5, 2: 2}, "state": "active"},
    "D": {
        "program": "depression",
        "phq9": {1: 15, 2: None},
        "gad7": {1: 12},
        "state": "dropped_out",
        "reason": "time",
    },
    "E": {
        "program": "depression",
        "phq9": {1: 11, 4: 18},
        "gad7": {1: 7, 4: 7},
        "state": "closed",
        "closed_from": "dropped_out",
        "reason": "not_helpful",
    },
    "F": {"program": "anxiety", "phq9": {1: 6, 6: 4}, "gad7": {1: 12, 6: 6}, "state": "completed"},
    "G": {
        "program": "anxiety",
        "phq9": {1: 20, 6: 2},
        "gad7": {1: 15, 6: 1},
        "state": "completed",
        "started": datetime(2025, 11, 1, 9, 0, tzinfo=UTC),
    },
}
# The owning clinician of each course (G has none).
OWNERS = {"A": "Kari", "B": "Kari", "F": "Kari", "C": "Ola", "D": "Ola", "E": "Ola"}
# Days from the access code to the first conversation (G has no code row).
CODE_DAYS = {"A": 2, "B": 4, "C": 1, "D": 3, "E": 6, "F": 5}
# (case, level, minutes to acknowledge or None)
ALERTS = [("A", "urgent", 10), ("B", "urgent", 30), ("E", "urgent", None), ("F", "urgent", 5), ("F", "high", 100)]


def _seed(database_url: str) -> None:
    application = build_app(make_settings(database_url), run_migrations=False)
    with transaction(application.db) as session:
        ids: dict[str, int] = {}
        owners: dict[str, int | None] = {}
        for telegram_id, name in enumerate(("Kari", "Ola"), start=501):
            clinician = Clinician(telegram_id=telegram_id, name=name, created_at=START)
            session.add(clinician)
            session.flush()
            owners[name] = clinician.id
        for number, (label, spec) in enumerate(COURSES.items()):
            started = spec.get("started", START)
            course = Course(
                label=f"K-{label}",
                program=spec["program"],
                chat_id=5000 + number,
                clinician_id=owners[OWNERS[label]] if label in OWNERS else None,
                state=spec["state"],
                started_at=started,
                last_activity_at=started,
                finished_at=started + timedelta(days=42) if spec["state"] == "completed" else None,
                scratch={"closed_from": spec["closed_from"]} if "closed_from" in spec else {},
            )
            session.add(course)
            session.flush()
            assert course.id is not None
            ids[label] = course.id
            if label in CODE_DAYS:
                made = started - timedelta(days=CODE_DAYS[label])
                session.add(
                    AccessCode(
                        code_hash=f"hash-{label}",
                        program=spec["program"],
                        label=f"K-{label}",
                        created_at=made,
                        expires_at=made + timedelta(days=30),
                        redeemed_at=started,
                    )
                )
            if "reason" in spec:
                session.add(
                    Answer(
                        course_id=course.id,
                        week=4,
                        flow="dropout",
                        key="dropout_reason",
                        value=spec["reason"],
                        created_at=started,
                    )
                )
            for instrument in ("phq9", "gad7"):
                for week, total in spec[instrument].items():
                    session.add(
                        Score(course_id=course.id, week=week, instrument=instrument, total=total, created_at=started)
                    )
        for label, level, minutes in ALERTS:
            raised = START + timedelta(days=3)
            session.add(
                Alert(
                    course_id=ids[label],
                    label=f"K-{label}",
                    signal="risk_answer",
                    level=level,
                    week=2,
                    created_at=raised,
                    updated_at=raised,
                    acknowledged_at=raised + timedelta(minutes=minutes) if minutes is not None else None,
                )
            )
    application.db.dispose()


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> str:
    use_database(monkeypatch, tmp_path, database_url)
    _seed(database_url)
    return database_url


FIGURES = (
    "started",
    "in_progress",
    "ended",
    "completed",
    "completion_rate",
    "dropped_out",
    "dropout_rate",
    "dropout_reason_time",
    "dropout_reason_not_helpful",
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


def _all_rows(*args: str) -> list[dict[str, Any]]:
    result = guidebot("report", "--json", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def _rows(*args: str) -> dict[str, dict[str, Any]]:
    """The rows per program, and "all"."""
    return {row["program"]: row for row in _all_rows(*args) if "clinician" not in row}


def _clinician_rows(*args: str) -> dict[str | None, dict[str, Any]]:
    """The rows per owning clinician, by name (None: nobody)."""
    return {row["clinician"]: row for row in _all_rows(*args) if "clinician" in row}


def test_report_gives_the_figures_worked_out_by_hand(seeded: str) -> None:
    rows = _rows("--since", "2026-01-01")
    depression, anxiety, everyone = rows["depression"], rows["anxiety"], rows["all"]
    assert depression == {
        "program": "depression",
        "started": 5,
        "in_progress": 1,
        "ended": 4,
        "completed": 2,
        "completion_rate": 0.5,
        "dropped_out": 2,
        "dropout_rate": 0.5,
        "dropout_reason_time": 1,
        "dropout_reason_not_helpful": 1,
        "dropout_reason_better": 0,
        "dropout_reason_too_hard": 0,
        "dropout_reason_other": 0,
        "finished_treatment": 3,
        "paired_scores": 3,
        "phq9_mean_change": 0.0,
        "gad7_mean_change": -1.67,
        "at_caseness": 3,
        "recovered": 1,
        "recovery_rate": 0.3333,
        "reliably_improved": 1,
        "reliable_improvement_rate": 0.3333,
        "reliably_recovered": 1,
        "reliable_recovery_rate": 0.3333,
        "urgent_alerts": 3,
        "urgent_acknowledged": 2,
        "median_minutes_to_acknowledge": 20.0,
        "median_days_to_first_conversation": 3.0,
    }
    assert anxiety == {
        "program": "anxiety",
        "started": 1,
        "in_progress": 0,
        "ended": 1,
        "completed": 1,
        "completion_rate": 1.0,
        "dropped_out": 0,
        "dropout_rate": 0.0,
        "dropout_reason_time": 0,
        "dropout_reason_not_helpful": 0,
        "dropout_reason_better": 0,
        "dropout_reason_too_hard": 0,
        "dropout_reason_other": 0,
        "finished_treatment": 1,
        "paired_scores": 1,
        "phq9_mean_change": -2.0,
        "gad7_mean_change": -6.0,
        "at_caseness": 1,
        "recovered": 1,
        "recovery_rate": 1.0,
        "reliably_improved": 1,
        "reliable_improvement_rate": 1.0,
        "reliably_recovered": 1,
        "reliable_recovery_rate": 1.0,
        "urgent_alerts": 1,
        "urgent_acknowledged": 1,
        "median_minutes_to_acknowledge": 5.0,
        "median_days_to_first_conversation": 5.0,
    }
    assert everyone == {
        "program": "all",
        "started": 6,
        "in_progress": 1,
        "ended": 5,
        "completed": 3,
        "completion_rate": 0.6,
        "dropped_out": 2,
        "dropout_rate": 0.4,
        "dropout_reason_time": 1,
        "dropout_reason_not_helpful": 1,
        "dropout_reason_better": 0,
        "dropout_reason_too_hard": 0,
        "dropout_reason_other": 0,
        "finished_treatment": 4,
        "paired_scores": 4,
        "phq9_mean_change": -0.5,
        "gad7_mean_change": -2.75,
        "at_caseness": 4,
        "recovered": 2,
        "recovery_rate": 0.5,
        "reliably_improved": 2,
        "reliable_improvement_rate": 0.5,
        "reliably_recovered": 2,
        "reliable_recovery_rate": 0.5,
        "urgent_alerts": 4,
        "urgent_acknowledged": 3,
        "median_minutes_to_acknowledge": 10.0,
        "median_days_to_first_conversation": 3.5,
    }


def test_report_per_clinician_gives_the_figures_worked_out_by_hand(seeded: str) -> None:
    rows = _clinician_rows("--since", "2026-01-01")
    assert list(rows) == ["Kari", "Ola"], "owners by name; no row for nobody when every course has an owner"
    kari, ola = rows["Kari"], rows["Ola"]
    assert isinstance(kari["clinician_id"], int) and kari["program"] == "all"
    assert {k: kari[k] for k in FIGURES} == {
        "started": 3,
        "in_progress": 0,
        "ended": 3,
        "completed": 3,
        "completion_rate": 1.0,
        "dropped_out": 0,
        "dropout_rate": 0.0,
        "dropout_reason_time": 0,
        "dropout_reason_not_helpful": 0,
        "finished_treatment": 3,
        "paired_scores": 3,
        "phq9_mean_change": -3.0,
        "gad7_mean_change": -3.67,
        "at_caseness": 3,
        "recovered": 2,
        "recovery_rate": 0.6667,
        "reliably_improved": 2,
        "reliable_improvement_rate": 0.6667,
        "reliably_recovered": 2,
        "reliable_recovery_rate": 0.6667,
        "urgent_alerts": 3,
        "urgent_acknowledged": 3,
        "median_minutes_to_acknowledge": 10.0,
        "median_days_to_first_conversation": 4.0,
    }
    assert {k: ola[k] for k in FIGURES} == {
        "started": 3,
        "in_progress": 1,
        "ended": 2,
        "completed": 0,
        "completion_rate": 0.0,
        "dropped_out": 2,
        "dropout_rate": 1.0,
        "dropout_reason_time": 1,
        "dropout_reason_not_helpful": 1,
        "finished_treatment": 1,
        "paired_scores": 1,
        "phq9_mean_change": 7.0,
        "gad7_mean_change": 0.0,
        "at_caseness": 1,
        "recovered": 0,
        "recovery_rate": 0.0,
        "reliably_improved": 0,
        "reliable_improvement_rate": 0.0,
        "reliably_recovered": 0,
        "reliable_recovery_rate": 0.0,
        "urgent_alerts": 1,
        "urgent_acknowledged": 0,
        "median_minutes_to_acknowledge": None,
        "median_days_to_first_conversation": 3.0,
    }
    everyone = _rows("--since", "2026-01-01")["all"]
    for key in ("started", "in_progress", "ended", "finished_treatment", "recovered", "urgent_alerts"):
        assert kari[key] + ola[key] == everyone[key], key

    anxiety = _clinician_rows("--program", "anxiety")  # all time: G, which nobody owns, comes in
    assert list(anxiety) == ["Kari", None]
    assert anxiety[None]["program"] == "anxiety" and anxiety[None]["clinician_id"] is None
    assert (anxiety[None]["started"], anxiety[None]["recovered"], anxiety["Kari"]["started"]) == (1, 1, 1)


def test_report_for_one_program_and_all_time(seeded: str) -> None:
    rows = _rows("--program", "anxiety")
    assert list(rows) == ["anxiety", "all"]
    assert rows["anxiety"]["started"] == 2 and rows["anxiety"]["reliably_recovered"] == 2
    assert rows["all"]["started"] == 2


def test_report_table_csv_and_png(seeded: str, tmp_path: Path) -> None:
    csv_path, png_path = tmp_path / "report.csv", tmp_path / "report.png"
    result = guidebot(
        "report", "--since", "2026-01-01", "--csv", str(csv_path), "--png", str(png_path), "--locale", "en"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["program", "started", "completed"]
    depression = next(line for line in lines if line.startswith("depression"))
    assert "33% (1/3)" in depression and "50% (2/4)" not in depression and "20 min (2/3)" in depression
    assert "+0.0" in depression and "-1.7" in depression
    assert depression.split()[1:6] == ["5", "2", "2", "3", "1"]  # started, completed, dropped, finished, in progress
    with csv_path.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [(row["program"], row["clinician"]) for row in table] == [
        ("anxiety", ""),
        ("depression", ""),
        ("all", ""),
        ("all", "Kari"),
        ("all", "Ola"),
    ], "the clinician columns are empty on the program rows"
    assert table[3]["recovery_rate"] == "0.6667" and table[4]["dropout_rate"] == "1.0"
    assert lines.index("Per clinician (who owns the course):") > lines.index(depression)
    kari = next(line for line in lines if line.startswith("Kari "))
    assert kari.split()[1:6] == ["3", "3", "0", "3", "0"] and "67% (2/3)" in kari and "10 min (3/3)" in kari
    assert table[1]["recovery_rate"] == "0.3333" and table[2]["median_minutes_to_acknowledge"] == "10.0"
    assert table[1]["in_progress"] == "1" and table[2]["dropout_rate"] == "0.4"
    assert table[2]["median_days_to_first_conversation"] == "3.5" and table[1]["dropout_reason_time"] == "1"
    assert png_path.read_bytes().startswith(b"\x89PNG")

    application = build_app(make_settings(seeded), run_migrations=False)
    exported = [a for a in audit_actions(application) if a.action == "report_exported"]
    application.db.dispose()
    assert [(e.actor, e.detail) for e in exported] == [
        ("cli", {"program": None, "since": "2026-01-01", "csv": True, "png": True})
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "31.01.2026"], "guidebot: --since must be a date like 2026-01-31, not '31.01.2026'"),
        (
            ["--program", "astrology"],
            "guidebot: unknown program 'astrology' (known: anxiety, demo, depression, sleep, stress, worry)",
        ),
        (
            ["--csv", "/nonexistent/dir/report.csv"],
            "guidebot: cannot write /nonexistent/dir/report.csv: No such file or directory",
        ),
    ],
)
def test_report_bad_input_is_one_clear_line(seeded: str, args: list[str], message: str) -> None:
    result = guidebot("report", *args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == message
