"""Reads for scheduling pages: a day, protocols and the default one, a proposed series."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.service import record
from portal.auth.models import User
from portal.clock import clinic_zone
from portal.extensions import db
from portal.referrals.models import Referral
from portal.scheduling.feed import initials
from portal.scheduling.generation import Phase, ProposedVisit, parse_phases, propose
from portal.scheduling.models import (
    HOLDS_CHAIR,
    Appointment,
    AppointmentStatus,
    ProtocolTemplate,
)
from portal.scheduling.placing import calendar_for
from portal.scheduling.protocols import default_protocol_code
from portal.scheduling.settings import clinic_schedule
from portal.sql_lists import one_of


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
    number: int  # which session of the course this visit is (0: not counted)
    of: int  # the sessions the course plans
    missing: list[str]
    needs_outcome: bool = False  # in the past, neither attended nor marked no-show

    @property
    def initials(self) -> str:
        patient = self.appointment.referral.patient
        return initials(patient.first_name, patient.last_name)


def session_numbers(referral_ids: Iterable[int]) -> dict[int, int]:
    """appointment id -> the session of its course it is ("Session 3 of 6"): sessions
    documented without an appointment before it, plus the booked or attended visits up to it.
    Cancelled visits and no-shows are not counted."""
    ids = list(set(referral_ids))
    if not ids:
        return {}
    course_cls = Referral.course.property.mapper.class_  # treatment is above scheduling
    referrals = db.session.scalars(
        select(Referral)
        .where(Referral.id.in_(ids))
        .options(selectinload(Referral.course).selectinload(course_cls.sessions))
    )
    visits: dict[int, list[Appointment]] = {}
    for a in db.session.scalars(
        select(Appointment)
        .where(Appointment.referral_id.in_(ids), Appointment.status.in_(HOLDS_CHAIR))
        .order_by(Appointment.day, Appointment.start_time, Appointment.id)
    ):
        visits.setdefault(a.referral_id, []).append(a)
    numbers = {}
    for referral in referrals:
        mine = visits.get(referral.id, [])
        linked = {a.session_id for a in mine if a.session_id}
        sessions = referral.course.sessions if referral.course else []
        unlinked = [s.session_date for s in sessions if s.id not in linked]
        for index, a in enumerate(mine, start=1):
            numbers[a.id] = index + sum(1 for d in unlinked if d <= a.day)
    return numbers


def day_appointments(clinic_id: int, start: date, end: date, clinician_id: int | None = None):
    stmt = (
        select(Appointment)
        .where(Appointment.clinic_id == clinic_id, Appointment.day.between(start, end))
        .options(
            joinedload(Appointment.referral).joinedload(Referral.patient),
            joinedload(Appointment.referral).joinedload(Referral.course),
            joinedload(Appointment.chair),
            joinedload(Appointment.clinician),
        )
        .order_by(Appointment.day, Appointment.start_time, Appointment.status, Appointment.id)
    )
    if clinician_id:
        stmt = stmt.where(Appointment.clinician_id == clinician_id)
    return list(db.session.scalars(stmt).unique())


def day_schedule(
    user: User, day: date, *, end: date | None = None, clinician_id: int | None = None
) -> list[DayRow]:
    """The clinic's appointments from `day` (to `end`) with each visit's session number and
    what each patient still needs."""
    appointments = day_appointments(user.clinic_id, day, end or day, clinician_id)
    numbers = session_numbers(a.referral_id for a in appointments)
    detail = day.isoformat() if end is None else f"{day.isoformat()}..{end.isoformat()}"
    record("schedule.day", "clinic", user.clinic_id, actor=user, detail=detail)
    now = datetime.now(clinic_zone()).replace(tzinfo=None)
    rows = []
    for a in appointments:
        course = a.referral.course
        rows.append(
            DayRow(
                a,
                numbers.get(a.id, 0),
                course.planned_sessions if course else 0,
                missing_preparation(a) if a.is_booked else [],
                needs_outcome=a.is_booked and a.ends_at <= now,
            )
        )
    return rows


@cache
def _next_visits():
    return (
        select(Appointment.referral_id, Appointment.day, Appointment.start_time)
        .where(
            one_of(Appointment.referral_id),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.day >= bindparam("today"),
        )
        .order_by(Appointment.day, Appointment.start_time)
    )


def next_visits(referral_ids: list[int]) -> dict[int, datetime]:
    """The start (on the clinic's clock) of each referral's next booked visit, today or later,
    in one query (built once; the ids one parameter, portal/sql_lists.py)."""
    if not referral_ids:
        return {}
    today = datetime.now(clinic_zone()).date()
    found: dict[int, datetime] = {}
    for referral_id, day, starts in db.session.execute(
        _next_visits(), {"ids": referral_ids, "today": today}
    ):
        found.setdefault(referral_id, datetime.combine(day, starts))
    return found


@cache
def _upcoming_visits():
    return (
        select(Appointment)
        .where(
            Appointment.referral_id == bindparam("referral_id"),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.day >= bindparam("today"),
        )
        .order_by(Appointment.day, Appointment.start_time)
        .limit(bindparam("limit"))
    )


def upcoming_visits(referral: Referral, limit: int = 3) -> list[Appointment]:
    """The referral's next booked visits, today or later (the statement built once)."""
    today = datetime.now(clinic_zone()).date()
    params = {"referral_id": referral.id, "today": today, "limit": limit}
    return list(db.session.scalars(_upcoming_visits(), params))


def appointment_of(session_id: int) -> Appointment | None:
    """The visit a session was documented from, if any."""
    return db.session.scalar(select(Appointment).where(Appointment.session_id == session_id))


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


def propose_series(
    referral: Referral,
    protocol: ProtocolTemplate,
    start: date,
    *,
    weeks: int | None = None,
    per_week: int | None = None,
    preferred: time | None = None,
) -> list[ProposedVisit]:
    """The series `protocol` proposes for `referral` from `start` (a custom plan takes the
    weeks and sessions a week typed in), each visit in the first free chair at or after the
    `preferred` time; Invalid if those phases cannot make a series."""
    phases = protocol_phases(protocol, weeks, per_week)
    span = sum(p.weeks for p in phases) * 7 + 60
    settings = clinic_schedule(referral.clinic_id)
    calendar = calendar_for(
        referral, settings, start, start + timedelta(days=span), preferred=preferred
    )
    return propose(phases, start, calendar, protocol.preferred_weekdays)
