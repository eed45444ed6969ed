"""Plots as inline SVG, drawn on the server: no script, no external asset,
readable in any browser and in a text-mode one (each plot carries a title
and a table of its numbers beside it in the page).

Every label goes through ``escape``: the names plotted (rules, reasons) come
from admin files, and nothing from outside is ever written raw into markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Final

#: Colours by outcome, and a cycle for the rest (readable on white, distinct in grey).
OUTCOME_COLOURS: Final[Mapping[str, str]] = {
    "replied": "#2f6f4f",
    "skipped": "#b07a1a",
    "failed": "#a03030",
    "pending": "#6b6b8a",
}
CYCLE: Final = ("#2f5f8f", "#8f4f2f", "#4f8f6f", "#7f3f7f", "#8f8f2f", "#3f7f8f")

WIDTH: Final = 640
ROW: Final = 22


def _svg(height: int, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}"'
        f' width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bars(title: str, counts: Mapping[str, float], *, unit: str = "") -> str:
    """Horizontal bars, one per key, largest first."""
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if not items:
        return _svg(ROW * 2, title, _empty())
    top = max(value for _, value in items) or 1
    label_width, span = 200, WIDTH - 200 - 80
    parts = []
    for row, (name, value) in enumerate(items):
        y = row * ROW + 4
        width = max(1, round(span * value / top))
        colour = OUTCOME_COLOURS.get(name, CYCLE[row % len(CYCLE)])
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{width}" height="{ROW - 6}"'
            f' fill="{colour}"><title>{escape(name)}: {_number(value)}{unit}</title></rect>'
            f'<text x="{label_width + width + 6}" y="{y + 14}">{_number(value)}{unit}</text>'
        )
    return _svg(len(items) * ROW + 8, title, "".join(parts))


def stacked(title: str, columns: Sequence[str], series: Mapping[str, Sequence[float]]) -> str:
    """Vertical stacked bars: one column per ``columns`` entry (a day, an hour),
    one colour per series (an outcome), with a legend."""
    height, bottom, left = 240, 200, 40
    if not columns:
        return _svg(ROW * 2, title, _empty())
    totals = [sum(values[i] for values in series.values()) for i in range(len(columns))]
    top = max(totals) or 1
    step = (WIDTH - left - 10) / len(columns)
    width = max(2.0, step * 0.8)
    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{bottom - 150}" text-anchor="end">{_number(top)}</text>',
    ]
    for index, column in enumerate(columns):
        x = left + index * step
        y = float(bottom)
        for number, (name, values) in enumerate(series.items()):
            value = values[index]
            if not value:
                continue
            h = 150 * value / top
            y -= h
            colour = OUTCOME_COLOURS.get(name, CYCLE[number % len(CYCLE)])
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}"'
                f' fill="{colour}"><title>{escape(column)} {escape(name)}:'
                f" {_number(value)}</title></rect>"
            )
        if len(columns) <= 14 or index % max(1, len(columns) // 7) == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{bottom + 16}" text-anchor="middle"'
                f' class="tick">{escape(column)}</text>'
            )
    legend_x = left
    for number, name in enumerate(series):
        colour = OUTCOME_COLOURS.get(name, CYCLE[number % len(CYCLE)])
        parts.append(
            f'<rect x="{legend_x}" y="{height - 16}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{height - 6}">{escape(name)}</text>'
        )
        legend_x += 30 + 8 * len(name)
    return _svg(height, title, "".join(parts))


def line(title: str, columns: Sequence[str], values: Sequence[float | None]) -> str:
    """A line over ``columns``, between 0 and 1 (a share); gaps where None."""
    height, bottom, left = 200, 170, 40
    if not columns:
        return _svg(ROW * 2, title, _empty())
    step = (WIDTH - left - 10) / max(1, len(columns) - 1)
    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#888"/>',
        f'<line x1="{left}" y1="{bottom - 150}" x2="{WIDTH - 10}" y2="{bottom - 150}"'
        ' stroke="#ddd"/>',
        f'<text x="{left - 4}" y="{bottom - 146}" text-anchor="end">100%</text>',
        f'<text x="{left - 4}" y="{bottom + 4}" text-anchor="end">0</text>',
    ]
    points = []
    for index, value in enumerate(values):
        if value is None:
            continue
        x, y = left + index * step, bottom - 150 * value
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#2f5f8f">'
            f"<title>{escape(columns[index])}: {value:.0%}</title></circle>"
        )
    if points:
        parts.insert(
            0,
            f'<polyline points="{" ".join(points)}" fill="none" stroke="#2f5f8f"'
            ' stroke-width="2"/>',
        )
    for index in (0, len(columns) - 1):
        parts.append(
            f'<text x="{left + index * step:.1f}" y="{bottom + 18}" text-anchor="middle"'
            f' class="tick">{escape(columns[index])}</text>'
        )
    return _svg(height, title, "".join(parts))


def _empty() -> str:
    return '<text x="10" y="28">nothing recorded yet</text>'


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
