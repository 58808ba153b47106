"""Signing a session, addenda to signed sessions, and the patient's REMS enrolment."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from portal.audit.service import record
from portal.clinical_limits import BP_LIMIT_TEXT
from portal.clock import clinic_today
from portal.db import utcnow
from portal.errors import Invalid
from portal.extensions import db
from portal.referrals.service import lock_for_edit
from portal.treatment.errors import SigningRefused
from portal.treatment.models import SessionAddendum, TreatmentSession
from portal.treatment.safety import Prompt, bp_prompt, dose_prompt, spravato_prompts

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Patient


def session_prompts(session: TreatmentSession) -> list[Prompt]:
    """Every safety prompt the session raises, in the order the clinician meets them."""
    prompts = [
        p
        for p in (
            bp_prompt(session.bp_pre_systolic, session.bp_pre_diastolic),
            dose_prompt(session.dose_mg_per_kg),
        )
        if p is not None
    ]
    if session.modality == "spravato":
        patient = session.course.referral.patient
        prompts += spravato_prompts(session.monitoring_minutes, patient.rems_enrolled_on)
    return prompts


def sign_session(
    session: TreatmentSession, *, actor: User, expected_version: int, bp_reason: str = ""
) -> None:
    """Sign the session as documented; afterwards it changes only by addenda."""
    if session.is_signed:
        raise SigningRefused("This session is already signed; add an addendum instead.")
    problems = []
    bp_reason = bp_reason.strip()
    for prompt in session_prompts(session):
        unanswered = (prompt.needs_reason and not bp_reason) or (
            prompt.needs_confirmation and not session.dose_outside_range_confirmed
        )
        if prompt.blocks_signing or unanswered:
            problems.append(prompt.message)
    if problems:
        record("session.sign", "treatment_session", session.id, actor=actor, outcome="refused")
        raise SigningRefused("The session was not signed. " + " ".join(problems))
    lock_for_edit(session.course.referral, actor=actor, expected_version=expected_version)
    if bp_prompt(session.bp_pre_systolic, session.bp_pre_diastolic) is not None:
        session.bp_acknowledgement = bp_reason
        record(
            "session.bp_acknowledged",
            "treatment_session",
            session.id,
            actor=actor,
            detail=f"pre-dose BP above {BP_LIMIT_TEXT} acknowledged with a reason",
        )
    session.signed_at = utcnow()
    session.signed_by_id = actor.id
    db.session.flush()
    record("session.sign", "treatment_session", session.id, actor=actor)


def add_addendum(session: TreatmentSession, text: str, *, actor: User) -> SessionAddendum:
    """Amend a signed session: the original stays as signed; who and when are kept."""
    if not session.is_signed:
        raise SigningRefused("Only a signed session takes addenda; sign it first.")
    text = text.strip()
    if not text:
        raise SigningRefused("Write the addendum before saving it.")
    addendum = SessionAddendum(session=session, text=text, author_id=actor.id)
    db.session.add(addendum)
    db.session.flush()
    record("session.addendum", "treatment_session", session.id, actor=actor)
    return addendum


def record_rems_enrolment(patient: Patient, enrolled_on: date, *, actor: User) -> None:
    """The date the patient was enrolled in the SPRAVATO REMS."""
    if enrolled_on > clinic_today():
        raise Invalid("The enrolment date cannot be in the future.", field="enrolled_on")
    patient.rems_enrolled_on = enrolled_on
    db.session.flush()
    record("patient.rems_enrolment", "patient", patient.id, actor=actor)
