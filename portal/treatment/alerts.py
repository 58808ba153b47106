"""Safety alerts: PHQ-9 item 9 above 0 needs prompt clinical evaluation (DOMAIN.md).

An alert is raised whenever such a PHQ-9 is recorded (with the referral, with a session, or on
its own date) and stays open, for the assigned clinician and the coordinators' queue, until a
clinician records that it was reviewed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.service import record
from portal.audit_shown import record_shown
from portal.db import utcnow
from portal.errors import Invalid
from portal.extensions import db
from portal.notifications.service import clinicians_of, notify
from portal.referrals.models import Referral
from portal.scales.scoring import PHQ9, phq9_item9_positive
from portal.treatment.errors import AlertAlreadyReviewed
from portal.treatment.models import Assessment, SafetyAlert, TreatmentCourse

if TYPE_CHECKING:
    from portal.auth.models import User


def raise_if_item9(assessment: Assessment, *, actor: User) -> SafetyAlert | None:
    """Open an alert for a PHQ-9 with item 9 above 0."""
    if assessment.scale != PHQ9.code or not phq9_item9_positive(assessment.answers):
        return None
    alert = SafetyAlert(referral_id=assessment.referral_id, assessment=assessment)
    db.session.add(alert)
    db.session.flush()
    record("safety_alert.raise", "safety_alert", alert.id, actor=actor)
    referral = db.session.scalar(select(Referral).where(Referral.id == assessment.referral_id))
    # Always emailed at once, whatever the clinician chose (a mandatory kind); the clinician
    # recording it is told too, so a colleague's cover sees it in the mailbox.
    notify(
        "safety_alert",
        clinicians_of(referral),
        referral=referral,
        link=f"/treatment/referrals/{referral.id}/course",
    )
    return alert


def open_safety_alert_referral_ids(clinic_id: int) -> set[int]:
    """Referrals of the clinic with a safety alert not yet reviewed (for the queue)."""
    stmt = (
        select(SafetyAlert.referral_id)
        .join(Referral, Referral.id == SafetyAlert.referral_id)
        .where(Referral.clinic_id == clinic_id, SafetyAlert.reviewed_at.is_(None))
    )
    return set(db.session.scalars(stmt))


def open_alerts(referral: Referral) -> list[SafetyAlert]:
    """The referral's alerts awaiting review, oldest first."""
    stmt = (
        select(SafetyAlert)
        .where(SafetyAlert.referral_id == referral.id, SafetyAlert.reviewed_at.is_(None))
        .options(selectinload(SafetyAlert.assessment))
        .order_by(SafetyAlert.id)
    )
    return list(db.session.scalars(stmt))


def alerts_for_clinician(user: User) -> list[SafetyAlert]:
    """Open alerts on courses assigned to `user` (and on the clinic's unassigned referrals)."""
    stmt = (
        select(SafetyAlert)
        .join(Referral, Referral.id == SafetyAlert.referral_id)
        .outerjoin(TreatmentCourse, TreatmentCourse.referral_id == Referral.id)
        .where(
            Referral.clinic_id == user.clinic_id,
            SafetyAlert.reviewed_at.is_(None),
            (TreatmentCourse.clinician_id == user.id) | (TreatmentCourse.clinician_id.is_(None)),
        )
        .options(
            selectinload(SafetyAlert.assessment),
            selectinload(SafetyAlert.referral).selectinload(Referral.patient),
        )
        .order_by(SafetyAlert.raised_at)
    )
    alerts = list(db.session.scalars(stmt))
    if alerts:
        record_shown(
            "safety_alert.list",
            "safety_alert",
            [a.referral_id for a in alerts],
            actor=user,
            detail="",
        )
    return alerts


def review_alert(alert: SafetyAlert, note: str, *, actor: User) -> None:
    """A clinician records that the alert was reviewed, and what was done."""
    if alert.reviewed_at is not None:
        raise AlertAlreadyReviewed("This alert was already reviewed.")
    note = note.strip()
    if not note:
        raise Invalid(
            "Write what was done (for example: called the patient, safety plan).", field="note"
        )
    alert.reviewed_at = utcnow()
    alert.reviewed_by_id = actor.id
    alert.review_note = note
    db.session.flush()
    record("safety_alert.review", "safety_alert", alert.id, actor=actor)
