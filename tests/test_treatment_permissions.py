"""Who may see and document treatment: treatment.permissions and letters.permissions agree with
what the referral page offers, for every user and every stage of a referral."""

from __future__ import annotations

from datetime import date

import pytest

from portal.extensions import db as _db
from portal.letters import permissions as letter_permissions
from portal.pages.referral import referral_page_context
from portal.referrals.permissions import can_view_referral
from portal.treatment import permissions
from portal.treatment.service import complete_course, end_course_early
from tests.factories import (
    accepted_referral,
    create_referral,
    document_sessions,
    draft_letter,
    phq9_with_item9,
    stored_letter,
)

USERS = [
    "referrer",
    "colleague",
    "other_referrer",
    "coordinator",
    "clinician",
    "admin",
    "other_staff",
]


def _stages(world) -> dict:
    """A referral at each stage of its course."""
    w = world
    submitted = create_referral(w.referrer)
    accepted = accepted_referral(w.referrer, w.coordinator, w.clinician)
    treating = accepted_referral(w.referrer, w.coordinator, w.clinician)
    document_sessions(treating, w.clinician, 2)
    completed = accepted_referral(w.referrer, w.coordinator, w.clinician)
    document_sessions(completed, w.clinician, 2)
    complete_course(
        completed.course,
        actor=w.clinician,
        expected_version=completed.version,
        ended_on=date.today(),
    )
    ended = accepted_referral(w.referrer, w.coordinator, w.clinician)
    document_sessions(ended, w.clinician, 1)
    end_course_early(
        ended.course,
        actor=w.clinician,
        expected_version=ended.version,
        reason="Moved away.",
        ended_on=date.today(),
    )
    _db.session.commit()
    return {
        "submitted": submitted,
        "accepted": accepted,
        "treating": treating,
        "completed": completed,
        "ended": ended,
    }


@pytest.mark.parametrize("who", USERS)
def test_referral_actions_match_the_referral_page(app, world, who):
    user = getattr(world, who)
    for stage, referral in _stages(world).items():
        document = permissions.can(user, referral, "document")
        complete = permissions.can(user, referral, "complete")
        write = letter_permissions.can(user, referral, "write_letter")
        if not can_view_referral(user, referral):
            assert (document, complete, write) == (False, False, False), stage
            continue
        with app.test_request_context():
            page = referral_page_context(referral, user)
        expected = (page["can_document"], page["can_complete"], page["can_write_letter"])
        assert (document, complete, write) == expected, stage


@pytest.mark.parametrize("who", USERS)
def test_sessions_and_alerts_are_for_the_clinic_staff_and_documented_by_its_clinicians(world, who):
    user = getattr(world, who)
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    alert = phq9_with_item9(referral, world.clinician)
    session = referral.course.sessions[0]
    staff = who in {"coordinator", "clinician", "admin"}
    for obj in (referral.course, session, alert):
        assert permissions.can(user, obj, "view") is staff
        assert permissions.can(user, obj, "document") is (who == "clinician")
    assert permissions.documents_treatment(user) is (who == "clinician")


@pytest.mark.parametrize("who", USERS)
def test_signed_letters_are_for_whoever_sees_the_referral_drafts_for_its_clinicians(world, who):
    user = getattr(world, who)
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    signed = stored_letter(referral, world.clinician)
    draft = draft_letter(referral, world.clinician)
    sees = can_view_referral(user, referral)
    clinician = who == "clinician"
    assert letter_permissions.can(user, signed, "download") is sees
    assert letter_permissions.can(user, draft, "download") is clinician
    for action in ("update", "preview", "sign", "correct"):
        assert letter_permissions.can(user, signed, action) is clinician
        assert letter_permissions.can(user, draft, action) is clinician
    assert letter_permissions.can_correct(user, signed) is clinician
    assert letter_permissions.can_correct(user, draft) is False
