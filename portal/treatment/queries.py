"""Reads of treatment data shared by the referral page and the letters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit_shown import record_shown
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.states import IN_CARE
from portal.scales.scoring import PHQ9, Change, change
from portal.treatment.models import TreatmentCourse, TreatmentSession

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.treatment.models import Assessment


def active_courses(user: User) -> list[TreatmentCourse]:
    """The clinic's courses that are planned or running, urgent first."""
    stmt = (
        select(TreatmentCourse)
        .join(TreatmentCourse.referral)
        .where(Referral.clinic_id == user.clinic_id, Referral.state.in_(IN_CARE))
        .options(
            selectinload(TreatmentCourse.referral).selectinload(Referral.patient),
            selectinload(TreatmentCourse.sessions),
            selectinload(TreatmentCourse.clinician),
        )
        .order_by(Referral.urgency.desc(), TreatmentCourse.id)
    )
    courses = list(db.session.scalars(stmt))
    record_shown(
        "course.list", "treatment_course", [c.referral_id for c in courses], actor=user, detail=""
    )
    return courses


@dataclass(frozen=True)
class Progress:
    scale: str
    baseline: Assessment
    latest: Assessment | None
    change: Change | None


def scale_progress(referral: Referral, scale: str = PHQ9.code) -> Progress | None:
    """Baseline (from the referral) against the latest later score of one scale."""
    scores = [a for a in referral.assessments if a.scale == scale]
    baseline = next((a for a in scores if a.is_baseline), None)
    if baseline is None:
        return None
    later = sorted((a for a in scores if not a.is_baseline), key=lambda a: (a.taken_on, a.id))
    return progress_of(scale, baseline, later[-1] if later else None)


def progress_of(scale: str, baseline: Assessment, latest: Assessment | None) -> Progress:
    """The progress of one scale from its baseline and its latest later score."""
    return Progress(
        scale=scale,
        baseline=baseline,
        latest=latest,
        change=change(scale, baseline.total, latest.total) if latest else None,
    )


def session_scores(referral: Referral, scale: str = PHQ9.code) -> dict[int, int]:
    """Total of `scale` per treatment session id."""
    return {
        a.session_id: a.total
        for a in referral.assessments
        if a.scale == scale and a.session_id is not None
    }


def load_session_details(course: TreatmentCourse) -> None:
    """Load the course's sessions with what the course page shows of each (addenda, signer),
    so the page costs the same number of queries however many sessions there are."""
    sessions = db.session.scalars(
        select(TreatmentSession)
        .where(TreatmentSession.course_id == course.id)
        .order_by(TreatmentSession.session_date, TreatmentSession.id)  # as course.sessions
        .options(
            selectinload(TreatmentSession.addenda),
            selectinload(TreatmentSession.signed_by),
        )
    ).all()
    # Whoever loaded the course, its list is these sessions, details and all.
    set_committed_value(course, "sessions", list(sessions))
