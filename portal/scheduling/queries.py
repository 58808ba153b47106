"""Reads for scheduling pages: a day, protocols and the default one, a proposed series."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.service import record
from portal.auth.models import User
from portal.extensions import db
from portal.referrals.models import Referral
from portal.scheduling.generation import Phase, ProposedVisit, parse_phases, propose
from portal.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ClinicSchedule,
    ProtocolTemplate,
)
from portal.scheduling.protocols import default_protocol_code
from portal.scheduling.settings import clinic_calendar, clinic_schedule


def protocols() -> list[ProtocolTemplate]:
    return list(db.session.scalars(select(ProtocolTemplate).order_by(ProtocolTemplate.id)))


def default_protocol_for(
    modality: str, protocols: Iterable[ProtocolTemplate]
) -> ProtocolTemplate | None:
    """The protocol proposed for `modality` among `protocols`, or None if it is not there."""
    code = default_protocol_code(modality)
    return next((p for p in protocols if p.code == code), None)


@dataclass
class DayRow:
    appointment: Appointment
    number: int  # which visit of the referral's series
    of: int
    missing: list[str]


def day_schedule(user: User, day: date) -> list[DayRow]:
    """The clinic's appointments on `day` with what each patient still needs."""
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.clinic_id == user.clinic_id, Appointment.day == day)
            .options(joinedload(Appointment.referral).joinedload(Referral.patient))
            .order_by(Appointment.status, Appointment.id)
        )
    )
    ids = {a.referral_id for a in appointments}
    series: dict[int, list[date]] = {}
    if ids:
        for referral_id, booked_day in db.session.execute(
            select(Appointment.referral_id, Appointment.day)
            .where(
                Appointment.referral_id.in_(ids), Appointment.status != AppointmentStatus.CANCELLED
            )
            .order_by(Appointment.day)
        ):
            series.setdefault(referral_id, []).append(booked_day)
    record("schedule.day", "clinic", user.clinic_id, actor=user, detail=day.isoformat())
    rows = []
    for a in appointments:
        days = series.get(a.referral_id, [])
        number = days.index(a.day) + 1 if a.day in days else 0
        rows.append(DayRow(a, number, len(days), missing_preparation(a)))
    return rows


def missing_preparation(appointment: Appointment) -> list[str]:
    missing = []
    if appointment.modality == "spravato" and appointment.referral.patient.rems_enrolled_on is None:
        missing.append("REMS enrolment missing")
    if not appointment.escort_confirmed:
        missing.append("Escort not confirmed")
    if not appointment.instructions_given:
        missing.append("Pre-visit instructions not given")
    return missing


def protocol_phases(
    protocol: ProtocolTemplate, weeks: int | None, per_week: int | None
) -> list[Phase]:
    """The protocol's phases; a custom plan takes the weeks and frequency typed in."""
    if protocol.is_custom and weeks and per_week:
        return parse_phases([{"weeks": weeks, "per_week": per_week}])
    return parse_phases(protocol.phases)


def proposal(
    settings: ClinicSchedule, protocol: ProtocolTemplate, phases: list[Phase], start: date
) -> list[ProposedVisit]:
    """The proposed visits against the clinic's calendar as it is now."""
    span = sum(p.weeks for p in phases) * 7 + 60
    calendar = clinic_calendar(settings, start, start + timedelta(days=span))
    return propose(phases, start, calendar, protocol.preferred_weekdays)


def propose_series(
    referral: Referral,
    protocol: ProtocolTemplate,
    start: date,
    *,
    weeks: int | None = None,
    per_week: int | None = None,
) -> list[ProposedVisit]:
    """The series `protocol` proposes for `referral` from `start` (a custom plan takes the
    weeks and sessions a week typed in); Invalid if those phases cannot make a series."""
    phases = protocol_phases(protocol, weeks, per_week)
    return proposal(clinic_schedule(referral.clinic_id), protocol, phases, start)
