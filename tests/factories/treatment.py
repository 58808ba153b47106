"""Documented sessions, scales with their safety alerts, and SPRAVATO courses, through the
real services."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from portal.auth.models import User
from portal.extensions import db
from portal.referrals.models import Referral
from portal.treatment.service import SessionRecord, record_session
from portal.triage.service import accept_referral, open_for_review
from tests.factories.referrals import create_referral


def document_sessions(
    referral: Referral,
    clinician: User,
    count: int,
    start: date | None = None,
    phq9: list[list[int]] | None = None,
) -> None:
    start = start or date.today() - timedelta(days=3 * count)
    for i in range(count):
        answers = phq9[i] if phq9 else [1, 1, 1, 1, 1, 1, 0, 0, 0]
        record_session(
            referral.course,
            SessionRecord(
                session_date=start + timedelta(days=3 * i),
                modality="iv_ketamine",
                dose_mg=Decimal("35"),
                bp_pre=(120, 80),
                bp_post=(138, 88),
                phq9_answers=answers,
            ),
            actor=clinician,
            expected_version=referral.version,
        )


def phq9_with_item9(referral: Referral, clinician: User, item9: int = 1):
    """A PHQ-9 recorded on its own date with item 9 above 0: returns the safety alert raised."""
    from portal.treatment.assessments import add_assessment

    assessment = add_assessment(
        referral, "PHQ-9", [1] * 8 + [item9], taken_on=date.today(), actor=clinician
    )
    from portal.treatment.alerts import open_alerts

    return next(a for a in open_alerts(referral) if a.assessment_id == assessment.id)


def spravato_referral(referrer: User, coordinator: User, clinician: User, *, enrolled=True):
    """A referral accepted for SPRAVATO, its patient enrolled in the REMS (or not)."""
    referral = create_referral(referrer, requested_modality="spravato")
    open_for_review(referral, actor=coordinator, expected_version=referral.version)
    accept_referral(
        referral,
        actor=coordinator,
        expected_version=referral.version,
        modality="spravato",
        clinician=clinician,
        planned_sessions=8,
    )
    if enrolled:
        referral.patient.rems_enrolled_on = date.today() - timedelta(days=30)
    db.session.flush()
    return referral


def spravato_session(referral: Referral, clinician: User, day: date | None = None, **overrides):
    """A documented (unsigned) SPRAVATO session through the real service."""
    values = {
        "session_date": day or date.today(),
        "modality": "spravato",
        "dose_mg": Decimal("56"),
        "bp_pre": (128, 82),
        "bp_post": (138, 86),
        "phq9_answers": None,
        "spravato_dose": "56",
        "devices_used": 2,
        "lot_number": "LOT-77",
        "bp_leave": (124, 80),
        "vitals_ok_before": True,
        "vitals_ok_leaving": True,
        "sedation": False,
        "dissociation": True,
        "respiratory_depression": False,
        "serious_adverse_events": False,
        "monitoring_minutes": 125,
        "concomitant_medications": ["benzodiazepines"],
    }
    return record_session(
        referral.course,
        SessionRecord(**(values | overrides)),
        actor=clinician,
        expected_version=referral.version,
    )
