"""PNG charts of PHQ-9 and GAD-7 totals by week, with the bands shaded.

matplotlib is imported when a chart is first drawn, never at start-up: it takes
over a second to import (tests/test_caseload_scale.py holds this).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from bot.dialogs.model import DialogSet

_BAND_COLOURS = ("#e8f5e9", "#fffde7", "#fff3e0", "#fbe9e7", "#ffebee")
_LINE_COLOURS = {"phq9": "#1565c0", "gad7": "#6a1b9a"}


def score_chart(
    dialogs: DialogSet, scores: Mapping[str, Mapping[int, int | None]], locale: str, texts: Mapping[str, str]
) -> bytes | None:
    """One panel per instrument; None when there is nothing to draw."""
    series = {
        name: sorted((week, total) for week, total in by_week.items() if total is not None)
        for name, by_week in scores.items()
        if name in dialogs.instruments and dialogs.instruments[name].full  # never PHQ-2 or GAD-2
    }
    series = {name: points for name, points in series.items() if points}
    if not series:
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 2.6 * len(series)), dpi=100)
    axes_list = figure.subplots(len(series), 1, squeeze=False)[:, 0]
    weeks = range(1, dialogs.schedule.last_week + 1)
    for axes, (name, points) in zip(axes_list, series.items(), strict=True):
        instrument = dialogs.instruments[name]
        low = 0
        for band, colour in zip(instrument.bands, _BAND_COLOURS, strict=False):
            axes.axhspan(low - 0.5, band.max + 0.5, color=colour, zorder=0)
            axes.text(
                weeks[-1] + 0.65,
                (low + band.max) / 2,
                band.label[locale],
                va="center",
                ha="left",
                fontsize=7,
                color="#555555",
            )
            low = band.max + 1
        xs = [w for w, _ in points]
        ys = [t for _, t in points]
        axes.plot(xs, ys, marker="o", color=_LINE_COLOURS.get(name, "#333333"), linewidth=2, zorder=2)
        for x, y in points:
            axes.annotate(str(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        axes.set_title(instrument.name, fontsize=10, loc="left")
        axes.set_xlim(0.5, weeks[-1] + 2.6)
        axes.set_ylim(-0.5, instrument.max_total + 0.5)
        axes.set_xticks(list(weeks))
        axes.set_xlabel(texts["week"], fontsize=8)
        axes.set_ylabel(texts["total"], fontsize=8)
    figure.suptitle(texts["title"], fontsize=11)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
