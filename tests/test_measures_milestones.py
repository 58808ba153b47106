"""referral_milestone stays in step with what it summarises after every kind of change (each
through the real service, the clock moved), and the measures page costs the same number of
SQL statements however many referrals there are."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, select

from portal.extensions import db as _db
from portal.letters.service import mark_downloaded
from portal.measures.milestones import rebuild, source_query
from portal.measures.models import ReferralMilestone
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.treatment.service import complete_course, end_course_early
from portal.triage.service import accept_referral, open_for_review
from tests.conftest import force_login
from tests.factories import create_referral, stored_letter
from tests.measures_history import at, build, sessions, travel, treat, visits


def stored() -> list[tuple]:
    table = ReferralMilestone.__table__
    rows = _db.session.execute(select(table).order_by(table.c.referral_id))
    return [tuple(row) for row in rows]


def worked_out() -> list[tuple]:
    query = source_query().subquery()
    return [tuple(row) for row in _db.session.execute(select(query).order_by(query.c[0]))]


def row_of(referral) -> ReferralMilestone:
    _db.session.expire_all()
    return _db.session.get(ReferralMilestone, referral.id)


def assert_in_step() -> None:
    _db.session.flush()
    assert stored() == worked_out()


def test_each_change_of_state_keeps_the_milestones_in_step(app, world):
    with app.test_request_context():
        with travel(date(2026, 10, 2)):
            referral = create_referral(world.referrer, urgency="urgent")
            declined = create_referral(world.referrer)
            questioned = create_referral(world.colleague)
            cancelled = create_referral(world.referrer)
        assert_in_step()
        row = row_of(referral)
        assert (row.state, row.urgency, row.received_at) == (
            State.SUBMITTED,
            "urgent",
            at(date(2026, 10, 2)),
        )
        assert row.decided_at is None
        assert row.sessions_done == 0

        with travel(date(2026, 10, 5)):
            for r in (referral, declined, questioned):
                open_for_review(r, actor=world.coordinator, expected_version=r.version)
            change_state(
                declined, State.DECLINED, actor=world.coordinator,
                expected_version=declined.version, reason="Outside the label.",
            )  # fmt: skip
            change_state(
                questioned, State.NEEDS_INFO, actor=world.coordinator,
                expected_version=questioned.version, reason="Which trials?",
            )  # fmt: skip
            change_state(
                cancelled, State.CANCELLED, actor=world.referrer,
                expected_version=cancelled.version, reason="The patient moved.",
            )  # fmt: skip
        assert_in_step()
        assert row_of(declined).decided_at == at(date(2026, 10, 5))
        assert row_of(questioned).decided_at == at(date(2026, 10, 5))
        assert row_of(questioned).accepted_at is None
        assert row_of(cancelled).state == State.CANCELLED

        with travel(date(2026, 10, 6)):
            accept_referral(
                referral, actor=world.coordinator, expected_version=referral.version,
                modality="spravato", clinician=world.clinician, planned_sessions=2,
            )  # fmt: skip
        assert_in_step()
        row = row_of(referral)
        assert (row.decided_at, row.accepted_at) == (at(date(2026, 10, 6)), at(date(2026, 10, 6)))
        assert (row.modality, row.planned, row.course_id) == ("spravato", 2, referral.course.id)

        with travel(date(2026, 10, 9)):
            sessions(referral, world.clinician, [date(2026, 10, 8)])
        assert_in_step()
        row = row_of(referral)
        assert (row.first_session_on, row.sessions_done, row.induction_end_on) == (
            date(2026, 10, 8), 1, None,
        )  # fmt: skip
        assert row.last_session_on == date(2026, 10, 8)

        with travel(date(2026, 10, 13)):
            sessions(referral, world.clinician, [date(2026, 10, 12), date(2026, 10, 13)])
            complete_course(
                referral.course, actor=world.clinician, expected_version=referral.version,
                ended_on=date(2026, 10, 13),
            )  # fmt: skip
        assert_in_step()
        row = row_of(referral)
        assert (row.sessions_done, row.induction_end_on, row.state) == (
            3, date(2026, 10, 12), State.COMPLETED,
        )  # fmt: skip
        assert row.last_session_on == date(2026, 10, 13)

        with travel(date(2026, 10, 16)):
            letter = stored_letter(referral, world.clinician)
        assert_in_step()
        assert row_of(referral).summary_signed_at == at(date(2026, 10, 16))
        with travel(date(2026, 10, 19)):
            mark_downloaded(letter, actor=world.referrer)
        assert_in_step()
        assert row_of(referral).opened_at == at(date(2026, 10, 19))

        # A session removed (a correction) counts no more.
        _db.session.delete(referral.course.sessions[-1])
        assert_in_step()
        assert (row_of(referral).sessions_done, row_of(referral).last_session_on) == (
            2, date(2026, 10, 12),
        )  # fmt: skip


def test_a_course_ended_early_and_the_known_history_stay_in_step(app, world):
    with app.test_request_context():
        h = build(world)
        treat(world, h)
        visits(world, h)
        assert_in_step()
        started = h.accepted[3]
        with travel(date(2026, 11, 20)):
            end_course_early(
                started.course, actor=world.clinician, expected_version=started.version,
                reason="Moved away.", ended_on=date(2026, 11, 20),
            )  # fmt: skip
        assert_in_step()
        assert row_of(started).state == State.CANCELLED
        # The backfill's way (every row again) gives the same rows as the flushes made.
        before = stored()
        rebuild(_db.session.connection())
        assert stored() == before


def test_a_draft_has_no_milestones_and_a_rollback_takes_them_back(app, world):
    from portal.referrals.intake import draft_for_key, new_form_key

    with app.test_request_context():
        draft = draft_for_key(new_form_key(), world.referrer)
        _db.session.flush()
        assert row_of(draft) is None
        _db.session.commit()
        referral = create_referral(world.referrer)
        _db.session.flush()
        referral_id = referral.id
        assert row_of(referral) is not None
        _db.session.rollback()
        assert _db.session.get(ReferralMilestone, referral_id) is None


@contextmanager
def counted():
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)


PAGES = [
    "/measures/?start=2026-10-01&end=2026-11-20",
    "/measures/?start=2026-01-01&end=2026-11-20",
    "/measures/mine",
]


def statements_per_page(app, world) -> list[int]:
    """SQL statements of each page's second request (the first loads the templates); each
    page with its own client signed in at its own moment of the day."""
    counts = []
    for hour, path in enumerate(PAGES, start=15):
        with travel(date(2026, 11, 20), hour):
            client = app.test_client()
            force_login(client, world.referrer if path.endswith("mine") else world.coordinator)
            client.get(path)
            with counted() as statements:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            counts.append(len(statements))
    return counts


@pytest.mark.usefixtures("new_york")
def test_statements_per_page_stay_the_same_as_data_grows(app, world):
    with app.test_request_context():
        h = build(world)
        treat(world, h)
        _db.session.commit()
    few = statements_per_page(app, world)
    with app.test_request_context():
        more = build(world)  # as many again, with their events, sessions and scores
        treat(world, more)
        visits(world, more)
        _db.session.commit()
    assert statements_per_page(app, world) == few


@pytest.fixture
def new_york(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
