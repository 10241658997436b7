"""The outcome report as a text table, with its headings in the reader's locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.clinicians.report import ALL, INSTRUMENTS, ReportWords, is_clinician_row

COLUMNS = ("started", "completed", "dropped", "finished", "in_progress")
RATES = ("recovery", "reliable_improvement", "reliable_recovery")


def report_table(rows: list[dict[str, Any]], words: ReportWords, since: str | None) -> str:
    """One line per program (by the id `--program` takes), then all programs together; then,
    when the rows have them, one line per owning clinician under a heading of its own."""
    programs = [row for row in rows if not is_clinician_row(row)]
    owners = [row for row in rows if is_clinician_row(row)]
    out = _table(programs, words, words("column.program"), lambda row: _program_cell(words, row))
    if owners:
        out += ["", words("by_clinician")]
        out += _table(owners, words, words("column.clinician"), lambda row: row["clinician"] or words("no_owner"))
    scope = words("scope_since", since=since) if since else words("scope_all")
    out.append("")
    out.append(f"{scope} {words('footnote')}")
    return "\n".join(out)


def _program_cell(words: ReportWords, row: dict[str, Any]) -> str:
    return str(words("all_programs") if row["program"] == ALL else row["program"])


def _table(
    rows: list[dict[str, Any]], words: ReportWords, first: str, name: Callable[[dict[str, Any]], str]
) -> list[str]:
    changes = [words("column.change", instrument=_name(words, name)) for name in INSTRUMENTS]
    header = (
        first,
        *(words(f"column.{name}") for name in COLUMNS),
        *changes,
        *(words(f"column.{name}") for name in RATES),
        words("column.ack_median"),
    )
    lines = [header]
    for row in rows:
        minutes = row["median_minutes_to_acknowledge"]
        lines.append(
            (
                name(row),
                str(row["started"]),
                str(row["completed"]),
                str(row["dropped_out"]),
                str(row["finished_treatment"]),
                str(row["in_progress"]),
                _signed(row["phq9_mean_change"]),
                _signed(row["gad7_mean_change"]),
                _percent(row["recovered"], row["at_caseness"], row["recovery_rate"]),
                _percent(row["reliably_improved"], row["paired_scores"], row["reliable_improvement_rate"]),
                _percent(row["reliably_recovered"], row["at_caseness"], row["reliable_recovery_rate"]),
                f"{words('minutes', minutes=f'{minutes:.0f}') if minutes is not None else '-'} "
                f"({row['urgent_acknowledged']}/{row['urgent_alerts']})",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines]


def _name(words: ReportWords, instrument: str) -> str:
    found = words.dialogs.instruments.get(instrument)
    return found.name if found is not None else instrument


def _percent(part: int, whole: int, rate: float | None) -> str:
    return f"{rate:.0%} ({part}/{whole})" if rate is not None else "-"


def _signed(value: float | None) -> str:
    return f"{value:+.1f}" if value is not None else "-"
