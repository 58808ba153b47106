"""Loading a clinic's scheduling settings and calendar (closed dates, chairs already booked)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.extensions import db
from portal.scheduling.generation import ClinicCalendar
from portal.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicSchedule,
    ClosedDate,
    ProtocolTemplate,
)
from portal.scheduling.protocols import SHIPPED_PROTOCOLS


def clinic_schedule(clinic_id: int, *, for_update: bool = False) -> ClinicSchedule:
    """The clinic's settings row, created with the defaults the first time it is needed.

    for_update locks the row (PostgreSQL): bookings of one clinic then run one at a time, so
    two coordinators cannot both take the last chair of a day."""
    return clinic_schedule_or_new(clinic_id, for_update=for_update)[0]


def clinic_schedule_or_new(
    clinic_id: int, *, for_update: bool = False
) -> tuple[ClinicSchedule, bool]:
    """The settings row, and whether it was just created (a read-only page then commits it)."""
    stmt = select(ClinicSchedule).where(ClinicSchedule.clinic_id == clinic_id)
    if for_update:
        stmt = stmt.with_for_update()
    settings = db.session.scalar(stmt)
    if settings is not None:
        return settings, False
    settings = ClinicSchedule(
        clinic_id=clinic_id,
        treatment_weekdays=[0, 1, 2, 3, 4],
        chairs_per_day=6,
        sla_urgent_days=2,
        sla_routine_days=5,
    )
    db.session.add(settings)
    db.session.flush()
    return settings, True


def closed_dates(clinic_id: int, start: date, end: date) -> dict[date, str]:
    rows = db.session.execute(
        select(ClosedDate.day, ClosedDate.reason).where(
            ClosedDate.clinic_id == clinic_id, ClosedDate.day.between(start, end)
        )
    )
    return {key: value for key, value in rows}  # noqa: C416 - dict() refuses Row


def upcoming_closed_dates(clinic_id: int, today: date) -> list[ClosedDate]:
    """The clinic's closed dates from `today` on, in order (the settings page lists them)."""
    return list(
        db.session.scalars(
            select(ClosedDate)
            .where(ClosedDate.clinic_id == clinic_id, ClosedDate.day >= today)
            .order_by(ClosedDate.day)
        )
    )


def closed_reason(settings: ClinicSchedule, day: date) -> str | None:
    """Why the clinic does not treat on `day` (a closed date's reason, or not a treatment
    day of the week), or None when it is open."""
    closed = closed_dates(settings.clinic_id, day, day).get(day)
    if closed is None and day.weekday() not in settings.treatment_weekdays:
        return "not a treatment day"
    return closed


def booked_counts(clinic_id: int, start: date, end: date) -> dict[date, int]:
    rows = db.session.execute(
        select(Appointment.day, func.count())
        .where(
            Appointment.clinic_id == clinic_id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.day.between(start, end),
        )
        .group_by(Appointment.day)
    )
    return {key: value for key, value in rows}  # noqa: C416 - dict() refuses Row


def clinic_calendar(
    settings: ClinicSchedule, start: date, end: date, *, ignore: Appointment | None = None
) -> ClinicCalendar:
    """The calendar between `start` and `end`; `ignore` is an appointment being moved."""
    booked = booked_counts(settings.clinic_id, start, end)
    if ignore is not None and ignore.is_booked and ignore.day in booked:
        booked[ignore.day] -= 1
    return ClinicCalendar(
        treatment_weekdays=frozenset(settings.treatment_weekdays),
        chairs_per_day=settings.chairs_per_day,
        closed=closed_dates(settings.clinic_id, start, end),
        booked=booked,
    )


def seed_protocols() -> int:
    """Add any shipped protocol template that is missing (by code); returns how many."""
    present = set(db.session.scalars(select(ProtocolTemplate.code)))
    missing = [p for p in SHIPPED_PROTOCOLS if p["code"] not in present]
    db.session.add_all(ProtocolTemplate(**p) for p in missing)
    db.session.flush()
    return len(missing)
