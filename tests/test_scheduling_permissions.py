"""Triage's and scheduling's permissions: `can` agrees with what the referral page offers, a
closed date belongs to its clinic's administrators, and what `can` does not know is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.pages.referral import referral_page_context
from portal.referrals.permissions import can_view_referral
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.roles import Role
from portal.scheduling import permissions as scheduling
from portal.scheduling.models import ClosedDate
from portal.triage import permissions as triage
from tests.conftest import csrf_token, force_login
from tests.factories import (
    accepted_referral,
    book,
    create_referral,
    create_user,
    document_sessions,
    next_weekday,
    questioned_referral,
)

USERS = ("referrer", "colleague", "other_referrer", "coordinator", "clinician", "admin")


def _referrals(world) -> list:
    """A referral in each stage the clinic sees: sent, in review, asked, accepted, scheduled,
    in treatment, and one cancelled after it was accepted (a course, but closed)."""
    sent = create_referral(world.referrer)
    in_review = create_referral(world.referrer)
    change_state(
        in_review, State.IN_REVIEW, actor=world.coordinator, expected_version=in_review.version
    )
    asked = questioned_referral(world.referrer, world.coordinator, "Which trials?")
    accepted = accepted_referral(world.referrer, world.coordinator, world.clinician)
    scheduled = accepted_referral(world.referrer, world.coordinator, world.clinician)
    book(scheduled, world.coordinator, [next_weekday(0)])
    treated = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(treated, world.clinician, 1)
    cancelled = accepted_referral(world.referrer, world.coordinator, world.clinician)
    change_state(
        cancelled,
        State.CANCELLED,
        actor=world.coordinator,
        expected_version=cancelled.version,
        reason="Moved away.",
    )
    db.session.flush()
    assert treated.state == State.IN_TREATMENT
    return [sent, in_review, asked, accepted, scheduled, treated, cancelled]


def test_can_agrees_with_the_referral_page(app, world):
    referrals = _referrals(world)
    with app.test_request_context():
        for referral in referrals:
            for name in USERS:
                user = getattr(world, name)
                if not can_view_referral(user, referral):
                    continue
                page = referral_page_context(referral, user)
                where = (referral.state, name)
                assert scheduling.can(user, referral, "schedule") == page["can_schedule"], where
                assert triage.can(user, referral, "screen") == page["can_screen"], where


def test_other_clinics_staff_may_neither_screen_nor_schedule(world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    assert scheduling.can(world.coordinator, referral, "schedule")
    assert triage.can(world.coordinator, referral, "screen")
    assert not scheduling.can(world.other_staff, referral, "schedule")
    assert not triage.can(world.other_staff, referral, "screen")


def test_what_can_does_not_know_is_refused(world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    closed = ClosedDate(clinic_id=world.clinic.id, day=next_weekday(2), reason="")
    db.session.add(closed)
    db.session.flush()
    assert scheduling.can(world.admin, closed, "delete")
    assert not scheduling.can(world.admin, closed, "edit")
    assert not scheduling.can(world.coordinator, referral, "delete")
    assert not triage.can(world.coordinator, referral, "decide")


@pytest.mark.parametrize("other_clinic", [True, False])
def test_a_closed_date_is_reopened_by_its_own_clinics_admin_only(app, world, other_clinic):
    day = next_weekday(2) + timedelta(days=7)
    closed = ClosedDate(clinic_id=world.clinic.id, day=day, reason="Staff training")
    db.session.add(closed)
    clinic_id = world.other_clinic.id if other_clinic else world.clinic.id
    admin = create_user(Role.ADMIN, clinic_id=clinic_id, credentials="")
    db.session.commit()
    closed_id = closed.id
    client = app.test_client()
    force_login(client, admin)
    response = client.post(
        f"/scheduling/settings/closed/{closed_id}/delete",
        data={"csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == (404 if other_clinic else 302)
    db.session.expire_all()
    assert (db.session.get(ClosedDate, closed_id) is None) != other_clinic
