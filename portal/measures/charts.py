"""Bar charts of the measures as SVG markup, drawn on the server (no script, no style
attribute: the Content-Security-Policy holds). Pure: the same values give the same bytes.

Each chart has a title and a description (aria-labelledby), and the page puts the table the
chart is drawn from beside it. A hidden cell ("fewer than 11") draws no bar, only its words."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from portal.measures.suppression import Cell
from portal.treatment.chart import INK, LINE, MUTED

GRID = "#d5dde5"


@dataclass(frozen=True)
class Bar:
    label: str
    cell: Cell


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _nice_max(values: list[float]) -> float:
    top = max(values, default=0) or 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 5:
            return step * 5 if top > step * 4 else step * (int(top // step) + 1)
    return top


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: list[Bar],
    *,
    percent: bool = False,
    width: int = 620,
) -> Markup:
    """Horizontal bars, one a row, each with its value written at its end."""
    label_w = min(260, 14 + round(6.6 * max((len(b.label) for b in bars), default=4)))
    left, right, top, row_h = label_w, 110, 34, 24
    height = top + row_h * max(len(bars), 1) + 28
    plot_w = width - left - right
    shown = [float(b.cell.value) for b in bars if not b.cell.hidden and b.cell.value is not None]
    scale_max = 100.0 if percent else _nice_max(shown)

    def x(value: float) -> float:
        return round(left + plot_w * min(value, scale_max) / scale_max, 1)

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="DejaVu Sans, sans-serif" font-size="11" class="measure-chart">',
        f'<title id="{title_id}">{_t(title)}</title>',
        f'<desc id="{desc_id}">{_t(description)}</desc>',
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="{INK}">{_t(title)}</text>',
    ]
    for tick in range(5):
        value = scale_max * tick / 4
        parts.append(
            f'<line x1="{x(value)}" y1="{top - 4}" x2="{x(value)}" '
            f'y2="{top + row_h * len(bars)}" stroke="{GRID}" stroke-width="1"/>'
        )
        label = f"{value:g}%" if percent else f"{value:g}"
        parts.append(
            f'<text x="{x(value)}" y="{height - 10}" text-anchor="middle" fill="{MUTED}">'
            f"{_t(label)}</text>"
        )
    for i, bar in enumerate(bars):
        y = top + row_h * i
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="{INK}">'
            f"{_t(bar.label[:40])}</text>"
        )
        cell = bar.cell
        if cell.hidden or cell.value is None:
            parts.append(
                f'<text x="{left + 4}" y="{y + 15}" fill="{MUTED}" font-style="italic">'
                f"{_t(cell.text)}</text>"
            )
            continue
        end = x(float(cell.value))
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{round(end - left, 1)}" height="{row_h - 8}" '
            f'fill="{LINE}"/>'
        )
        parts.append(f'<text x="{end + 5}" y="{y + 15}" fill="{INK}">{_t(cell.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
