"""Trend charts as SVG markup, drawn on the server from plain values. Pure module.

No JavaScript and no style attributes (the CSP forbids inline styles): colours and fonts are
SVG presentation attributes. Every text is escaped. The letters can embed the same markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Light to dark: the first band is the mildest. Picked to stay readable in greyscale print.
BAND_FILLS = ["#e3f4e8", "#eef6d8", "#fff3dc", "#fde3cf", "#fbd3cf"]
LINE = "#1f5f7a"
INK = "#1c2733"
MUTED = "#566473"


@dataclass(frozen=True)
class Band:
    low: int  # lowest total in the band
    high: int  # highest total in the band
    label: str


@dataclass(frozen=True)
class Point:
    label: str  # shown under the axis, e.g. "11-02"
    value: int
    note: str = ""  # e.g. "baseline"; shown in the point's tooltip


def _fills(count: int) -> list[str]:
    if count == 1:
        return ["#eef2f6"]
    step = (len(BAND_FILLS) - 1) / (count - 1)
    return [BAND_FILLS[round(i * step)] for i in range(count)]


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def trend_svg(
    title: str,
    points: list[Point],
    *,
    max_total: int,
    bands: list[Band],
    width: int = 620,
    height: int = 260,
    for_print: bool = False,
) -> Markup:
    """A line of totals over time on top of the scale's severity bands. `for_print` (the
    letters): the title is not drawn (the letter prints it as the chart's caption) and the
    points carry no tooltip, since WeasyPrint lays SVG text out one character at a time."""
    # Room on the right for the longest band label (about 6.4 px a character at 11 px).
    longest = max((len(f"{b.label} ({b.low}-{b.high})") for b in bands), default=0)
    top = 14 if for_print else 30
    height -= 30 - top
    left, right, bottom = 36, 14 + round(6.4 * longest), 34
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(value: float) -> float:
        return round(top + plot_h * (1 - min(max(value, 0), max_total) / max_total), 1)

    def x(index: int) -> float:
        if len(points) == 1:
            return round(left + plot_w / 2, 1)
        return round(left + 12 + (plot_w - 24) * index / (len(points) - 1), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_t(title)}" '
        f'font-family="DejaVu Sans, sans-serif" font-size="11" class="trend-chart">',
        f"<title>{_t(title)}</title>",
    ]
    if not for_print:
        parts.append(
            f'<text x="{left}" y="16" font-size="13" font-weight="bold" fill="{INK}">'
            f"{_t(title)}</text>"
        )
    for band, fill in zip(bands, _fills(len(bands)), strict=True):
        upper = y(min(band.high + 1, max_total))
        lower = y(band.low)
        parts.append(
            f'<rect x="{left}" y="{upper}" width="{plot_w}" height="{round(lower - upper, 1)}" '
            f'fill="{fill}"/>'
        )
        middle = round((upper + lower) / 2 + 4, 1)
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{middle}" fill="{MUTED}">'
            f"{_t(band.label)} ({band.low}-{band.high})</text>"
        )
    for tick in sorted({b.low for b in bands} | {max_total}):
        parts.append(
            f'<text x="{left - 5}" y="{y(tick) + 4}" text-anchor="end" fill="{MUTED}">{tick}</text>'
        )
    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="#9aa7b4" stroke-width="1"/>'
    )
    if len(points) > 1:
        line = " ".join(f"{x(i)},{y(p.value)}" for i, p in enumerate(points))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    every = max(1, -(-len(points) // 10))  # at most about ten date labels
    for i, point in enumerate(points):
        tip = f"{point.label}: {point.value}" + (f" ({point.note})" if point.note else "")
        parts.append(
            f'<circle cx="{x(i)}" cy="{y(point.value)}" r="4.5" fill="{LINE}" stroke="#ffffff" '
            + (
                'stroke-width="1.5"/>'
                if for_print
                else f'stroke-width="1.5"><title>{_t(tip)}</title></circle>'
            )
        )
        parts.append(
            f'<text x="{x(i)}" y="{y(point.value) - 9}" text-anchor="middle" font-weight="bold" '
            f'fill="{INK}">{point.value}</text>'
        )
        if i % every == 0 or i == len(points) - 1:
            parts.append(
                f'<text x="{x(i)}" y="{height - bottom + 16}" text-anchor="middle" '
                f'fill="{MUTED}">{_t(point.label)}</text>'
            )
    if not points:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            f'fill="{MUTED}">No scores recorded yet</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
