"""`guidebot audit export`: the audit lines, oldest first, as JSON lines or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlmodel import Session, col, select

from bot.storage.models import AuditEntry

FIELDS = ("id", "at", "actor", "action", "subject", "detail")


def audit_lines(session: Session, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every audit line at or after `since`, read in chunks."""
    query = select(AuditEntry).order_by(col(AuditEntry.id)).execution_options(yield_per=1000)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    for entry in session.exec(query):
        yield {
            "id": entry.id,
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "subject": entry.subject,
            "detail": entry.detail,
        }


def write_json_lines(lines: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(lines: Iterator[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for line in lines:
        writer.writerow({**line, "detail": json.dumps(line["detail"], ensure_ascii=False)})
        count += 1
    return count
