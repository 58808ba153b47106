"""Loading a clinic's scheduling settings and calendar (closed dates, chairs already booked)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from functools import cache

from sqlalchemy import bindparam, select

from portal.auth.models import User
from portal.extensions import db
from portal.roles import Role
from portal.scheduling.models import (
    DEFAULT_HOURS,
    HOLDS_CHAIR,
    Appointment,
    Chair,
    ClinicianHours,
    ClinicSchedule,
    ClosedDate,
    ProtocolTemplate,
)
from portal.scheduling.protocols import SHIPPED_PROTOCOLS
from portal.scheduling.slots import Booked, ClinicCalendar, Hours

DEFAULT_CHAIRS = 6


def clinic_schedule(clinic_id: int, *, for_update: bool = False) -> ClinicSchedule:
    """The clinic's settings row, created with the defaults the first time it is needed.

    for_update locks the row (PostgreSQL): bookings of one clinic then run one at a time, so
    two coordinators cannot both take the last chair of a day."""
    return clinic_schedule_or_new(clinic_id, for_update=for_update)[0]


@cache
def _settings_row(for_update: bool):
    """Every queue page reads it: built once per kind, not per request."""
    stmt = select(ClinicSchedule).where(ClinicSchedule.clinic_id == bindparam("clinic_id"))
    return stmt.with_for_update() if for_update else stmt


def clinic_schedule_or_new(
    clinic_id: int, *, for_update: bool = False
) -> tuple[ClinicSchedule, bool]:
    """The settings row, and whether it was just created (a read-only page then commits it)."""
    settings = db.session.scalar(_settings_row(for_update), {"clinic_id": clinic_id})
    if settings is not None:
        return settings, False
    settings = ClinicSchedule(
        clinic_id=clinic_id,
        treatment_weekdays=[0, 1, 2, 3, 4],
        opening_hours={},
        iv_infusion_minutes=40,
        iv_recovery_minutes=60,
        spravato_dosing_minutes=15,
        spravato_monitoring_minutes=120,
        chairs_per_clinician=2,
        sla_urgent_days=2,
        sla_routine_days=5,
    )
    db.session.add(settings)
    if not db.session.scalar(select(Chair.id).where(Chair.clinic_id == clinic_id).limit(1)):
        db.session.add_all(
            Chair(clinic_id=clinic_id, name=f"Chair {n}", position=n, active=True)
            for n in range(1, DEFAULT_CHAIRS + 1)
        )
    db.session.flush()
    return settings, True


def opening_hours(settings: ClinicSchedule) -> dict[int, Hours]:
    """Opening hours by weekday (treatment days only)."""
    hours = {}
    for weekday in settings.treatment_weekdays:
        opens, closes = settings.opening_hours.get(str(weekday)) or DEFAULT_HOURS
        hours[weekday] = (time.fromisoformat(opens), time.fromisoformat(closes))
    return hours


def visit_minutes(settings: ClinicSchedule, modality: str) -> int:
    """How long a visit holds its chair: treatment plus recovery or monitoring."""
    if modality == "spravato":
        return settings.spravato_dosing_minutes + settings.spravato_monitoring_minutes
    return settings.iv_infusion_minutes + settings.iv_recovery_minutes


def chairs(clinic_id: int, *, active_only: bool = True) -> list[Chair]:
    stmt = select(Chair).where(Chair.clinic_id == clinic_id).order_by(Chair.position, Chair.id)
    if active_only:
        stmt = stmt.where(Chair.active.is_(True))
    return list(db.session.scalars(stmt))


def clinic_clinicians(clinic_id: int) -> list[User]:
    """The clinic's clinicians who can sign in, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.clinic_id == clinic_id, User.role == Role.CLINICIAN, User.is_enabled.is_(True)
            )
            .order_by(User.full_name)
        )
    )


def clinician_hours(clinic_id: int) -> dict[int, dict[int, Hours]]:
    """Each clinician's working hours by weekday (clinicians with none work opening hours)."""
    found: dict[int, dict[int, Hours]] = {}
    for row in db.session.scalars(
        select(ClinicianHours).where(ClinicianHours.clinic_id == clinic_id)
    ):
        found.setdefault(row.clinician_id, {})[row.weekday] = (row.starts, row.ends)
    return found


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


def booked_between(clinic_id: int, start: date, end: date) -> dict[date, list[Booked]]:
    """What holds a chair between `start` and `end`, by day (only the columns needed)."""
    rows = db.session.execute(
        select(
            Appointment.id,
            Appointment.day,
            Appointment.start_time,
            Appointment.end_time,
            Appointment.chair_id,
            Appointment.clinician_id,
            Appointment.referral_id,
        ).where(
            Appointment.clinic_id == clinic_id,
            Appointment.status.in_(HOLDS_CHAIR),
            Appointment.day.between(start, end),
        )
    )
    booked: dict[date, list[Booked]] = {}
    for _id, day, starts, ends, chair_id, clinician_id, referral_id in rows:
        booked.setdefault(day, []).append(
            Booked(
                datetime.combine(day, starts),
                datetime.combine(day, ends),
                chair_id,
                clinician_id,
                referral_id,
            )
        )
    return booked


def as_booked(appointment: Appointment) -> Booked:
    return Booked(
        appointment.starts_at,
        appointment.ends_at,
        appointment.chair_id,
        appointment.clinician_id,
        appointment.referral_id,
    )


def clinic_calendar(
    settings: ClinicSchedule,
    start: date,
    end: date,
    *,
    modality: str = "iv_ketamine",
    clinician_id: int | None = None,
    referral_id: int | None = None,
    preferred: time | None = None,
    ignore: Appointment | None = None,
) -> ClinicCalendar:
    """The calendar between `start` and `end` for one referral's visits; `ignore` is an
    appointment being moved (its own chair is free for it)."""
    calendar = ClinicCalendar(
        treatment_weekdays=frozenset(settings.treatment_weekdays),
        hours=opening_hours(settings),
        chairs=[(c.id, c.name) for c in chairs(settings.clinic_id)],
        closed=closed_dates(settings.clinic_id, start, end),
        booked=BookedByDay(settings.clinic_id),
        clinician_hours=clinician_hours(settings.clinic_id),
        chairs_per_clinician=settings.chairs_per_clinician,
        minutes=visit_minutes(settings, modality),
        clinician_id=clinician_id,
        referral_id=referral_id,
        preferred=preferred,
    )
    if ignore is not None and ignore.holds_chair:
        calendar.remove(as_booked(ignore))
    return calendar


class BookedByDay(Mapping[date, list[Booked]]):
    """What holds a chair, by day, read from the database a fortnight at a time as the search
    reaches it (a proposal rarely looks at more than a few weeks)."""

    CHUNK_DAYS = 14

    def __init__(self, clinic_id: int) -> None:
        self.clinic_id = clinic_id
        self._days: dict[date, list[Booked]] = {}
        self._loaded: set[date] = set()

    def __getitem__(self, day: date) -> list[Booked]:
        chunk = date.fromordinal(day.toordinal() - day.toordinal() % self.CHUNK_DAYS)
        if chunk not in self._loaded:
            self._loaded.add(chunk)
            end = date.fromordinal(chunk.toordinal() + self.CHUNK_DAYS - 1)
            self._days.update(booked_between(self.clinic_id, chunk, end))
        return self._days.get(day, [])

    def __iter__(self) -> Iterator[date]:
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)


def seed_protocols() -> int:
    """Add any shipped protocol template that is missing (by code); returns how many."""
    present = set(db.session.scalars(select(ProtocolTemplate.code)))
    missing = [p for p in SHIPPED_PROTOCOLS if p["code"] not in present]
    db.session.add_all(ProtocolTemplate(**p) for p in missing)
    db.session.flush()
    return len(missing)
