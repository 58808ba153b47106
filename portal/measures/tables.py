"""A measures table as plain values: what the page shows, the CSV exports and the PDF reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from portal.measures import bp
from portal.measures.suppression import Cell


@dataclass(frozen=True)
class Table:
    key: str  # the CSV's name: /measures/export/<key>.csv
    title: str
    columns: list[str]
    rows: list[list[Cell | str]]
    note: str = ""
    more: int = 0  # rows left off the page (the CSV has them all)
    extra: dict = field(default_factory=dict)

    def cell(self, row: int, column: int) -> Cell | str:
        return self.rows[row][column]


def text(value: Cell | str) -> str:
    return value.text if isinstance(value, Cell) else str(value)


@bp.app_template_global("measure_rows")
def body_rows(table: Table, links: list[str] | None = None) -> Markup:
    """The rows of a table's <tbody> (templates/measures/_table.html): the first cell of each
    a row header (a link when `links` has one per row), figures right-aligned, the hidden ones
    marked. Written here rather than in the template: a page at 100,000 referrals has
    thousands of cells, and the template's loop over them cost some 20 ms of CPU a page."""
    if not table.rows:
        empty = f'<td colspan="{len(table.columns)}" class="subtle">None in this range.</td>'
        return Markup(f"\n  <tr>{empty}</tr>\n  ")  # noqa: S704 - a number, no text
    parts = []
    for r, row in enumerate(table.rows):
        parts.append("\n  <tr>")
        for i, cell in enumerate(row):
            if i == 0:
                label = escape(cell)
                if links:
                    label = f'<a href="{escape(links[r])}">{label}</a>'
                parts.append(f'<th scope="row">{label}</th>')
            elif isinstance(cell, Cell):
                hidden = " hidden-cell" if cell.hidden else ""
                parts.append(f'<td class="num{hidden}">{escape(cell)}</td>')
            else:
                parts.append(f"<td>{escape(cell)}</td>")
        parts.append("</tr>\n  ")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
