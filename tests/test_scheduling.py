"""Booking a series through the pages: proposal, conflicts, changes, day view, .ics feed."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.scheduling.models import Appointment, ClosedDate
from portal.scheduling.settings import clinic_schedule
from tests.conftest import csrf_token, force_login
from tests.factories import accepted_referral, book, next_weekday, protocol
from tests.factories.scheduling import appointment_on, one_chair_one_visit_a_day

DAY_INPUT = re.compile(r'name="day" value="(\d{4}-\d\d-\d\d)"')


def _staff(app, user):
    client = app.test_client()
    force_login(client, user)
    return client


def _accepted(world, **kw):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician, **kw)
    protocol("iv_induction")
    db.session.commit()
    return referral


def test_propose_and_book_an_iv_series_moves_the_referral_to_scheduled(app, world):
    referral = _accepted(world)
    monday = next_weekday(0)
    wednesday = monday + timedelta(days=2)
    db.session.add(ClosedDate(clinic_id=world.clinic.id, day=wednesday, reason="Staff training"))
    db.session.commit()
    staff = _staff(app, world.coordinator)
    path = f"/scheduling/referrals/{referral.id}"
    induction = protocol("iv_induction")
    db.session.commit()
    html = staff.get(
        f"{path}/propose", query_string={"protocol_id": induction.id, "start": monday}
    ).get_data(as_text=True)
    days = DAY_INPUT.findall(html)
    assert len(days) == 6
    assert wednesday.isoformat() not in days
    assert "the clinic is closed (Staff training)" in html
    version = re.search(
        r'name="version"[^>]*value="(\d+)"', html.split("Book these")[0].split('id="propose-h"')[1]
    ).group(1)
    response = staff.post(
        f"{path}/book",
        data={
            "version": version,
            "protocol_id": induction.id,
            "day": days,
            "csrf_token": csrf_token(staff, path),
        },
        follow_redirects=True,
    )
    assert "6 appointments booked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "scheduled"
    detail = staff.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Appointments booked" in detail
    assert "IV ketamine induction: 6 appointments" in detail


def test_a_full_day_is_refused_and_nothing_is_booked(app, world):
    one_chair_one_visit_a_day(world.clinic.id)
    first = _accepted(world)
    second = _accepted(world, first_name="Bea")
    monday = next_weekday(0)
    book(first, world.coordinator, [monday])
    db.session.commit()
    staff = _staff(app, world.coordinator)
    path = f"/scheduling/referrals/{second.id}"
    response = staff.post(
        f"{path}/book",
        data={
            "version": second.version,
            "protocol_id": protocol("iv_induction").id,
            "day": [monday.isoformat(), (monday + timedelta(days=2)).isoformat()],
            "csrf_token": csrf_token(staff, path),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was booked" in html
    assert "Chair 1 is taken" in html or "no chair is free" in html
    assert len(DAY_INPUT.findall(html)) == 2  # what was typed is still there
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert db.session.get(Referral, second.id).state == "accepted"


def _book(app, world, referral, version: int, days: list[date]):
    """POST a series of `days` for `referral` as the coordinator, with the iv_induction
    protocol, the referral `version` the page showed."""
    staff = _staff(app, world.coordinator)
    path = f"/scheduling/referrals/{referral.id}"
    return staff.post(
        f"{path}/book",
        data={
            "version": version,
            "protocol_id": protocol("iv_induction").id,
            "day": [day.isoformat() for day in days],
            "csrf_token": csrf_token(staff, path),
        },
    )


def test_a_stale_series_answers_409_and_keeps_the_days(app, world):
    referral = _accepted(world)
    monday = next_weekday(0)
    response = _book(app, world, referral, referral.version - 1, [monday])
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "was changed by" in html
    assert DAY_INPUT.findall(html) == [monday.isoformat()]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_closed_referral_cannot_be_scheduled(app, world):
    referral = _accepted(world)
    change_state(
        referral,
        State.CANCELLED,
        actor=world.coordinator,
        expected_version=referral.version,
        reason="Moved away.",
    )
    db.session.commit()
    response = _book(app, world, referral, referral.version, [next_weekday(0)])
    assert response.status_code == 422
    assert "A referral that is cancelled cannot be scheduled." in response.get_data(as_text=True)


def test_move_cancel_no_show_and_add(app, world):
    referral = _accepted(world)
    monday = next_weekday(0)
    past = date.today() - timedelta(days=1)
    first, second = book(referral, world.coordinator, [monday, monday + timedelta(days=2)])
    db.session.commit()
    staff = _staff(app, world.coordinator)
    token = csrf_token(staff, "/")
    friday = monday + timedelta(days=4)
    staff.post(
        f"/scheduling/appointments/{first.id}/move",
        data={"version": first.version, "day": friday.isoformat(), "csrf_token": token},
    )
    staff.post(
        f"/scheduling/appointments/{second.id}/cancel",
        data={"version": second.version, "reason": "Patient has the flu", "csrf_token": token},
    )
    db.session.expire_all()
    assert db.session.get(Appointment, first.id).day == friday
    assert db.session.get(Appointment, second.id).status == "cancelled"
    # A stale form is refused.
    response = staff.post(
        f"/scheduling/appointments/{first.id}/move",
        data={"version": first.version - 1, "day": monday.isoformat(), "csrf_token": token},
        follow_redirects=True,
    )
    assert "Someone else changed this appointment" in response.get_data(as_text=True)
    # Yesterday's visit (booked directly, as if made before) becomes a no-show event.
    missed = appointment_on(referral, past, world.coordinator)
    db.session.commit()
    staff.post(
        f"/scheduling/appointments/{missed.id}/no-show",
        data={"version": missed.version, "csrf_token": token},
    )
    detail = staff.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Missed appointment (no-show)" in detail
    assert "Patient has the flu" in detail
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "scheduled"  # no-show is not a state
    staff.post(
        f"/scheduling/referrals/{referral.id}/add",
        data={
            "version": db.session.get(Referral, referral.id).version,
            "day": (friday + timedelta(days=3)).isoformat(),
            "csrf_token": token,
        },
    )
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 4


def test_day_view_shows_chairs_and_what_is_missing(app, world):
    iv = _accepted(world, first_name="Ivy")
    spravato = accepted_referral(world.referrer, world.coordinator, world.clinician)
    spravato.course.modality = "spravato"
    spravato.patient.first_name = "Sera"
    monday = next_weekday(0)
    (visit,) = book(iv, world.coordinator, [monday])
    book(spravato, world.coordinator, [monday], code="spravato_label")
    visit.escort_confirmed = visit.instructions_given = True
    db.session.commit()
    html = _staff(app, world.clinician).get(f"/scheduling/day?date={monday}").get_data(as_text=True)
    assert "2 visits on 6 chairs" in html
    assert "Ivy Testpatient" in html
    assert "Sera Testpatient" in html
    listed = html.split('id="list-h"')[1]
    sera = listed.split("Sera Testpatient")[1].split("</tr>")[0]
    assert "REMS enrolment missing" in sera
    assert "Escort not confirmed" in sera
    ivy = listed.split("Ivy Testpatient")[1].split("</tr>")[0]
    assert "Nothing: ready" in ivy


def test_ics_feed_has_numbers_and_initials_never_names_and_can_be_revoked(app, world):
    referral = _accepted(world, first_name="Quentin", last_name="Lovelace")
    book(referral, world.coordinator, [next_weekday(0)])
    db.session.commit()
    admin = _staff(app, world.admin)
    page = admin.post(
        "/scheduling/settings/calendar",
        data={"csrf_token": csrf_token(admin, "/scheduling/settings")},
    ).get_data(as_text=True)
    link = re.search(r'class="secret">http://[^/]+(/calendar/[^<]+\.ics)<', page).group(1)
    anonymous = app.test_client()
    feed = anonymous.get(link)
    text = feed.get_data(as_text=True)
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    assert f"SUMMARY:{referral.number} Q.L. IV ketamine" in text
    assert "Quentin" not in text
    assert "Lovelace" not in text
    stored = clinic_schedule(world.clinic.id).calendar_token_hash
    assert stored
    assert stored not in link
    admin.post(
        "/scheduling/settings/calendar",
        data={"action": "revoke", "csrf_token": csrf_token(admin, "/scheduling/settings")},
    )
    assert anonymous.get(link).status_code == 404
    assert anonymous.get("/calendar/guess.ics").status_code == 404


def test_admin_edits_a_protocol_and_refuses_nonsense(app, world):
    custom = protocol("custom")
    db.session.commit()
    admin = _staff(app, world.admin)
    path = f"/scheduling/protocols/{custom.id}"
    token = csrf_token(admin, path)
    bad = admin.post(
        path,
        data={
            "name": "Custom",
            "phases-0-weeks": "3",
            "phases-0-per_week": "9",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    good = admin.post(
        path,
        data={
            "name": "Weekly boosters",
            "phases-0-weeks": "6",
            "phases-0-per_week": "1",
            "preferred_weekdays": ["1"],
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert "Weekly boosters" in good.get_data(as_text=True)
    db.session.expire_all()
    assert protocol("custom").phases == [{"weeks": 6, "per_week": 1, "every": 1}]
    assert _staff(app, world.coordinator).get(path).status_code == 404
