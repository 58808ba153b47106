"""Proposing the appointments of a series from a protocol and a start date. Pure: no database.

A protocol is a list of phases. A phase lasts `weeks` weeks with `per_week` sessions in the
first week of every `every` weeks (monthly maintenance: weeks=12, per_week=1, every=4).
Weeks are counted in 7-day blocks from the start date. Within a block, the protocol's preferred
weekdays come first (or, without a preference, days spread evenly over the block); a day that
is not a treatment day, is closed, or has every chair booked is skipped and the reason shown.
A session that finds no room in its week goes to the first free day after it, also shown.
Nothing is ever placed on a full day. Each visit gets its slot (time and chair, see
portal.scheduling.slots) and a few alternative times that day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from portal.errors import Invalid
from portal.scheduling.slots import WEEKDAY_NAMES, ClinicCalendar, Slot

MAX_SESSIONS = 60
SEARCH_DAYS = 28  # how far past its week a session that found no room may go
__all__ = ["WEEKDAY_NAMES", "ClinicCalendar", "ProposedVisit", "parse_phases", "propose"]


@dataclass(frozen=True)
class Phase:
    weeks: int
    per_week: int
    every: int = 1

    def as_dict(self) -> dict[str, int]:
        return {"weeks": self.weeks, "per_week": self.per_week, "every": self.every}

    def describe(self) -> str:
        span = f"{self.weeks} week{'s' if self.weeks != 1 else ''}"
        if self.every == 1:
            return f"{span}: {self.per_week} a week"
        return f"{span}: {self.per_week} every {self.every} weeks"


@dataclass(frozen=True)
class ProposedVisit:
    number: int
    week: int  # 1-based week of the protocol the visit belongs to
    day: date | None  # None: no free day found; the coordinator adds it by hand
    note: str = ""
    slot: Slot | None = None  # the time and chair found on `day`
    alternatives: list[Slot] = field(default_factory=list)  # other free times that day


def parse_phases(raw: Iterable[Mapping[str, Any]]) -> list[Phase]:
    """Validate stored or typed phases; Invalid (field "phases") says what is wrong."""
    phases = []
    for number, item in enumerate(raw, start=1):
        try:
            phase = Phase(int(item["weeks"]), int(item["per_week"]), int(item.get("every", 1)))
        except (KeyError, TypeError, ValueError) as error:
            raise Invalid(
                f"Phase {number}: weeks and sessions per week are numbers.", field="phases"
            ) from error
        if not 1 <= phase.weeks <= 52:
            raise Invalid(f"Phase {number}: between 1 and 52 weeks.", field="phases")
        if not 1 <= phase.per_week <= 7:
            raise Invalid(f"Phase {number}: between 1 and 7 sessions a week.", field="phases")
        if not 1 <= phase.every <= 12:
            raise Invalid(f"Phase {number}: 'every' is between 1 and 12 weeks.", field="phases")
        phases.append(phase)
    if not phases:
        raise Invalid("A protocol needs at least one phase.", field="phases")
    if session_count(phases) > MAX_SESSIONS:
        raise Invalid(f"At most {MAX_SESSIONS} sessions in one series.", field="phases")
    return phases


def session_weeks(phases: Iterable[Phase]) -> list[tuple[int, int]]:
    """(week index from 0, sessions that week) for every week that has sessions."""
    weeks, offset = [], 0
    for phase in phases:
        weeks += [(offset + w, phase.per_week) for w in range(0, phase.weeks, phase.every)]
        offset += phase.weeks
    return weeks


def session_count(phases: Iterable[Phase]) -> int:
    return sum(count for _, count in session_weeks(phases))


def propose(
    phases: list[Phase],
    start: date,
    calendar: ClinicCalendar,
    preferred_weekdays: Iterable[int] = (),
) -> list[ProposedVisit]:
    """The visits of a series starting on `start`, each on a free treatment day."""
    preferred = set(preferred_weekdays)
    used: Counter[date] = Counter()
    visits: list[ProposedVisit] = []
    last = start - timedelta(days=1)
    for week, count in session_weeks(phases):
        block = [start + timedelta(days=7 * week + i) for i in range(7)]
        wanted = _wanted_days(block, count, preferred)
        candidates = [d for d in wanted + [d for d in block if d not in wanted] if d > last]
        chosen, skipped = [], []
        for day in candidates:
            if len(chosen) == count:
                break
            why = calendar.refusal(day, used[day])
            if why is None:
                chosen.append(day)
            elif day in wanted:
                skipped.append(f"{day:%a %d %b}: {why}")
        chosen.sort()
        # The note goes on the visits that are not where the protocol would have put them.
        ideal = [d for d in wanted if d > last][:count]
        note = f"Moved because {'; '.join(skipped)}." if skipped else ""
        for day in chosen:
            used[day] += 1
            moved = note if day not in ideal else ""
            visits.append(_visit(calendar, len(visits) + 1, week + 1, day, moved))
        last = max([last, *chosen])
        for _ in range(count - len(chosen)):
            day = _first_free_after(max(last, block[-1]), calendar, used)
            if day is None:
                visits.append(
                    ProposedVisit(
                        len(visits) + 1,
                        week + 1,
                        None,
                        f"No free treatment day in week {week + 1} or the {SEARCH_DAYS} days "
                        "after it: add this visit by hand.",
                    )
                )
                continue
            used[day] += 1
            last = day
            visits.append(
                _visit(
                    calendar,
                    len(visits) + 1,
                    week + 1,
                    day,
                    f"No free treatment day left in week {week + 1}; first free day after it.",
                )
            )
    return visits


def _visit(calendar: ClinicCalendar, number: int, week: int, day: date, note: str):
    slot = calendar.slot(day)
    wanted = calendar.preferred
    if slot and wanted and slot.start.time() < wanted:
        note = f"{note} Nothing free at or after {wanted:%H:%M}; earlier that day.".strip()
    elif slot and wanted and slot.start.time() > wanted:
        later = f"{wanted:%H:%M} is taken (chairs or the clinician's patients); first free time."
        note = f"{note} {later}".strip()
    return ProposedVisit(number, week, day, note, slot, calendar.alternatives(day))


def _wanted_days(block: list[date], count: int, preferred: set[int]) -> list[date]:
    """The days of a week the protocol would choose if every day were free."""
    if preferred:
        return [d for d in block if d.weekday() in preferred]
    # No weekday preference: spread the sessions evenly over the 7 days.
    return sorted({block[i * 7 // count] for i in range(count)})


def _first_free_after(day: date, calendar: ClinicCalendar, used: Counter[date]) -> date | None:
    for offset in range(1, SEARCH_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if used[candidate] == 0 and calendar.refusal(candidate) is None:
            return candidate
    return None
