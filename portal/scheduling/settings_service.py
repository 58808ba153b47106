"""Administrators' changes to scheduling: the clinic's settings, its closed dates, the
protocol templates. Each records its audit row; the view commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from sqlalchemy import select

from portal.audit.service import record
from portal.auth.models import User
from portal.errors import Conflict
from portal.extensions import db
from portal.scheduling.generation import parse_phases
from portal.scheduling.models import (
    Chair,
    ClinicianHours,
    ClinicSchedule,
    ClosedDate,
    ProtocolTemplate,
)
from portal.scheduling.settings import chairs

DURATION_FIELDS = (
    "iv_infusion_minutes",
    "iv_recovery_minutes",
    "spravato_dosing_minutes",
    "spravato_monitoring_minutes",
)


class DayAlreadyClosed(Conflict):
    """The clinic is already closed on that day."""

    def __init__(self, day: date) -> None:
        super().__init__(f"{day:%a %d %b %Y} is already closed.")


def update_settings(
    settings: ClinicSchedule,
    *,
    hours: Mapping[int, tuple[time, time]],
    chair_names: list[str],
    minutes: Mapping[str, int],
    chairs_per_clinician: int,
    sla_urgent_days: int,
    sla_routine_days: int,
    actor: User,
) -> None:
    """The clinic's opening hours by weekday (the treatment days), its chairs, the minutes a
    visit holds its chair, how many patients a clinician supervises at once, service levels.
    A chair removed from the list is retired (its past visits keep it); booked visits stay."""
    settings.treatment_weekdays = sorted(hours)
    settings.opening_hours = {
        str(d): [f"{o:%H:%M}", f"{c:%H:%M}"] for d, (o, c) in sorted(hours.items())
    }
    for name in DURATION_FIELDS:
        setattr(settings, name, minutes[name])
    settings.chairs_per_clinician = chairs_per_clinician
    settings.sla_urgent_days = sla_urgent_days
    settings.sla_routine_days = sla_routine_days
    existing = {c.name: c for c in chairs(settings.clinic_id, active_only=False)}
    for position, name in enumerate(chair_names, start=1):
        chair = existing.get(name) or Chair(clinic_id=settings.clinic_id, name=name)
        chair.position, chair.active = position, True
        db.session.add(chair)
    for name, chair in existing.items():
        if name not in chair_names:
            chair.active = False
    db.session.flush()
    record("clinic.schedule_settings", "clinic", settings.clinic_id, actor=actor)


def set_clinician_hours(
    clinic_id: int,
    clinician_id: int,
    weekdays: Iterable[int],
    starts: time | None,
    ends: time | None,
    *,
    actor: User,
) -> None:
    """When a clinician works: the weekdays (none: every opening day) between two times (none:
    the opening hours)."""
    for row in db.session.scalars(
        select(ClinicianHours).where(
            ClinicianHours.clinic_id == clinic_id, ClinicianHours.clinician_id == clinician_id
        )
    ):
        db.session.delete(row)
    db.session.flush()
    db.session.add_all(
        ClinicianHours(
            clinic_id=clinic_id,
            clinician_id=clinician_id,
            weekday=day,
            starts=starts or time(0),
            ends=ends or time(23, 59),
        )
        for day in sorted(set(weekdays))
    )
    db.session.flush()
    record("clinic.clinician_hours", "user", clinician_id, actor=actor)


def close_day(clinic_id: int, day: date, reason: str, *, actor: User) -> ClosedDate:
    """Close the clinic on `day`; appointments already booked that day stay booked."""
    exists = db.session.scalar(
        select(ClosedDate).where(ClosedDate.clinic_id == clinic_id, ClosedDate.day == day)
    )
    if exists:
        raise DayAlreadyClosed(day)
    closed = ClosedDate(clinic_id=clinic_id, day=day, reason=reason.strip())
    db.session.add(closed)
    db.session.flush()
    record("clinic.closed_date_add", "clinic", clinic_id, actor=actor)
    return closed


def reopen_day(closed: ClosedDate, *, actor: User) -> None:
    """Delete a closed date: the day is a treatment day again (if it is one of the week's)."""
    clinic_id = closed.clinic_id
    db.session.delete(closed)
    db.session.flush()
    record("clinic.closed_date_delete", "clinic", clinic_id, actor=actor)


def update_protocol(
    protocol: ProtocolTemplate,
    *,
    name: str,
    description: str,
    preferred_weekdays: Iterable[int],
    phases: Iterable[Mapping[str, Any]],
    actor: User,
) -> None:
    """Edit a protocol template; Invalid (field "phases") if its phases make no series."""
    checked = parse_phases(phases)
    protocol.name = name.strip()
    protocol.description = description.strip()
    protocol.preferred_weekdays = sorted(set(preferred_weekdays))
    protocol.phases = [p.as_dict() for p in checked]
    db.session.flush()
    record("protocol.edit", "protocol_template", protocol.id, actor=actor)
