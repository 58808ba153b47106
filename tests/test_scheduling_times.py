"""Appointments with times, chairs and clinicians: durations and opening hours, no chair booked
twice, the clinician's supervision limit, proposals around closed and full days, moving,
sessions started from their appointment, session numbers, booking beyond the plan."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import clinic_today
from portal.extensions import db
from portal.referrals.models import Referral
from portal.scheduling.models import Appointment, AppointmentStatus, ClosedDate
from portal.scheduling.queries import propose_series
from portal.scheduling.service import (
    BeyondPlan,
    BookingConflict,
    VisitRequest,
    book_series,
    move_appointment,
)
from portal.scheduling.settings import chairs, clinic_schedule
from tests.conftest import csrf_token, force_login
from tests.factories import accepted_referral, document_sessions, next_weekday, protocol
from tests.factories.scheduling import one_chair_one_visit_a_day
from tests.session_helpers import clinician_client, iv_form, page_version


def _accepted(world, modality: str = "iv_ketamine", **kw) -> Referral:
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician, **kw)
    referral.course.modality = modality
    protocol("iv_induction")
    db.session.flush()
    return referral


def _book(referral, world, visits, **kw):
    return book_series(
        referral,
        visits,
        protocol=protocol("iv_induction"),
        actor=world.coordinator,
        expected_version=referral.version,
        **kw,
    )


def _open_every_day(clinic_id: int, opens="08:00", closes="17:00") -> None:
    settings = clinic_schedule(clinic_id)
    settings.treatment_weekdays = list(range(7))
    settings.opening_hours = {str(d): [opens, closes] for d in range(7)}
    db.session.flush()


def test_durations_follow_the_treatment_and_fit_the_opening_hours(app, world):
    monday = next_weekday(0)
    iv = _accepted(world, first_name="Ivy")
    spravato = _accepted(world, "spravato", first_name="Sera")
    (visit,) = _book(iv, world, [monday], preferred=time(9, 0))
    assert (visit.start_time, visit.end_time) == (time(9, 0), time(10, 40))  # 40 + 60 minutes
    # SPRAVATO holds its chair 15 + 120 minutes; asked for 16:00 in a clinic closing at 17:00,
    # the visit goes to the latest start that still ends by closing time.
    (late,) = _book(spravato, world, [monday], preferred=time(16, 0))
    assert (late.start_time, late.end_time) == (time(14, 45), time(17, 0))
    # Changing a duration in the settings changes the next booking.
    clinic_schedule(world.clinic.id).spravato_monitoring_minutes = 150
    other = _accepted(world, "spravato", first_name="Otto")
    (longer,) = _book(other, world, [monday], preferred=time(8, 0))
    assert (longer.start_time, longer.end_time) == (time(8, 0), time(10, 45))


def test_a_chair_is_never_booked_twice_and_a_typed_slot_that_is_taken_is_refused(app, world):
    _open_every_day(world.clinic.id, "08:00", "12:00")
    for chair in chairs(world.clinic.id)[1:]:
        chair.active = False
    monday = next_weekday(0)
    first, second, third = (_accepted(world, first_name=n) for n in ("Ann", "Bea", "Cal"))
    (a,) = _book(first, world, [monday], preferred=time(8, 0))
    (b,) = _book(second, world, [monday], preferred=time(8, 0))
    assert a.chair_id == b.chair_id
    assert b.start_time >= a.end_time  # the one chair: one after the other
    chair_id = a.chair_id
    with pytest.raises(BookingConflict, match="Chair 1 is taken at 09:00-10:40"):
        _book(third, world, [VisitRequest(monday, time(9, 0), chair_id)])
    with pytest.raises(BookingConflict, match="outside the opening hours"):
        _book(third, world, [VisitRequest(monday, time(11, 0), chair_id)])
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 2


def test_one_clinician_supervises_only_as_many_patients_as_the_clinic_allows(app, world):
    monday = next_weekday(0)
    settings = clinic_schedule(world.clinic.id)
    settings.chairs_per_clinician = 1
    referrals = [_accepted(world, "spravato", first_name=n) for n in ("Ann", "Bea")]
    (a,) = _book(referrals[0], world, [monday], preferred=time(9, 0))
    (b,) = _book(referrals[1], world, [monday], preferred=time(9, 0))
    assert a.chair_id != b.chair_id or b.start_time >= a.end_time
    assert b.start_time >= a.end_time  # free chairs, but the clinician is busy until 11:15
    settings.chairs_per_clinician = 2
    third = _accepted(world, "spravato", first_name="Cal")
    (c,) = _book(third, world, [monday], preferred=time(9, 0))
    assert c.start_time == time(9, 0)


def test_clinician_hours_limit_the_days_they_are_booked(app, world):
    from portal.scheduling.settings_service import set_clinician_hours

    set_clinician_hours(
        world.clinic.id, world.clinician.id, [1, 3], time(8), time(13), actor=world.admin
    )
    referral = _accepted(world)
    monday = next_weekday(0)
    with pytest.raises(BookingConflict, match="the clinician does not work that day"):
        _book(referral, world, [monday])
    (tuesday,) = _book(referral, world, [monday + timedelta(days=1)], preferred=time(12, 0))
    assert tuesday.end_time <= time(13, 0)


def test_a_series_proposal_goes_around_a_closed_day_and_a_full_day(app, world):
    one_chair_one_visit_a_day(world.clinic.id)
    monday = next_weekday(0)
    wednesday = monday + timedelta(days=2)
    db.session.add(ClosedDate(clinic_id=world.clinic.id, day=wednesday, reason="Staff training"))
    _book(_accepted(world, first_name="Early"), world, [monday])  # Monday is now full
    referral = _accepted(world, first_name="Late")
    visits = propose_series(referral, protocol("iv_induction"), monday, preferred=time(8, 0))
    days = [v.day for v in visits]
    assert len(days) == 6
    assert monday not in days
    assert wednesday not in days
    notes = " ".join(v.note for v in visits)
    assert "no chair is free for 100 minutes" in notes
    assert "closed (Staff training)" in notes
    assert all(v.slot and v.slot.start.time() == time(8, 0) for v in visits)
    # The proposal is booked whole.
    booked = _book(referral, world, days)
    assert [a.day for a in booked] == days


def test_a_series_is_booked_whole_or_not_at_all(app, world):
    one_chair_one_visit_a_day(world.clinic.id)
    monday = next_weekday(0)
    _book(_accepted(world, first_name="Early"), world, [monday + timedelta(days=2)])
    referral = _accepted(world)
    with pytest.raises(BookingConflict) as refused:
        _book(referral, world, [monday, monday + timedelta(days=2), monday + timedelta(days=4)])
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(f"{monday + timedelta(days=2):%a %d %b %Y}")
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert referral.state == "accepted"


def test_moving_a_visit_frees_its_chair_for_others_and_can_move_the_rest(app, world):
    one_chair_one_visit_a_day(world.clinic.id)
    monday = next_weekday(0)
    referral = _accepted(world)
    visits = _book(referral, world, [monday, monday + 2 * DAY, monday + 3 * DAY])
    other = _accepted(world, first_name="Other")
    with pytest.raises(BookingConflict):
        _book(other, world, [monday])
    # The patient is ill on Monday: that visit and the later ones move by one day.
    moved = move_appointment(
        visits[0],
        monday + DAY,
        actor=world.coordinator,
        expected_version=visits[0].version,
        with_later=True,
    )
    assert [a.day for a in moved] == [monday + DAY, monday + 3 * DAY, monday + 4 * DAY]
    assert all(a.start_time == time(8, 0) for a in moved)
    (taken,) = _book(other, world, [monday])  # Monday's chair is free again
    assert taken.day == monday


DAY = timedelta(days=1)


def test_booking_more_sessions_than_planned_warns_and_needs_a_reason(app, world):
    _open_every_day(world.clinic.id)
    referral = _accepted(world)
    start = next_weekday(0)
    _book(referral, world, [start + i * DAY for i in range(6)])
    with pytest.raises(BeyondPlan, match="7 sessions for a course planned for 6"):
        _book(referral, world, [start + 6 * DAY])
    (extra,) = _book(referral, world, [start + 6 * DAY], beyond_plan_reason="Booster agreed")
    assert extra.day == start + 6 * DAY
    events = [e.reason for e in referral.events if e.kind == "appointments_booked"]
    assert "7 sessions for 6 planned: Booster agreed" in events[-1]


def test_the_page_asks_for_a_reason_before_booking_beyond_the_plan(app, world):
    _open_every_day(world.clinic.id)
    referral = _accepted(world)
    document_sessions(referral, world.clinician, 5)
    db.session.commit()
    staff = app.test_client()
    force_login(staff, world.coordinator)
    path = f"/scheduling/referrals/{referral.id}"
    html = staff.get(
        f"{path}/propose",
        query_string={"protocol_id": protocol("iv_induction").id, "start": next_weekday(0)},
    ).get_data(as_text=True)
    assert "This books 11 sessions for a course planned for 6." in html
    assert 'name="beyond_plan_reason"' in html


def _start_session_from(client, referral, appointment, **overrides):
    path = f"/treatment/referrals/{referral.id}/sessions/new?appointment={appointment.id}"
    page = client.get(path).get_data(as_text=True)
    version = page_version(client, path)
    response = client.post(
        path,
        data={
            "version": version,
            "csrf_token": csrf_token(client, path),
            **iv_form(session_date=appointment.day.isoformat(), **overrides),
        },
    )
    return page, response


def test_documenting_from_an_appointment_marks_it_attended_with_the_courses_number(app, world):
    _open_every_day(world.clinic.id)
    referral = _accepted(world)
    today = clinic_today()
    document_sessions(referral, world.clinician, 2, start=today - timedelta(days=10))
    (visit,) = _book(referral, world, [today], preferred=time(8, 0))
    db.session.commit()
    client = clinician_client(app, world)
    day = client.get(f"/scheduling/day?date={today}").get_data(as_text=True)
    assert "Session 3 of 6" in day  # 2 of 6 done: this visit is the third
    assert "Visit 1 of" not in day
    assert f"sessions/new?appointment={visit.id}" in day  # Start session
    course = client.get(f"/treatment/referrals/{referral.id}/course").get_data(as_text=True)
    assert f"sessions/new?appointment={visit.id}" in course  # and on the course page
    page, response = _start_session_from(client, referral, visit, escort_confirmed="y")
    assert "Document session 3 of 6" in page
    assert "saving marks it attended" in page
    assert response.status_code == 302
    db.session.expire_all()
    visit = db.session.get(Appointment, visit.id)
    assert visit.status == AppointmentStatus.ATTENDED
    assert visit.session_id is not None
    assert visit.escort_confirmed  # confirmed on the session: the same fact on the visit
    timeline = [e.reason for e in db.session.get(Referral, referral.id).events]
    assert "Session 3 of 6 documented." in timeline
    day = client.get(f"/scheduling/day?date={today}").get_data(as_text=True)
    assert "Attended" in day
    assert "Session 3 of 6" in day
    # The same visit cannot start a second session.
    again = client.get(f"/treatment/referrals/{referral.id}/sessions/new?appointment={visit.id}")
    assert again.status_code == 404


def test_a_past_visit_without_an_outcome_is_flagged_on_the_day_view(app, world):
    from tests.factories.scheduling import appointment_on

    referral = _accepted(world)
    yesterday = clinic_today() - DAY
    appointment_on(referral, yesterday, world.coordinator)
    db.session.commit()
    client = clinician_client(app, world)
    html = client.get(f"/scheduling/day?date={yesterday}").get_data(as_text=True)
    assert "Needs an outcome" in html


def test_day_grid_print_and_week_show_times_chairs_and_only_initials_in_print(app, world):
    monday = next_weekday(0)
    referral = _accepted(world, first_name="Quentin", last_name="Lovelace")
    _book(referral, world, [monday], preferred=time(10, 30))
    db.session.commit()
    staff = app.test_client()
    force_login(staff, world.coordinator)
    day = staff.get(f"/scheduling/day?date={monday}").get_data(as_text=True)
    grid = day.split('class="day-grid"')[1].split("</table>")[0]
    assert '<th scope="col">Chair 1</th>' in grid
    assert 'rowspan="7"' in grid  # 10:30-12:10: seven quarter-hour rows
    assert "10:30–12:10" in grid
    assert f"{referral.number}</a> Q.L." in grid
    printed = staff.get(f"/scheduling/day/print?date={monday}").get_data(as_text=True)
    sheet = printed.split('class="print-sheet"')[1]
    assert referral.number in sheet
    assert "Q.L." in sheet
    assert "Quentin" not in sheet
    assert "Lovelace" not in sheet
    week = staff.get(f"/scheduling/week?date={monday + 2 * DAY}").get_data(as_text=True)
    assert "10:30" in week
    assert referral.number in week
    other = staff.get(
        f"/scheduling/week?date={monday}&clinician={world.clinician.id + 1000}"
    ).get_data(as_text=True)
    assert referral.number in other  # an unknown clinician filter shows everyone


def test_admin_sets_hours_chairs_and_durations(app, world):
    from tests.factories.scheduling import settings_payload

    admin = app.test_client()
    force_login(admin, world.admin)
    path = "/scheduling/settings"
    bad = admin.post(
        path,
        data={
            **settings_payload(**{"days-0-opens": "18:00"}),
            "csrf_token": csrf_token(admin, path),
        },
    )
    assert bad.status_code == 422
    assert "Monday: give an opening time before the closing time." in bad.get_data(as_text=True)
    good = admin.post(
        path,
        data={
            **settings_payload(
                chair_names="Chair 1\nRoom B\nRoom C",
                spravato_monitoring_minutes="130",
                **{"days-5-open": "y", "days-5-opens": "09:00", "days-5-closes": "13:00"},
            ),
            "csrf_token": csrf_token(admin, path),
        },
        follow_redirects=True,
    )
    assert "Scheduling settings saved." in good.get_data(as_text=True)
    settings = clinic_schedule(world.clinic.id)
    db.session.refresh(settings)
    assert settings.treatment_weekdays == [0, 1, 2, 3, 4, 5]
    assert settings.opening_hours["5"] == ["09:00", "13:00"]
    assert settings.spravato_monitoring_minutes == 130
    assert [c.name for c in chairs(world.clinic.id)] == ["Chair 1", "Room B", "Room C"]


def test_the_referrer_sees_the_next_appointment_with_its_time(app, world):
    referral = _accepted(world)
    monday = next_weekday(0)
    _book(referral, world, [monday, monday + 2 * DAY], preferred=time(13, 0))
    db.session.commit()
    referrer = app.test_client()
    force_login(referrer, world.referrer)
    dashboard = referrer.get("/referrals/").get_data(as_text=True)
    row = dashboard.split(referral.number)[1].split("</tr>")[0]
    assert f"{monday:%a %d %b %Y}" in row
    assert "13:00" in row
    page = referrer.get(f"/referrals/{referral.id}").get_data(as_text=True)
    words = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert f"Next appointments: {monday:%a %d %b %Y} at 13:00" in words
    assert f"{monday + 2 * DAY:%a %d %b %Y} at 13:00" in words
