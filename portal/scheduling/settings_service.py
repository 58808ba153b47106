"""Administrators' changes to scheduling: the clinic's settings, its closed dates, the
protocol templates. Each records its audit row; the view commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from portal.audit.service import record
from portal.auth.models import User
from portal.errors import Conflict
from portal.extensions import db
from portal.scheduling.generation import parse_phases
from portal.scheduling.models import ClinicSchedule, ClosedDate, ProtocolTemplate


class DayAlreadyClosed(Conflict):
    """The clinic is already closed on that day."""

    def __init__(self, day: date) -> None:
        super().__init__(f"{day:%a %d %b %Y} is already closed.")


def update_settings(
    settings: ClinicSchedule,
    *,
    treatment_weekdays: Iterable[int],
    chairs_per_day: int,
    sla_urgent_days: int,
    sla_routine_days: int,
    actor: User,
) -> None:
    """The clinic's treatment days, chairs per day and service levels."""
    settings.treatment_weekdays = sorted(set(treatment_weekdays))
    settings.chairs_per_day = chairs_per_day
    settings.sla_urgent_days = sla_urgent_days
    settings.sla_routine_days = sla_routine_days
    db.session.flush()
    record("clinic.schedule_settings", "clinic", settings.clinic_id, actor=actor)


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
