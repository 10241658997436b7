"""Charts as SVG, drawn on the server: no script, no image requests, readable by the page's own text.

Every element is a fixed template filled with `Markup.format`, which escapes what it
is given. Colours are presentation attributes, not style, so the strict
Content-Security-Policy holds. Each chart names itself (`<title>`, `<desc>`) for screen
readers; the page puts the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from bot.dialogs.model import Instrument

BAND_FILLS = ("#e8f5e9", "#fffde7", "#fff3e0", "#fbe9e7", "#ffebee")
LINE_COLOURS = {"phq9": "#0d47a1", "gad7": "#6a1b9a"}
RATE_COLOURS = ("#1b5e20", "#0d47a1", "#6a1b9a")
INK = "#222222"
FRAME = "#757575"
RULE = "#e0e0e0"

_OPEN = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
    'role="img" aria-labelledby="{id}-title {id}-desc" class="chart" id="{id}">'
    '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
)
_CLOSE = Markup("</svg>")
_TEXT = Markup(
    '<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" font-weight="{weight}" '
    'fill="{ink}">{words}</text>'
)
_VERTICAL_TEXT = Markup(
    '<text x="{x:.1f}" y="{y:.1f}" transform="rotate(-90 {x:.1f} {y:.1f})" text-anchor="middle" '
    'font-size="11" fill="{ink}">{words}</text>'
)
_RECT = Markup('<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{fill}"/>')
_FRAME = Markup(
    '<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="none" stroke="{stroke}"/>'
)
_LINE = Markup('<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"/>')
_POLYLINE = Markup('<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="3"/>')
_DOT = Markup('<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}"/>')
_GROUP = Markup('<g class="panel" data-instrument="{name}">')
_GROUP_END = Markup("</g>")


def _text(x: float, y: float, words: str, *, anchor: str = "start", size: int = 12, weight: str = "normal") -> Markup:
    return _TEXT.format(x=x, y=y, anchor=anchor, size=size, weight=weight, ink=INK, words=words)


def _open(chart_id: str, width: float, height: float, texts: Mapping[str, str]) -> Markup:
    return _OPEN.format(id=chart_id, width=round(width), height=round(height), title=texts["title"], desc=texts["desc"])


@dataclass(frozen=True)
class Panel:
    """One instrument's totals by week, with its bands' labels in the reader's language."""

    instrument: Instrument
    points: Sequence[tuple[int, int]]
    band_labels: Sequence[str]


@dataclass(frozen=True)
class Frame:
    """Where a panel is drawn, and how wide one week is."""

    left: float
    top: float
    width: float
    height: float
    step: float


def score_chart(
    panels: Sequence[Panel], last_week: int, texts: Mapping[str, str], *, chart_id: str = "score-chart"
) -> Markup:
    """Totals by week, one panel per instrument, over its severity bands.

    `texts` has "title", "desc" (the whole chart in words), "week" and "total".
    """
    width, left, right, top, panel_height, gap = 760, 56, 220, 34, 170, 58
    plot_width = width - left - right
    height = top + len(panels) * (panel_height + gap)
    step = plot_width / max(last_week, 1)
    parts = [_open(chart_id, width, height, texts)]
    for index, panel in enumerate(panels):
        frame = Frame(left, top + index * (panel_height + gap), plot_width, panel_height, step)
        parts.extend(_panel(panel, last_week, texts, frame))
    parts.append(_CLOSE)
    return Markup("").join(parts)


def _panel(panel: Panel, last_week: int, texts: Mapping[str, str], frame: Frame) -> list[Markup]:
    instrument = panel.instrument
    highest = instrument.max_total
    left, top, width, height = frame.left, frame.top, frame.width, frame.height

    def y(total: float) -> float:
        return top + height - (total / highest) * height

    def x(week: int) -> float:
        return left + (week - 0.5) * frame.step

    parts = [_GROUP.format(name=instrument.id), _text(left, top - 10, instrument.name, size=14, weight="bold")]
    low = 0
    for band, fill, label in zip(instrument.bands, BAND_FILLS, panel.band_labels, strict=False):
        upper = min(band.max + 1, highest)
        parts.append(_RECT.format(x=left, y=y(upper), width=width, height=y(low) - y(upper), fill=fill))
        parts.append(_text(left + width + 8, (y(low) + y(upper)) / 2 + 4, f"{low}–{band.max} {label}", size=11))
        low = band.max + 1
    parts.append(_FRAME.format(x=left, y=top, width=width, height=height, stroke=FRAME))
    for tick in range(0, highest + 1, 5):
        parts.append(_text(left - 8, y(tick) + 4, str(tick), anchor="end", size=11))
    for week in range(1, last_week + 1):
        parts.append(_text(x(week), top + height + 16, str(week), anchor="middle", size=11))
    parts.append(_text(left + width / 2, top + height + 34, texts["week"], anchor="middle", size=11))
    parts.append(_VERTICAL_TEXT.format(x=14, y=top + height / 2, ink=INK, words=texts["total"]))
    colour = LINE_COLOURS.get(instrument.id, INK)
    if len(panel.points) > 1:
        points = " ".join(f"{x(week):.1f},{y(total):.1f}" for week, total in panel.points)
        parts.append(_POLYLINE.format(points=points, stroke=colour))
    for week, total in panel.points:
        parts.append(_DOT.format(x=x(week), y=y(total), fill=colour))
        parts.append(_text(x(week), y(total) - 10, str(total), anchor="middle", size=12, weight="bold"))
    parts.append(_GROUP_END)
    return parts


@dataclass(frozen=True)
class Bars:
    """One group of bars: its name and one value (0..1, or None when there is no figure) per series."""

    name: str
    values: Sequence[float | None]


def rate_chart(
    groups: Sequence[Bars],
    series: Sequence[str],
    texts: Mapping[str, str],
    percent: Callable[[int], str],
    *,
    chart_id: str,
) -> Markup:
    """Rates as grouped bars, with a legend; `texts` has "title", "desc" and "none", `percent` writes 45 as "45 %"."""
    left, top, plot_height, bottom, bar, pitch, legend = 64, 24 + 24 * len(series), 240, 48, 36, 46, 24
    group_width = 56 + pitch * len(series)
    width = left + max(len(groups), 1) * group_width + 24
    height = top + plot_height + bottom

    def y(rate: float) -> float:
        return top + plot_height - rate * plot_height

    parts = [_open(chart_id, width, height, texts)]
    for index, (name, colour) in enumerate(zip(series, RATE_COLOURS, strict=False)):
        parts.append(_RECT.format(x=left, y=6 + legend * index, width=14, height=14, fill=colour))
        parts.append(_text(left + 22, 18 + legend * index, name, size=14))
    for tick in range(0, 101, 20):
        level = y(tick / 100)
        parts.append(_LINE.format(x1=left, x2=width - 12, y=level, stroke=RULE))
        parts.append(_text(left - 8, level + 4, percent(tick), anchor="end", size=12))
    for index, group in enumerate(groups):
        x0 = left + index * group_width + 28
        for offset, (value, colour) in enumerate(zip(group.values, RATE_COLOURS, strict=False)):
            bar_x = x0 + offset * pitch
            if value is None:
                parts.append(_text(bar_x + bar / 2, y(0) - 6, texts["none"], anchor="middle", size=13))
                continue
            parts.append(_RECT.format(x=bar_x, y=y(value), width=bar, height=y(0) - y(value), fill=colour))
            parts.append(_text(bar_x + bar / 2, y(value) - 6, percent(round(value * 100)), anchor="middle", size=13))
        middle = x0 + (pitch * len(series) - (pitch - bar)) / 2
        parts.append(_text(middle, top + plot_height + 24, group.name, anchor="middle", size=14))
    parts.append(_CLOSE)
    return Markup("").join(parts)
