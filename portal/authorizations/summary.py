"""The prior-authorization summary PDF, filled from what the portal already holds: diagnoses,
antidepressant trials (dose, duration, response), baseline PHQ-9 and MADRS, REMS enrolment and
the requested dose schedule. Built from plain values (STYLE.md "PDFs from plain values")."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flask import render_template

from portal.authorizations.models import PriorAuthorization
from portal.authorizations.rules import DRUG_CODE, STATUS_LABELS, observation_code
from portal.letters.pdf import RenderedPdf, render_html
from portal.referrals.intake_forms import TRIAL_OUTCOME_LABELS
from portal.referrals.screening import failed_drugs, trd_met
from portal.referrals.vocab import DIAGNOSIS_LABELS, MODALITY_LABELS, SEX_LABELS

if TYPE_CHECKING:
    from portal.referrals.models import Referral

# DOMAIN.md, SPRAVATO US label for treatment-resistant depression.
LABEL_SCHEDULE = [
    "Weeks 1-4: 56 mg on day 1, then 56 or 84 mg twice a week",
    "Weeks 5-8: 56 or 84 mg once a week",
    "Week 9 on: 56 or 84 mg every 2 weeks or once a week, at the lowest frequency that keeps "
    "the response",
]


def _baseline(referral: Referral, scale: str) -> dict | None:
    scores = sorted(
        (a for a in referral.assessments if a.scale == scale),
        key=lambda a: (not a.is_baseline, a.taken_on, a.id),
    )
    if not scores:
        return None
    first = scores[0]
    return {"total": first.total, "band": first.band, "on": first.taken_on.isoformat()}


def summary_context(referral: Referral, auth: PriorAuthorization | None, *, today: date) -> dict:
    """Everything the summary shows, as strings, numbers and lists."""
    doc = referral.intake or {}
    person = doc.get("patient") or {}
    clinical = doc.get("clinical") or {}
    trials = doc.get("trials") or []
    patient = referral.patient
    course = referral.course
    clinician = course.clinician if course else None
    dose = auth.dose_mg if auth else 56
    planned = course.planned_sessions if course else None
    clinic = referral.clinic
    return {
        "title": f"Prior-authorization summary - referral {referral.number}",
        "today": today.isoformat(),
        "clinic": {
            "name": clinic.name,
            "lines": clinic.address_lines(),
            "phone": clinic.phone,
            "fax": clinic.fax,
        },
        "referral": {
            "number": referral.number,
            "treatment": MODALITY_LABELS.get(
                course.modality if course else referral.requested_modality, ""
            ),
        },
        "patient": {
            "name": patient.full_name if patient else "",
            "date_of_birth": patient.date_of_birth.isoformat() if patient else "",
            "sex": SEX_LABELS.get(patient.sex, patient.sex) if patient else "",
            "payer": (auth.payer if auth and auth.payer else person.get("insurance_payer", "")),
            "member_id": person.get("insurance_member_id", ""),
        },
        "prescriber": {
            "name": clinician.display_name if clinician else "",
            "npi": (clinician.npi or "") if clinician else "",
        },
        "referrer": {"name": referral.referrer.display_name, "npi": referral.referrer.npi or ""},
        "diagnoses": [DIAGNOSIS_LABELS.get(c, c) for c in clinical.get("diagnoses") or []]
        or [DIAGNOSIS_LABELS.get(referral.diagnosis_code, referral.diagnosis_code)],
        "episode_months": clinical.get("episode_months"),
        "trials": [
            {
                "drug": t.get("drug", ""),
                "dose": t.get("dose", ""),
                "weeks": t.get("weeks") or "",
                "outcome": TRIAL_OUTCOME_LABELS.get(t.get("outcome", ""), t.get("outcome", "")),
            }
            for t in trials
        ],
        "failed": len(failed_drugs(trials)),
        "trd_met": trd_met(trials),
        "phq9": _baseline(referral, "PHQ-9"),
        "madrs": _baseline(referral, "MADRS"),
        "rems_enrolled_on": patient.rems_enrolled_on.isoformat()
        if patient and patient.rems_enrolled_on
        else "",
        "schedule": LABEL_SCHEDULE,
        "request": {
            "dose_mg": dose,
            "sessions": planned,
            "units": planned * dose if planned else None,
            "drug_code": DRUG_CODE,
            "observation_code": observation_code(dose),
        },
        "authorization": {
            "status": STATUS_LABELS.get(auth.status, auth.status) if auth else "Not recorded",
            "number": auth.number if auth else "",
            "span": (
                f"{auth.starts_on.isoformat() if auth.starts_on else '...'} to "
                f"{auth.ends_on.isoformat() if auth.ends_on else '...'}"
            )
            if auth and (auth.starts_on or auth.ends_on)
            else "",
        },
    }


def render_summary(
    referral: Referral, auth: PriorAuthorization | None, *, today: date
) -> RenderedPdf:
    html = render_template(
        "authorizations/summary_pdf.html", **summary_context(referral, auth, today=today)
    )
    return render_html(html)
