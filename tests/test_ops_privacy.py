"""`guidebot privacy inventory`: every table and column the code stores is described, and the drift is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from bot.ops.inventory import INVENTORY_FILE, build_inventory
from tests.support.cli import guidebot, use_database
from tests.support.settings import make_settings


def test_the_inventory_describes_every_table_and_column_the_code_has(tmp_path: Path) -> None:
    inventory = build_inventory(make_settings(f"sqlite:///{tmp_path}/g.db"))
    assert inventory.problems == []
    listed = {(t["table"], c["name"]) for t in inventory.tables for c in t["columns"]}
    in_code = {(table.name, column.name) for table in SQLModel.metadata.sorted_tables for column in table.columns}
    assert listed == in_code


def test_a_column_the_file_does_not_know_is_reported(tmp_path: Path) -> None:
    text = INVENTORY_FILE.read_text(encoding="utf-8")
    behind = tmp_path / "inventory.yaml"
    behind.write_text(
        text.replace(
            "      checkin_time: {class: pseudonymous, what: the time of day the participant chose}\n", ""
        ).replace("      anonymised_at:", "      anonymized_at:"),
        encoding="utf-8",
    )
    inventory = build_inventory(make_settings(f"sqlite:///{tmp_path}/g.db"), behind)
    assert inventory.problems == [
        "column course.checkin_time is not described",
        "column course.anonymised_at is not described",
        "column course.anonymized_at is described but does not exist",
    ]


def test_the_command_prints_the_settings_in_force_and_telegram(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str
) -> None:
    use_database(monkeypatch, tmp_path, sqlite_url)
    monkeypatch.setenv("GUIDEBOT_OUTBOX_RETENTION_DAYS", "14")
    result = guidebot("privacy", "inventory")
    assert result.exit_code == 0, result.output
    assert "== table outbox:" in result.output and "14 days after the message was made" in result.output
    assert "Telegram (Telegram Messenger Inc." in result.output
    assert "chat_id" in result.output and "[health]" in result.output

    as_json = json.loads(guidebot("privacy", "inventory", "--json").output)
    outbox = next(t for t in as_json["tables"] if t["table"] == "outbox")
    assert {"what", "why", "kept", "receives", "columns"} <= set(outbox)
    assert {"name": "payload", "class": "health"}.items() <= next(
        c for c in outbox["columns"] if c["name"] == "payload"
    ).items()
    assert any(e["where"].startswith("Telegram") for e in as_json["elsewhere"])
