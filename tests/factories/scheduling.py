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
    return {"AP": appointment.id, "C": closed.id, "PT": protocol("custom").id, "K": token}
