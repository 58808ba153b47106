"""Small numbers are not shown (public-health practice): a cell describing fewer than 11
patients reads "fewer than 11", and so does any cell that would let a reader work a hidden one
back out from a total (complementary suppression). Pure module.

A count of 0 is hidden too: "none of this practice's patients remitted" says something about
every one of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 11
HIDDEN = "fewer than 11"


@dataclass(frozen=True)
class Cell:
    """One figure as shown: `value` None and not hidden means there was nothing to measure."""

    value: float | None
    hidden: bool = False
    unit: str = ""  # "", "%", " days", " business days"
    digits: int = 0

    @property
    def text(self) -> str:
        if self.hidden:
            return HIDDEN
        if self.value is None:
            return "none"
        number = f"{self.value:.{self.digits}f}" if self.digits else f"{round(self.value)}"
        return f"{number}{self.unit}"

    def __str__(self) -> str:
        return self.text


def small(count: int | None) -> bool:
    return count is None or count < THRESHOLD


def count_cell(count: int) -> Cell:
    return Cell(count, hidden=small(count))


def share_cells(part: int, whole: int) -> tuple[Cell, Cell]:
    """`part` of `whole` as a count and a percent. Hidden when the part, the whole or the
    rest (whole - part, which the two shown would give away) is under the threshold."""
    hidden = small(part) or small(whole) or small(whole - part)
    percent = 100.0 * part / whole if whole else None
    return Cell(part, hidden), Cell(percent, hidden, "%")


def statistic_cell(value: float | None, patients: int, unit: str = "", digits: int = 1) -> Cell:
    """A median, percentile or rate: hidden when it describes fewer than 11 patients."""
    if value is None and patients == 0:
        return Cell(None, hidden=True, unit=unit, digits=digits)
    return Cell(value, hidden=small(patients), unit=unit, digits=digits)


def chain_cells(counts: Sequence[int]) -> list[Cell]:
    """Counts of a funnel, each step part of the one before: a step is hidden when it is small,
    or when the drop from the last step shown is small (it would count those lost)."""
    cells, shown = [], None
    for count in counts:
        hidden = small(count) or (shown is not None and small(shown - count))
        cells.append(Cell(count, hidden))
        if not hidden:
            shown = count
    return cells


def table_cells(rows: Sequence[Sequence[int]]) -> list[list[Cell]]:
    """A table of counts with a total column and a total row added (the last row and column
    of the result). Small cells are hidden; then while a row or column (with its total) has
    exactly one hidden cell, the smallest other cell of it is hidden as well."""
    width = len(rows[0]) if rows else 0
    matrix = [[*row, sum(row)] for row in rows]
    matrix.append([sum(row[j] for row in matrix) for j in range(width + 1)])
    hidden = {(i, j) for i, row in enumerate(matrix) for j, v in enumerate(row) if small(v)}
    lines = [[(i, j) for j in range(width + 1)] for i in range(len(matrix))]
    lines += [[(i, j) for i in range(len(matrix))] for j in range(width + 1)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for cell in line if cell in hidden) != 1:
                continue
            visible = [cell for cell in line if cell not in hidden]
            if not visible:
                continue
            # Hide a part before the total, the smallest first.
            visible.sort(key=lambda c: (c == line[-1], matrix[c[0]][c[1]]))
            hidden.add(visible[0])
            changed = True
    return [[Cell(v, (i, j) in hidden) for j, v in enumerate(row)] for i, row in enumerate(matrix)]
