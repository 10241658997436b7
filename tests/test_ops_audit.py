"""`guidebot audit export`: the audit lines as JSON lines or CSV, from a date on; the export is itself audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.clock import FakeClock
from bot.engine.codes import audit
from bot.storage.db import transaction
from bot.storage.models import AuditEntry
from tests.support.cli import guidebot, use_database


def some_lines(app: App, clock: FakeClock) -> None:
    with transaction(app.db) as session:
        audit(session, clock.now() - timedelta(days=40), "cli", "code_created", "K-1", program="depression")
        audit(session, clock.now(), "clinician:1", "case_viewed", "K-1")


def test_json_lines_and_csv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app: App, clock: FakeClock) -> None:
    some_lines(app, clock)
    use_database(monkeypatch, tmp_path, app.settings.database_url)
    result = guidebot("audit", "export")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["action"], line["subject"]) for line in lines] == [("code_created", "K-1"), ("case_viewed", "K-1")]
    assert lines[0]["detail"] == {"program": "depression"} and lines[0]["at"].startswith("2025-11-26")

    rows = list(csv.DictReader(io.StringIO(guidebot("audit", "export", "--csv").output)))
    assert [row["action"] for row in rows] == ["code_created", "case_viewed", "audit_exported"]
    assert json.loads(rows[0]["detail"]) == {"program": "depression"}

    since = guidebot("audit", "export", "--json", "--since", (clock.now() - timedelta(days=1)).date().isoformat())
    actions = [json.loads(line)["action"] for line in since.output.splitlines()]
    assert actions == ["case_viewed", "audit_exported", "audit_exported"], "the line from 40 days ago is left out"

    with transaction(app.db) as session:
        exports = session.exec(select(AuditEntry).where(AuditEntry.action == "audit_exported")).all()
    assert [e.detail["lines"] for e in exports] == [2, 3, 3]


def test_bad_options_are_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> None:
    use_database(monkeypatch, tmp_path, sqlite_url)
    both = guidebot("audit", "export", "--json", "--csv")
    assert both.exit_code == 1 and both.output.strip() == "guidebot: choose one of --json and --csv"
    bad = guidebot("audit", "export", "--since", "yesterday")
    assert (
        bad.exit_code == 1 and bad.output.strip() == "guidebot: --since must be a date like 2026-01-31, not 'yesterday'"
    )
