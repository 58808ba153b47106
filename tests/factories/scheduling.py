"""Protocol templates, booked series, and the scheduling objects of the access matrix."""

from __future__ import annotations

from datetime import date, timedelta

from portal.auth.models import User
from portal.extensions import db
from portal.referrals.models import Referral
from tests.factories.users import World


def protocol(code: str):
    """A shipped protocol template (seeded if the test database was emptied)."""
    from sqlalchemy import select

    from portal.scheduling.models import ProtocolTemplate
    from portal.scheduling.settings import seed_protocols

    seed_protocols()
    return db.session.scalar(select(ProtocolTemplate).where(ProtocolTemplate.code == code))


def book(referral: Referral, coordinator: User, days: list[date], code: str = "iv_induction"):
    from portal.scheduling.service import book_series

    return book_series(
        referral,
        days,
        protocol=protocol(code),
        actor=coordinator,
        expected_version=referral.version,
    )


def next_weekday(weekday: int, after: date | None = None) -> date:
    """The first `weekday` (0 Monday) strictly after `after` (default today)."""
    day = (after or date.today()) + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def scheduling_objects(referral: Referral, world: World) -> dict:
    """An appointment, a closed date, a protocol and a calendar token, for the access matrix."""
    from portal.scheduling.feed import new_calendar_link
    from portal.scheduling.models import ClosedDate
    from portal.scheduling.settings import clinic_schedule

    appointment = book(referral, world.coordinator, [next_weekday(0)])[0]
    closed = ClosedDate(clinic_id=world.clinic.id, day=next_weekday(2), reason="Staff training")
    db.session.add(closed)
    token = new_calendar_link(clinic_schedule(world.clinic.id), actor=world.admin)
    db.session.flush()
    return {
        "AP": appointment.id,
        "C": closed.id,
        "PT": protocol("custom").id,
        "K": token,
        "CL": world.clinician.id,
    }


def settings_payload(**overrides) -> dict:
    """The scheduling settings form as the page fills it by default (Monday to Friday 8-17,
    six chairs, the shipped durations), with `overrides`."""
    data = {
        "chair_names": "\n".join(f"Chair {n}" for n in range(1, 7)),
        "iv_infusion_minutes": "40",
        "iv_recovery_minutes": "60",
        "spravato_dosing_minutes": "15",
        "spravato_monitoring_minutes": "120",
        "chairs_per_clinician": "2",
        "sla_urgent_days": "2",
        "sla_routine_days": "5",
    }
    for day in range(7):
        if day < 5:
            data[f"days-{day}-open"] = "y"
        data[f"days-{day}-opens"] = "08:00"
        data[f"days-{day}-closes"] = "17:00"
    data.update(overrides)
    return data


def one_chair_one_visit_a_day(clinic_id: int) -> None:
    """Make the clinic hold a single IV visit a day: one chair, open 08:00-09:40."""
    from portal.scheduling.models import Chair
    from portal.scheduling.settings import chairs, clinic_schedule

    settings = clinic_schedule(clinic_id)
    settings.opening_hours = {str(d): ["08:00", "09:40"] for d in range(7)}
    for chair in chairs(clinic_id)[1:]:
        chair.active = False
    db.session.flush()
    assert db.session.get(Chair, chairs(clinic_id)[0].id).active


def appointment_on(referral: Referral, day: date, by: User, *, at: str = "09:00"):
    """An appointment written straight to the table (for a day booking refuses, a past one):
    a 100-minute IV visit in the clinic's first chair."""
    from datetime import datetime, time
    from datetime import timedelta as minutes

    from portal.scheduling.models import Appointment
    from portal.scheduling.settings import chairs, clinic_schedule

    clinic_schedule(referral.clinic_id)
    start = datetime.combine(day, time.fromisoformat(at))
    appointment = Appointment(
        referral_id=referral.id,
        clinic_id=referral.clinic_id,
        day=day,
        start_time=start.time(),
        end_time=(start + minutes(minutes=100)).time(),
        chair_id=chairs(referral.clinic_id)[0].id,
        clinician_id=referral.course.clinician_id if referral.course else None,
        modality="iv_ketamine",
        created_by_id=by.id,
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment
