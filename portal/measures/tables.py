"""A measures table as plain values: what the page shows, the CSV exports and the PDF reads."""

from __future__ import annotations

from dataclasses import dataclass, field

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
