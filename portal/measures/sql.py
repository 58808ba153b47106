"""SQL pieces the measures share, written once for SQLite and PostgreSQL: a stored moment's
day on the clinic's calendar as a day number, business days between two day numbers, and the
median and 90th percentile read with window functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, Integer, and_, case, cast, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

EPOCH = date(1970, 1, 1)  # a Thursday: day number 0
DAY_SECONDS = 86400


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=number)


def number_of(day: date) -> int:
    return (day - EPOCH).days


class Calendar:
    """Turns stored values into day numbers of the clinic's calendar, for one dialect."""

    def __init__(self, dialect: str, zone: ZoneInfo, span: tuple[date, date]) -> None:
        self.dialect, self.zone = dialect, zone
        # SQLite knows no time zones: the clinic's UTC offsets over the span (and a year
        # around it) become one CASE on the stored moment, exact across daylight-saving changes.
        self._initial, self._changes = (0, []) if dialect == "postgresql" else _offsets(zone, *span)

    def moment_day(self, column) -> ColumnElement[int]:
        """The clinic's calendar day (a day number) of a UTC timestamp column."""
        if self.dialect == "postgresql":
            local = cast(func.timezone(self.zone.key, column), Date)
            return local - cast(literal(EPOCH.isoformat()), Date)
        seconds = cast(func.strftime("%s", column), Integer)
        if not self._changes:
            return (seconds + self._initial) // DAY_SECONDS
        before = [self._initial] + [after for _, after in self._changes]
        offset = case(
            *[(column < moment, before[i]) for i, (moment, _) in enumerate(self._changes)],
            else_=before[-1],
        )
        return (seconds + offset) // DAY_SECONDS

    def date_day(self, column) -> ColumnElement[int]:
        """The day number of a DATE column."""
        if self.dialect == "postgresql":
            return column - cast(literal(EPOCH.isoformat()), Date)
        return cast(func.strftime("%s", column), Integer) // DAY_SECONDS


def _offsets(zone: ZoneInfo, start: date, end: date) -> tuple[int, list[tuple[datetime, int]]]:
    """The zone's UTC offset (seconds) 400 days before `start`, and each change until 400 days
    after `end`: (the first UTC moment of the new offset, the new offset)."""
    first = datetime.combine(start - timedelta(days=400), datetime.min.time(), tzinfo=UTC)
    last = datetime.combine(end + timedelta(days=400), datetime.min.time(), tzinfo=UTC)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    changes: list[tuple[datetime, int]] = []
    day = first
    while day < last:
        following = day + timedelta(days=1)
        if offset(following) != offset(day):
            moment = day
            while offset(moment) == offset(day):
                moment += timedelta(minutes=15)
            changes.append((moment, offset(moment)))
        day = following
    return offset(first), changes


def plan_for_measures(session) -> None:
    """PostgreSQL, for the rest of the transaction: no JIT compilation (the measures' plans over
    common table expressions are estimated far above their real size, which makes PostgreSQL
    spend seconds compiling them for a query that runs in milliseconds), and no parallel
    workers (over a year or more, the sessions' sums were split over workers that each sorted
    on disk: more CPU in all than one process hashing them, and no faster on a busy machine)."""
    if session.get_bind().dialect.name == "postgresql":
        # SET LOCAL, both in one statement.
        session.execute(
            text(
                "SELECT set_config('jit', 'off', true),"
                " set_config('max_parallel_workers_per_gather', '0', true)"
            )
        )


def weekday(day_number) -> ColumnElement[int]:
    """0 Monday ... 6 Sunday (day 0, 1 January 1970, was a Thursday)."""
    return (day_number + 3) % 7


def _weekdays_through(day_number) -> ColumnElement[int]:
    """Monday to Friday days from Monday 29 December 1969 up to and including the day."""
    since_monday = day_number + 3
    rest = since_monday % 7
    return (since_monday // 7) * 5 + case((rest > 4, 4), else_=rest) + 1


def business_days(from_day, to_day) -> ColumnElement[int]:
    """Business days after `from_day` up to and including `to_day` (portal/triage/sla.py's
    count: a referral sent on Friday and decided on Tuesday took 2)."""
    return _weekdays_through(to_day) - _weekdays_through(from_day)


def within_service_level(from_day, to_day, level) -> ColumnElement[bool]:
    """`to_day` is on or before the last day the service level allows (triage/sla.due_on):
    fewer business days than the level, or exactly as many and `to_day` a business day."""
    days = business_days(from_day, to_day)
    return or_(days < level, and_(days == level, weekday(to_day) < 5))


def percentiles(rows, *group_columns: str):
    """From a subquery of (*group_columns, value): per group the count, the median (the mean of
    the two middle values when the count is even) and the 90th percentile (nearest rank: the
    smallest value at least 90% of values are at or below).

    The values (days) are few and repeat: each group's values are counted first, then a running
    count over those few rows (a window function) says which value holds each rank, so nothing
    sorts the rows themselves."""
    groups = [rows.c[name] for name in group_columns]
    counted = (
        select(*groups, rows.c.value, func.count().label("c"))
        .group_by(*groups, rows.c.value)
        .subquery("counted")
    )
    keys = [counted.c[name] for name in group_columns]
    running = select(
        *keys,
        counted.c.value,
        counted.c.c,
        cast(
            func.sum(counted.c.c).over(partition_by=keys, order_by=counted.c.value), Integer
        ).label("upto"),
        cast(func.sum(counted.c.c).over(partition_by=keys), Integer).label("n"),
    ).subquery("running")
    r = running.c

    def at(rank):
        """The value holding `rank` (1 = the smallest) in its group."""
        return func.max(case(((r.upto - r.c < rank) & (r.upto >= rank), r.value)))

    low, high = at((r.n + 1) // 2), at((r.n + 2) // 2)
    return select(
        *[r[name] for name in group_columns],
        func.max(r.n).label("n"),
        (cast(low + high, Float) / 2).label("median"),
        at((r.n * 9 + 9) // 10).label("p90"),
    ).group_by(*[r[name] for name in group_columns])
