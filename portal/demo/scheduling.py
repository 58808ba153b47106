"""Demo scheduling: series booked through the real service so the day view and .ics have data."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from portal.auth.models import User
from portal.clock import clinic_today
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.states import State
from portal.scheduling.models import ClosedDate, ProtocolTemplate
from portal.scheduling.protocols import CUSTOM, default_protocol_code
from portal.scheduling.queries import propose_series
from portal.scheduling.service import book_series
from portal.scheduling.settings import clinic_schedule, seed_protocols

PREFERRED_TIMES = [time(8, 30), time(9, 0), time(10, 30), time(13, 0), time(14, 0)]


def next_treatment_day(day: date, weekdays: list[int]) -> date:
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day


def seed_schedule(coordinator: User) -> None:
    """Book series for the demo's scheduled-to-be and in-treatment referrals."""
    seed_protocols()
    settings = clinic_schedule(coordinator.clinic_id)
    protocols = {p.code: p for p in db.session.scalars(select(ProtocolTemplate))}
    start = next_treatment_day(clinic_today(), settings.treatment_weekdays)
    # A closed day ahead, so proposals show how they avoid it.
    closed_on = next_treatment_day(start + timedelta(days=10), settings.treatment_weekdays)
    db.session.add(ClosedDate(clinic_id=settings.clinic_id, day=closed_on, reason="Staff training"))
    referrals = db.session.scalars(
        select(Referral)
        .where(Referral.state.in_([State.ACCEPTED, State.IN_TREATMENT]))
        .order_by(Referral.id)
    ).all()
    # Leave the last accepted referral for the coordinator to schedule in the demo.
    accepted = [r for r in referrals if r.state == State.ACCEPTED][:-1]
    treated = [r for r in referrals if r.state == State.IN_TREATMENT]
    for number, referral in enumerate(accepted + treated):
        protocol = protocols[default_protocol_code(referral.course.modality)]
        plan: dict = {}
        left = referral.course.planned_sessions - len(referral.course.sessions)
        if referral.state == State.IN_TREATMENT:  # the rest of the series, from today
            protocol = protocols[CUSTOM]
            plan = {"weeks": 2, "per_week": 2}
        # Patients prefer different times of day, so a day fills like a real one.
        preferred = PREFERRED_TIMES[number % len(PREFERRED_TIMES)]
        visits = propose_series(referral, protocol, start, preferred=preferred, **plan)
        days = [v.day for v in visits if v.day is not None][:left]
        book_series(
            referral,
            days,
            protocol=protocol,
            actor=coordinator,
            expected_version=referral.version,
            preferred=preferred,
        )
    db.session.flush()
