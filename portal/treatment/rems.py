"""SPRAVATO REMS patient monitoring forms: one per signed SPRAVATO session, due within 7 days.

The form's values are built here as plain strings (DOMAIN.md lists every field) and rendered
to PDF by portal.letters.pdf; the list of forms not yet submitted is ordered by deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.service import record
from portal.audit_shown import record_shown
from portal.clock import clinic_today, local_time
from portal.errors import Invalid
from portal.extensions import db
from portal.letters.pdf import RenderedPdf, render_pdf
from portal.referrals.models import Referral
from portal.referrals.vocab import SEX_LABELS
from portal.treatment.errors import RemsRefused
from portal.treatment.models import TreatmentCourse, TreatmentSession
from portal.treatment.safety import days_left
from portal.treatment.vocab import CONCOMITANT_MEDICATIONS

if TYPE_CHECKING:
    from portal.auth.models import User


@dataclass(frozen=True)
class PendingForm:
    session: TreatmentSession
    due_on: date
    days_left: int  # negative: overdue by that many days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def pending_forms(user: User, today: date) -> list[PendingForm]:
    """The clinic's SPRAVATO sessions whose REMS form is not submitted, overdue first."""
    stmt = (
        select(TreatmentSession)
        .join(TreatmentSession.course)
        .join(TreatmentCourse.referral)
        .where(
            Referral.clinic_id == user.clinic_id,
            TreatmentSession.modality == "spravato",
            TreatmentSession.rems_submitted_on.is_(None),
        )
        .options(
            selectinload(TreatmentSession.course)
            .selectinload(TreatmentCourse.referral)
            .selectinload(Referral.patient)
        )
        .order_by(TreatmentSession.session_date, TreatmentSession.id)
    )
    sessions = list(db.session.scalars(stmt))
    record_shown(
        "rems.list",
        "treatment_session",
        [s.course.referral_id for s in sessions],
        actor=user,
        detail="",
    )
    forms = [PendingForm(s, s.session_date, days_left(s.session_date, today)) for s in sessions]
    return sorted(forms, key=lambda f: (f.days_left, f.session.id))


def record_submission(session: TreatmentSession, submitted_on: date, *, actor: User) -> None:
    """Staff record the date the form was submitted to the REMS."""
    if not session.is_signed:
        raise RemsRefused("Sign the session before recording its REMS form as submitted.")
    if submitted_on > clinic_today():
        raise Invalid("The submission date cannot be in the future.", field="submitted_on")
    if submitted_on < session.session_date:
        raise Invalid(
            "The form cannot be submitted before the treatment date.", field="submitted_on"
        )
    session.rems_submitted_on = submitted_on
    session.rems_submitted_by_id = actor.id
    db.session.flush()
    record("rems.submitted", "treatment_session", session.id, actor=actor)


def _yes_no(value: bool | None) -> str:
    return "Not recorded" if value is None else ("Yes" if value else "No")


def _bp(systolic: int | None, diastolic: int | None) -> str:
    return f"{systolic}/{diastolic} mmHg" if systolic and diastolic else "Not recorded"


def _first_treatment(session: TreatmentSession) -> bool:
    earlier = [
        s
        for r in session.course.referral.patient.referrals
        if r.course is not None
        for s in r.course.sessions
        if s.modality == "spravato" and (s.session_date, s.id) < (session.session_date, session.id)
    ]
    return not earlier


def form_context(session: TreatmentSession) -> dict:
    """Every field of the REMS patient monitoring form, as strings."""
    referral = session.course.referral
    patient, clinic, signer = referral.patient, referral.clinic, session.signed_by
    dose = {"56": "56 mg", "84": "84 mg"}.get(
        session.spravato_dose, f"Other: {session.dose_mg.normalize():f} mg"
    )
    spo2 = f" (lowest SpO2 {session.lowest_spo2}%)" if session.lowest_spo2 else ""
    return {
        "title": f"SPRAVATO REMS patient monitoring form - referral {referral.number}",
        "referral_number": referral.number,
        "patient": {
            "name": patient.full_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": SEX_LABELS.get(patient.sex, patient.sex),
            "enrolled": f"Yes, enrolled {patient.rems_enrolled_on.isoformat()}"
            if patient.rems_enrolled_on
            else "No",
            "first_treatment": "Yes" if _first_treatment(session) else "No",
        },
        "medications": [
            (label, "Yes" if code in session.concomitant_medications else "No")
            for code, label in CONCOMITANT_MEDICATIONS
        ],
        "provider": {
            "name": signer.display_name if signer else "",
            "phone": clinic.phone,
            "email": signer.email if signer else "",
        },
        "setting": {"name": clinic.name, "address": ", ".join(clinic.address_lines())},
        "treatment": {
            "date": session.session_date.isoformat(),
            "dose": dose,
            "devices": str(session.devices_used or ""),
            "lot": session.lot_number,
            "monitoring": f"{session.monitoring_minutes} minutes",
            "ready": session.ready_to_leave_at.strftime("%H:%M")
            if session.ready_to_leave_at
            else "Not recorded",
            "vitals_ok_before": _yes_no(session.vitals_ok_before),
            "vitals_ok_leaving": _yes_no(session.vitals_ok_leaving),
            "bp_before": _bp(session.bp_pre_systolic, session.bp_pre_diastolic),
            "bp_40": _bp(session.bp_post_systolic, session.bp_post_diastolic),
            "bp_leaving": _bp(session.bp_leave_systolic, session.bp_leave_diastolic),
            "sedation": _yes_no(session.sedation),
            "dissociation": _yes_no(session.dissociation),
            "respiratory": _yes_no(session.respiratory_depression) + spo2,
            "serious": _yes_no(session.serious_adverse_events),
        },
        "signed": local_time(session.signed_at, "%Y-%m-%d %H:%M %Z"),
    }


def render_form(session: TreatmentSession, *, actor: User) -> RenderedPdf:
    """The monitoring form of a signed SPRAVATO session as PDF."""
    if session.modality != "spravato" or not session.is_signed:
        raise RemsRefused("Only a signed SPRAVATO session has a REMS monitoring form.")
    pdf = render_pdf("treatment/rems_form.html", form_context(session))
    record("rems.print", "treatment_session", session.id, actor=actor)
    return pdf
