"""Two coordinators booking the same chair at the same moment, on two database connections.

On PostgreSQL the booking locks the clinic's settings row (SELECT ... FOR UPDATE), so the
second booking waits for the first to commit, then sees its visit and is refused; and the
exclusion constraint appointment_chair_no_overlap refuses an overlapping visit written past
the application. SQLite has neither row locks nor exclusion constraints: it serialises writers
on the whole file, which the last test checks for what it can."""

from __future__ import annotations

import threading
from datetime import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.referrals.models import Referral
from portal.scheduling.models import Appointment
from portal.scheduling.service import BookingConflict, VisitRequest, book_series
from portal.scheduling.settings import chairs, clinic_schedule
from tests.factories import accepted_referral, next_weekday, protocol


def _on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _two_referrals(world):
    first = accepted_referral(world.referrer, world.coordinator, world.clinician, first_name="A")
    second = accepted_referral(world.referrer, world.coordinator, world.clinician, first_name="B")
    protocol("iv_induction")
    clinic_schedule(world.clinic.id)
    db.session.commit()
    return first.id, second.id, chairs(world.clinic.id)[0].id


def _book_in_thread(app, referral_id, request, coordinator_id, results, name, hold=None):
    """Book on this thread's own connection; `hold` keeps the transaction open until set."""
    from portal.auth.models import User

    with app.app_context():
        try:
            referral = db.session.get(Referral, referral_id)
            book_series(
                referral,
                [request],
                protocol=None,
                actor=db.session.get(User, coordinator_id),
                expected_version=referral.version,
            )
            if hold is not None:
                results[f"{name}-holding"] = True
                hold.wait(5)
            db.session.commit()
            results[name] = "booked"
        except BookingConflict as conflict:
            db.session.rollback()
            results[name] = str(conflict)
        finally:
            db.session.remove()


def test_two_coordinators_booking_one_chair_at_once_book_it_once(app, world):
    if not _on_postgres():
        pytest.skip("row locks and two live connections: PostgreSQL (run with TEST_DATABASE_URL)")
    first, second, chair_id = _two_referrals(world)
    request = VisitRequest(next_weekday(0), time(9, 0), chair_id)
    results: dict = {}
    hold = threading.Event()
    a = threading.Thread(
        target=_book_in_thread,
        args=(app, first, request, world.coordinator.id, results, "a", hold),
    )
    a.start()
    for _ in range(100):  # until the first booking holds the lock, uncommitted
        if results.get("a-holding"):
            break
        threading.Event().wait(0.05)
    assert results.get("a-holding")
    b = threading.Thread(
        target=_book_in_thread, args=(app, second, request, world.coordinator.id, results, "b")
    )
    b.start()
    b.join(0.5)
    assert b.is_alive()  # waiting on the clinic's lock, not racing past it
    hold.set()
    a.join(10)
    b.join(10)
    assert results["a"] == "booked"
    assert "Chair 1 is taken at 09:00-10:40" in results["b"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert db.session.get(Referral, second).state == "accepted"  # nothing half-booked


def test_the_database_itself_refuses_an_overlapping_visit_in_one_chair(app, world):
    if not _on_postgres():
        pytest.skip("exclusion constraints exist on PostgreSQL only")
    first, second, chair_id = _two_referrals(world)
    referral = db.session.get(Referral, first)
    book_series(
        referral,
        [VisitRequest(next_weekday(0), time(9, 0), chair_id)],
        protocol=None,
        actor=world.coordinator,
        expected_version=referral.version,
    )
    db.session.commit()
    booked = db.session.scalar(select(Appointment))
    insert = text(
        "INSERT INTO appointment (referral_id, clinic_id, day, start_time, end_time, chair_id, "
        "modality, status, escort_confirmed, instructions_given, note, created_by_id, "
        "created_at, updated_at, version) VALUES (:r, :c, :d, :s, :e, :chair, 'iv_ketamine', "
        ":status, false, false, '', :u, now(), now(), 1)"
    )
    values = {
        "r": second,
        "c": booked.clinic_id,
        "d": booked.day,
        "chair": chair_id,
        "u": world.coordinator.id,
    }
    with pytest.raises(IntegrityError, match="appointment_chair_no_overlap"):
        db.session.execute(insert, {**values, "s": time(10), "e": time(11), "status": "booked"})
    db.session.rollback()
    # Touching ends are not an overlap; a cancelled visit holds no chair.
    db.session.execute(insert, {**values, "s": time(10, 40), "e": time(11), "status": "booked"})
    db.session.execute(insert, {**values, "s": time(9), "e": time(10), "status": "cancelled"})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 3


def test_a_second_booking_sees_the_first_and_takes_another_chair(app, world):
    """On every database: booked one after the other, the second visit asked for the first
    free slot goes to another chair at the same time."""
    first, second, _chair = _two_referrals(world)
    day = next_weekday(0)
    for referral_id in (first, second):
        referral = db.session.get(Referral, referral_id)
        book_series(
            referral,
            [day],
            protocol=None,
            actor=world.coordinator,
            expected_version=referral.version,
            preferred=time(9, 0),
        )
        db.session.commit()
    a, b = db.session.scalars(select(Appointment).order_by(Appointment.id))
    assert a.start_time == b.start_time == time(9, 0)
    assert a.chair_id != b.chair_id
