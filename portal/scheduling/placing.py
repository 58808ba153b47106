"""Placing visits on the clinic's calendar for booking: each visit asked for (a day, and a time
and chair or the first free ones) is checked and added to the calendar, so the visits of one
series never collide with each other either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from portal.clock import clinic_today
from portal.errors import Conflict
from portal.scheduling.models import Appointment, ClinicSchedule
from portal.scheduling.settings import clinic_calendar, clinic_schedule
from portal.scheduling.slots import Booked, ClinicCalendar

if TYPE_CHECKING:
    from portal.referrals.models import Referral


class BookingConflict(Conflict):
    """One or more days cannot be booked; each message names the day and why."""

    # The days typed are refused and shown again to be changed: the form's problem (422),
    # not a page gone stale (409).
    status = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Nothing was booked: " + "; ".join(problems) + ".")


@dataclass(frozen=True)
class VisitRequest:
    """One visit asked for: a day, and a start time and chair (None: the first free one at or
    after the preferred time)."""

    day: date
    start: time | None = None
    chair_id: int | None = None


def calendar_for(
    referral: Referral,
    settings: ClinicSchedule,
    start: date,
    end: date,
    *,
    preferred: time | None = None,
    ignore: Appointment | None = None,
) -> ClinicCalendar:
    course = referral.course
    return clinic_calendar(
        settings,
        start,
        end,
        modality=course.modality if course else referral.requested_modality,
        clinician_id=course.clinician_id if course else None,
        referral_id=referral.id,
        preferred=preferred,
        ignore=ignore,
    )


def place(
    calendar: ClinicCalendar, request: VisitRequest, *, ignore: Booked | None = None
) -> tuple[Booked | None, str | None]:
    """The visit placed on the calendar (and added to it), or why it cannot be."""
    if request.day < clinic_today():
        return None, "the day is in the past"
    if request.start is not None and request.chair_id is not None:
        start = datetime.combine(request.day, request.start)
        why = calendar.check(start, request.chair_id, ignore=ignore)
        if why:
            return None, why
        end = start + timedelta(minutes=calendar.minutes)
        chair_id = request.chair_id
    else:
        why = calendar.refusal(request.day)
        slot = calendar.slot(request.day) if why is None else None
        if slot is None:
            return None, why or "no free time"
        start, end, chair_id = slot.start, slot.end, slot.chair_id
    placed = Booked(start, end, chair_id, calendar.clinician_id, calendar.referral_id)
    calendar.add(placed)
    return placed, None


def place_all(
    referral: Referral, requests: list[VisitRequest], *, preferred: time | None
) -> list[Booked]:
    """Every visit placed, or BookingConflict naming each that cannot be; the clinic's settings
    row is locked until the transaction ends."""
    if not requests:
        raise BookingConflict(["no date was given"])
    settings = clinic_schedule(referral.clinic_id, for_update=True)
    days = [r.day for r in requests]
    calendar = calendar_for(referral, settings, min(days), max(days), preferred=preferred)
    placed, problems = [], []
    for request in sorted(requests, key=lambda r: (r.day, r.start or time(0))):
        visit, why = place(calendar, request)
        if why:
            problems.append(f"{request.day:%a %d %b %Y}: {why}")
        else:
            placed.append(visit)
    if problems:
        raise BookingConflict(problems)
    return placed


def lost_race(error: IntegrityError) -> BookingConflict:
    return BookingConflict(
        [
            "another booking took one of these chairs at the same moment; the page shows the "
            "day as it is now, propose again"
        ]
    )
