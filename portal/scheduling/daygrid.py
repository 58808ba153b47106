"""The day view's grid: chairs across, times down, each visit one cell spanning its rows, so
the page reads as a schedule without JavaScript. Pure: built from rows already loaded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

ROW_MINUTES = 15


@dataclass
class Cell:
    row: Any = None  # a DayRow, or None for a free quarter-hour
    span: int = 1


@dataclass
class GridRow:
    at: time
    cells: list[Cell | None] = field(default_factory=list)  # None: covered by a cell above

    @property
    def on_the_hour(self) -> bool:
        return self.at.minute == 0


def build_grid(
    day: date, hours: tuple[time, time] | None, chairs: Sequence[tuple[int, str]], rows
) -> list[GridRow]:
    """Quarter-hour rows from opening (or the first visit) to closing (or the last visit end);
    one column per chair. Only visits that hold a chair are drawn."""
    holding = [r for r in rows if r.appointment.holds_chair]
    opens, closes = hours or (time(8), time(17))
    if holding:
        opens = min(opens, min(r.appointment.start_time for r in holding))
        closes = max(closes, max(r.appointment.end_time for r in holding))
    first = _floor(datetime.combine(day, opens))
    last = datetime.combine(day, closes)
    times = []
    moment = first
    while moment < last:
        times.append(moment)
        moment += timedelta(minutes=ROW_MINUTES)
    column = {chair_id: i for i, (chair_id, _name) in enumerate(chairs)}
    grid = [GridRow(t.time(), [Cell() for _ in chairs]) for t in times]
    index = {t: i for i, t in enumerate(times)}
    for r in sorted(holding, key=lambda r: r.appointment.start_time):
        a = r.appointment
        col = column.get(a.chair_id)
        start = index.get(_floor(a.starts_at))
        if col is None or start is None:
            continue
        span = max(
            1, -(-int((a.ends_at - _floor(a.starts_at)).total_seconds()) // (60 * ROW_MINUTES))
        )
        span = min(span, len(times) - start)
        if grid[start].cells[col] is None:
            continue  # overlapping data: never drawn over (the constraint forbids it)
        grid[start].cells[col] = Cell(r, span)
        for below in range(start + 1, start + span):
            grid[below].cells[col] = None
    return grid


def _floor(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % ROW_MINUTES, second=0)
