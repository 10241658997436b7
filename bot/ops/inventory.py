"""`guidebot privacy inventory`: what is stored, where, why, for how long, and who receives it.

The tables and columns come from the code (SQLModel's metadata), the words from
docs/data-inventory.yaml. Whatever the code has and the file does not describe is listed
as undescribed, so the inventory cannot quietly drift from the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401 (registers the tables)
from bot.channels.telegram.inbox import KEEP_PROCESSED
from bot.config import Settings

INVENTORY_FILE = Path(__file__).resolve().parents[2] / "docs" / "data-inventory.yaml"
CLASSES = ("none", "pseudonymous", "identifier", "health", "secret")  # explained in the data file
TABLE_FIELDS = ("what", "why", "kept", "receives")
UNDESCRIBED = "(not described in docs/data-inventory.yaml)"


@dataclass
class Inventory:
    database: str
    tables: list[dict[str, Any]]
    elsewhere: list[dict[str, str]]
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "tables": self.tables,
            "elsewhere": self.elsewhere,
            "problems": self.problems,
        }


def settings_words(settings: Settings) -> dict[str, object]:

    return {
        "retention_days": settings.retention_days,
        "outbox_retention_days": settings.outbox_retention_days,
        "code_ttl_days": settings.code_ttl_days,
        "course_ttl_days": settings.course_ttl_days,
        "lockout_minutes": settings.lockout_minutes,
        "inbox_days": KEEP_PROCESSED.days,
    }


def build_inventory(settings: Settings, path: Path = INVENTORY_FILE) -> Inventory:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    words = settings_words(settings)
    described: dict[str, Any] = data.get("tables") or {}
    problems: list[str] = []
    tables = []
    for table in sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name):
        about = described.get(table.name) or {}
        if not about:
            problems.append(f"table {table.name} is not described")
        columns_about: dict[str, Any] = about.get("columns") or {}
        columns = []
        for column in table.columns:
            info = columns_about.get(column.name) or {}
            kind = info.get("class")
            if not info:
                problems.append(f"column {table.name}.{column.name} is not described")
            elif set(info) != {"class", "what"} or kind not in CLASSES or not info.get("what"):
                problems.append(f"column {table.name}.{column.name} needs a class and what, and nothing else")
            columns.append({"name": column.name, "class": kind or "?", "what": str(info.get("what") or UNDESCRIBED)})
        problems.extend(
            f"column {table.name}.{name} is described but does not exist"
            for name in columns_about
            if name not in table.columns
        )
        entry: dict[str, Any] = {"table": table.name}
        for name in TABLE_FIELDS:
            if about and not about.get(name):
                problems.append(f"table {table.name} has no '{name}'")
            entry[name] = _fill(about.get(name) or UNDESCRIBED, words)
        entry["columns"] = columns
        tables.append(entry)
    problems.extend(
        f"table {name} is described but does not exist" for name in described if name not in SQLModel.metadata.tables
    )
    elsewhere = [{key: _fill(value, words) for key, value in item.items()} for item in data.get("elsewhere") or []]
    return Inventory(_fill(data.get("database", ""), words), tables, elsewhere, problems)


def _fill(text: object, words: dict[str, object]) -> str:
    return " ".join(str(text).format_map(words).split())


def render_text(inventory: Inventory) -> str:
    lines = ["What guidebot stores, where, why, for how long, and who receives it.", "", inventory.database, ""]
    for table in inventory.tables:
        lines.append(f"== table {table['table']}: {table['what']}")
        for name in ("why", "kept", "receives"):
            lines.append(f"   {name}: {table[name]}")
        width = max(len(c["name"]) for c in table["columns"])
        lines.extend(f"   - {c['name']:<{width}}  [{c['class']}] {c['what']}" for c in table["columns"])
        lines.append("")
    lines.append("== outside the database")
    for item in inventory.elsewhere:
        lines.append(f"-- {item.get('where', '')}: {item.get('what', '')}")
        lines.extend(f"   {name}: {item[name]}" for name in ("why", "kept", "receives") if name in item)
    if inventory.problems:
        lines += ["", "Problems (the inventory is out of date with the code):", *(f"  {p}" for p in inventory.problems)]
    return "\n".join(lines)
