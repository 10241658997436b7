"""The outcome report as a PNG: recovery and reliable change rates per program (matplotlib imported when drawn)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.clinicians.report import ReportWords

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RATES = (
    ("recovery_rate", "recovery", "#2e7d32"),
    ("reliable_improvement_rate", "reliable_improvement", "#1565c0"),
    ("reliable_recovery_rate", "reliable_recovery", "#6a1b9a"),
)


def report_chart(rows: Sequence[dict[str, Any]], words: ReportWords) -> bytes:
    buffer = io.BytesIO()
    report_figure(rows, words).savefig(buffer, format="png")
    return buffer.getvalue()


def report_figure(rows: Sequence[dict[str, Any]], words: ReportWords) -> Figure:
    """Three bars per program; every label from the texts `clinician.report.chart.*`."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(6.0, 1.6 * len(rows) + 2), 4), dpi=100)
    axes = figure.subplots()
    width = 0.8 / len(RATES)
    for index, (key, name, colour) in enumerate(RATES):
        xs = [position + (index - 1) * width for position in range(len(rows))]
        heights = [100 * (row[key] or 0) for row in rows]
        bars = axes.bar(xs, heights, width, label=words(f"chart.{name}"), color=colour)
        labels = [f"{h:.0f}%" if row[key] is not None else "–" for h, row in zip(heights, rows, strict=True)]
        axes.bar_label(bars, labels=labels, fontsize=7, padding=2)
    axes.set_xticks(range(len(rows)))
    axes.set_xticklabels(
        [f"{words.program(row['program'])}\n(n={row['finished_treatment']})" for row in rows], fontsize=8
    )
    axes.set_ylim(0, 125)
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel(words("chart.rate"))
    axes.set_title(words("chart.title"), fontsize=10)
    axes.legend(fontsize=8, loc="upper center", ncol=len(RATES), frameon=False)
    figure.tight_layout()
    return figure
