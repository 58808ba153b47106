"""Referrals sent through the real services, and the intake as a browser posts it."""

from __future__ import annotations

from datetime import date

from portal.auth.models import User
from portal.extensions import db
from portal.pages.submission import submit_referral
from portal.referrals.models import Referral
from portal.referrals.service import NewReferral
from portal.triage.service import accept_referral, open_for_review


def referral_data(**overrides) -> NewReferral:
    values = {
        "first_name": "Alexis",
        "last_name": "Testpatient",
        "date_of_birth": date(1980, 5, 17),
        "sex": "female",
        "diagnosis_code": "F33.2",
        "requested_modality": "iv_ketamine",
        "reason": "Two failed SSRI trials.",
        "urgency": "routine",
        "phq9_answers": [2, 2, 2, 2, 2, 2, 2, 2, 0],
    }
    return NewReferral(**(values | overrides))


def create_referral(referrer: User, **overrides) -> Referral:
    referral = submit_referral(referral_data(**overrides), actor=referrer)
    db.session.flush()
    return referral


def questioned_referral(referrer: User, coordinator: User, question: str, **overrides):
    """A sent referral the coordinator reviewed and asked the referrer about (needs_info)."""
    from portal.referrals.service import change_state

    referral = create_referral(referrer, **overrides)
    change_state(referral, "in_review", actor=coordinator, expected_version=referral.version)
    change_state(
        referral,
        "needs_info",
        actor=coordinator,
        expected_version=referral.version,
        reason=question,
    )
    return referral


def accepted_referral(referrer: User, coordinator: User, clinician: User, **overrides):
    referral = create_referral(referrer, **overrides)
    open_for_review(referral, actor=coordinator, expected_version=referral.version)
    accept_referral(
        referral,
        actor=coordinator,
        expected_version=referral.version,
        modality="iv_ketamine",
        clinician=clinician,
        planned_sessions=6,
    )
    return referral


def intake_form(**overrides) -> dict:
    """A complete intake as the browser would post it (action=submit); overrides replace
    fields, and None removes one."""
    from portal.referrals.intake import document_from
    from portal.referrals.intake_io import formdata_from_document

    fields = formdata_from_document(document_from(referral_data()))
    data = {k: (v if k == "diagnoses" else v[0]) for k, v in fields.items()}
    data["action"] = "submit"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
