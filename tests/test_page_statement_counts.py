"""Each page that shows a growing list costs the same statements for N rows and for about 3N:
the referrer's dashboard, the referral page (events, messages, attachments, letters), the
course page, the audit viewer, the day view and the clinic's queue."""

from __future__ import annotations

from datetime import date, timedelta

from portal.audit.service import record
from portal.extensions import db
from portal.messages.service import post_message
from portal.referrals.service import add_event
from tests.conftest import signed_in
from tests.factories import (
    accepted_referral,
    create_referral,
    create_user,
    document_sessions,
    next_weekday,
    stored_attachment,
    stored_letter,
)
from tests.factories.scheduling import appointment_on
from tests.statement_count import assert_same_cost, page_statements


def _dashboard_rows(world, n: int, start: int) -> None:
    """n referrals of the referrer in every kind of row: sent, in care with sessions and
    PHQ-9 scores, with a letter, a message and a booked visit."""
    colleague = world.referrer
    for i in range(n):
        referral = create_referral(colleague, first_name=f"Pat{start + i}")
        if i % 3 == 0:
            continue
        referral = accepted_referral(
            colleague, world.coordinator, world.clinician, first_name=f"Cared{start + i}"
        )
        document_sessions(referral, world.clinician, 1 + i % 2)
        post_message(referral, "Seen today.", actor=world.coordinator)
        stored_letter(referral, world.clinician)
        # One chair: each visit in a week of its own (PostgreSQL refuses overlapping visits).
        week = date.today() + timedelta(days=7 * (start + i + 1))
        appointment_on(referral, next_weekday(1, week), world.clinician)
    db.session.commit()


def test_the_dashboard_costs_the_same_for_three_times_the_referrals(app, world):
    client = signed_in(app, world.referrer)
    _dashboard_rows(world, 4, 0)
    client.get("/referrals/")  # the first visit may store defaults
    small = page_statements(client, "/referrals/")
    small_group = page_statements(client, "/referrals/?show=active")
    _dashboard_rows(world, 9, 100)
    assert_same_cost(small, page_statements(client, "/referrals/"))
    assert_same_cost(small_group, page_statements(client, "/referrals/?show=active"))


def _referral_page_history(referral, world, n: int, first: int) -> None:
    for i in range(first, first + n):
        add_event(referral, "intake_updated", actor=world.referrer)
        post_message(referral, f"Note {i}", actor=[world.coordinator, world.referrer][i % 2])
        stored_attachment(referral, world.referrer)
        stored_letter(referral, world.clinician, kind="interim_progress", sequence=i + 1)
    db.session.commit()


def test_the_referral_page_costs_the_same_for_three_times_its_history(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    _referral_page_history(referral, world, 2, 0)
    path = f"/referrals/{referral.id}"
    clients = {who: signed_in(app, who) for who in (world.referrer, world.coordinator)}
    for client in clients.values():
        client.get(path)  # the first visit marks the thread seen
    small = {who: page_statements(c, path) for who, c in clients.items()}
    _referral_page_history(referral, world, 6, 2)
    document_sessions(referral, world.clinician, 3, start=date.today() - timedelta(days=30))
    db.session.commit()
    for who, client in clients.items():
        client.get(path)  # the new messages are marked seen on the first visit again
        assert_same_cost(small[who], page_statements(client, path))


def test_the_course_page_costs_the_same_for_three_times_the_sessions(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2, start=date.today() - timedelta(days=40))
    db.session.commit()
    client = signed_in(app, world.clinician)
    path = f"/treatment/referrals/{referral.id}/course"
    small = page_statements(client, path)
    document_sessions(referral, world.clinician, 4, start=date.today() - timedelta(days=20))
    db.session.commit()
    assert_same_cost(small, page_statements(client, path))


def test_the_course_list_costs_the_same_for_three_times_the_courses(app, world):
    def courses(n: int) -> None:
        for _ in range(n):
            referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
            document_sessions(referral, world.clinician, 1)
        db.session.commit()

    courses(2)
    client = signed_in(app, world.clinician)
    small = page_statements(client, "/treatment/")
    courses(4)
    assert_same_cost(small, page_statements(client, "/treatment/"))


def test_the_audit_viewer_costs_the_same_for_three_times_the_trail(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    admin = create_user("admin")
    db.session.commit()
    client = signed_in(app, admin)
    people = [world.coordinator, world.clinician, world.referrer, admin]

    def trail(n: int) -> None:
        for i in range(n):
            record("referral.view", "referral", referral.id, actor=people[i % len(people)])
        db.session.commit()

    trail(60)
    small = page_statements(client, "/admin/audit")
    small_filtered = page_statements(client, "/admin/audit?action=referral.view")
    trail(180)
    assert_same_cost(small, page_statements(client, "/admin/audit"))
    assert_same_cost(small_filtered, page_statements(client, "/admin/audit?action=referral.view"))


def test_the_day_view_costs_the_same_for_three_times_the_visits(app, world):
    day = next_weekday(2, date.today() + timedelta(days=7))
    # 100-minute visits in one chair, one after another (PostgreSQL refuses overlaps).
    times = ("08:00", "09:45", "11:30", "13:15", "15:00", "16:45")

    def visits(n: int, first: int) -> None:
        for i in range(first, first + n):
            referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
            appointment_on(referral, day, world.coordinator, at=times[i])
        db.session.commit()

    visits(2, 0)
    client = signed_in(app, world.coordinator)
    path = f"/scheduling/day?date={day.isoformat()}"
    client.get(path)  # the first visit stores the clinic's default settings
    small = page_statements(client, path)
    visits(4, 2)
    assert_same_cost(small, page_statements(client, path))


def test_the_queue_costs_the_same_for_three_times_the_referrals(app, world):
    def sent(n: int) -> None:
        for i in range(n):
            create_referral(create_user("referrer"), first_name=f"Q{i}")
        db.session.commit()

    sent(5)
    client = signed_in(app, world.coordinator)
    client.get("/triage/")  # the first visit stores the clinic's default settings
    small = page_statements(client, "/triage/")
    sent(10)
    assert_same_cost(small, page_statements(client, "/triage/"))
