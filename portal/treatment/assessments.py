"""Recording a rating scale: scored by portal.scales.scoring, stored with its total and band."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from portal.audit.service import record
from portal.extensions import db
from portal.scales.scoring import score
from portal.treatment.alerts import raise_if_item9
from portal.treatment.errors import AlreadyRecorded
from portal.treatment.models import Assessment, TreatmentSession

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

SIGNED_SESSION = "That session is signed; record the scale on its own date or in an addendum."


def add_assessment(
    referral: Referral,
    scale: str,
    answers: list[int] | tuple[int, ...],
    *,
    taken_on: date,
    actor: User,
    session: TreatmentSession | None = None,
    is_baseline: bool = False,
) -> Assessment:
    """Score a scale answered item by item and store it with its total and band. A signed
    session takes no scale: it changes only by addenda."""
    if session is not None and session.is_signed:
        raise AlreadyRecorded(SIGNED_SESSION)
    result = score(scale, list(answers))
    assessment = Assessment(
        referral=referral,
        session=session,
        scale=result.scale,
        taken_on=taken_on,
        answers=list(result.answers),
        total=result.total,
        band=result.band,
        is_baseline=is_baseline,
        recorded_by_id=actor.id,
    )
    db.session.add(assessment)
    db.session.flush()
    record("assessment.create", "assessment", assessment.id, actor=actor)
    raise_if_item9(assessment, actor=actor)
    return assessment
