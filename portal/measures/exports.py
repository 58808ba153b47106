"""Measures as CSV, safe to open in a spreadsheet: a cell starting with = + - @ (or a tab or
carriage return) is prefixed with a quote, so it is read as text and never as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from portal.measures.tables import Table, text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(tables: Iterable[Table], heading: list[str] | None = None) -> str:
    """Each table: its title, its columns, its rows (hidden cells read "fewer than 11")."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    if heading:
        writer.writerow([safe(h) for h in heading])
    for i, table in enumerate(tables):
        if i or heading:
            writer.writerow([])
        writer.writerow([safe(table.title)])
        writer.writerow([safe(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([safe(text(cell)) for cell in row])
    return out.getvalue()
