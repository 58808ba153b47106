"""The intake's rules: drafts that keep every keystroke, submit with everything worked out,
and edits while the clinic waits for an answer. The intake document and the referral's state
only: sending a referral with its baseline scales and acknowledgement is
portal.pages.submission's."""

from __future__ import annotations

import secrets
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from portal.audit.service import record
from portal.clock import clinic_today
from portal.db import utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.referrals import screening
from portal.referrals.models import Patient, Referral
from portal.referrals.service import (
    add_event,
    change_state,
    flush_or_stale,
    mark_changed,
    receiving_clinic_id,
    refuse_if_stale,
)
from portal.referrals.states import EDITABLE, State
from portal.scales.scoring import GAD7, PCL5, PHQ9

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.service import NewReferral

NOT_SAVED = frozenset({"csrf_token", "action", "version", "form_key", "attachments"})
# The intake's scales (form prefix -> scale code), each a baseline of the referral.
SCALE_KEYS = {"phq9": PHQ9.code, "gad7": GAD7.code, "pcl5": PCL5.code}


class AlreadySubmitted(Conflict):
    """The form was sent twice (double click, back button): the first one counted."""

    def __init__(self, referral: Referral) -> None:
        self.referral = referral
        super().__init__(f"Referral {referral.number} was already sent; nothing was sent twice.")


class NotEditable(Conflict):
    """The referral left the states in which its referrer may change the intake."""


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


def snapshot(formdata: MultiDict) -> dict[str, list[str]]:
    """The form as typed, without tokens and files: the intake's own fields only, each value
    at most as long as the field takes (the same caps as for sending)."""
    return bounded_snapshot(formdata)[0]


def bounded_snapshot(formdata: MultiDict) -> tuple[dict[str, list[str]], list[str]]:
    """The snapshot, and the labels of the fields whose value was cut to its limit."""
    from portal.referrals.intake_forms import IntakeForm, field_limits

    limits = field_limits(IntakeForm(formdata=formdata, meta={"csrf": False}))
    kept: dict[str, list[str]] = {}
    cut: list[str] = []
    for key in formdata:
        if key in NOT_SAVED or key not in limits:
            continue
        longest, most, label = limits[key]
        values = formdata.getlist(key)
        kept[key] = [value[:longest] for value in values[:most]]
        if kept[key] != values:
            cut.append(
                f"“{label}” was longer than {longest} characters: the first {longest} are kept."
            )
    return kept, cut


def draft_for_key(form_key: str, actor: User) -> Referral:
    """The referral this form created, or a new draft: a form submitted twice finds its own."""
    referral = None
    if form_key:
        referral = db.session.scalar(select(Referral).where(Referral.form_key == form_key))
    if referral is not None and referral.referrer_id != actor.id:
        referral, form_key = None, ""  # someone else's key: never reuse it
    if referral is not None and referral.state != State.DRAFT:
        raise AlreadySubmitted(referral)
    if referral is None:
        referral = Referral(
            clinic_id=receiving_clinic_id(),
            referrer_id=actor.id,
            practice_id=actor.practice_id,
            state=State.DRAFT,
            diagnosis_code="",
            requested_modality="",
            form_key=form_key or new_form_key(),
            updated_by_id=actor.id,
        )
        db.session.add(referral)
        try:
            db.session.flush()
        except IntegrityError:  # a second click raced the first one with the same key
            db.session.rollback()  # nothing else is written yet in this request
            return _raced(form_key, actor)
        record("referral.create", "referral", referral.id, actor=actor, detail=State.DRAFT.value)
    return referral


def _raced(form_key: str, actor: User) -> Referral:
    """The same form was posted twice at once and the other post made the draft first."""
    referral = db.session.scalar(select(Referral).where(Referral.form_key == form_key))
    if referral is None or referral.referrer_id != actor.id:
        raise RuntimeError("A form key collided with another user's referral.")
    if referral.state != State.DRAFT:
        raise AlreadySubmitted(referral)
    return referral


def save_draft(referral: Referral, formdata: MultiDict, *, actor: User) -> list[str]:
    """Keep what was typed, valid or not; only the referrer's drafts and questioned referrals.
    Returns a sentence for each field cut to its limit."""
    if referral.state not in EDITABLE:
        raise NotEditable("This referral can no longer be edited.")
    referral.form_data, cut = bounded_snapshot(formdata)
    mark_changed(referral, actor=actor)
    flush_or_stale(referral)
    record("referral.draft_save", "referral", referral.id, actor=actor)
    return cut


def intake_document(form: Any) -> dict[str, Any]:
    """The validated form as the stored intake document (plain JSON values)."""

    def text(name: str) -> str:
        return (getattr(form, name).data or "").strip()

    trials = [
        {
            "drug": row.drug.data.strip(),
            "dose": (row.dose.data or "").strip(),
            "weeks": row.weeks.data,
            "outcome": row.outcome.data,
        }
        for row in (entry.form for entry in form.trials)
        if not row.is_blank()
    ]
    medications = [
        {
            "name": row.name.data.strip(),
            "dose": (row.dose.data or "").strip(),
            "drug_class": row.drug_class.data or "",
        }
        for row in (entry.form for entry in form.medications)
        if not row.is_blank()
    ]
    patient_keys = [
        "first_name",
        "last_name",
        "sex",
        "phone",
        "email",
        "address_line1",
        "city",
        "region",
        "postal_code",
        "preferred_language",
        "emergency_contact",
        "insurance_payer",
        "insurance_member_id",
    ]
    scales = {key: getattr(form, f"{key}_answers")() for key in SCALE_KEYS}
    # The ticked diagnoses, then the other one typed as an ICD-10-CM code (the primary one
    # when none is ticked); the other one's own words are kept beside it.
    other_code = form.other_diagnosis_code()
    diagnoses = list(form.diagnoses.data)
    if other_code and other_code not in diagnoses:
        diagnoses.append(other_code)
    other = (
        {"code": other_code, "description": text("other_diagnosis_description")}
        if other_code
        else None
    )
    return {
        "patient": {
            **{k: text(k) for k in patient_keys},
            "date_of_birth": form.date_of_birth.data.isoformat(),
        },
        "clinical": {
            "diagnoses": diagnoses,
            "other_diagnosis": other,
            "episode_months": form.episode_months.data,
            "psychotherapy": text("psychotherapy"),
            "ect_history": text("ect_history"),
            "tms_history": text("tms_history"),
            "bp_systolic": form.bp_systolic.data,
            "bp_diastolic": form.bp_diastolic.data,
            "pulse": form.pulse.data,
            "vitals_date": form.vitals_date.data.isoformat() if form.vitals_date.data else "",
        },
        "trials": trials,
        "medications": medications,
        "screening": {
            **{k: form.screening_answer(k) for k, _, _ in screening.SCREENING_QUESTIONS},
            "none_of_these": bool(form.screening_none.data),
            **{f"{k}_details": text(f"{k}_details") for k, _, _ in screening.SCREENING_QUESTIONS},
        },
        "suicidality": {
            "recent_ideation": form.recent_ideation.data == "yes",
            "recent_attempt": form.recent_attempt.data == "yes",
            "details": text("suicidality_details"),
        },
        "scales": {k: v if all(a is not None for a in v) else None for k, v in scales.items()},
        "request": {
            "modality": form.requested_modality.data,
            "urgency": form.urgency.data,
            "reason": text("reason"),
        },
        "attestations": {"consent": True, "ongoing_care": True},
    }


def submit_intake(
    referral: Referral, doc: dict[str, Any], formdata: MultiDict, *, actor: User
) -> None:
    """Validated intake in; the patient and the computed results out. A draft is submitted; a
    referral awaiting an answer is updated in place. The baseline scales are the caller's
    (portal.pages.submission), through treatment's assessments."""
    if referral.state not in EDITABLE:
        raise AlreadySubmitted(referral)
    was_draft = referral.state == State.DRAFT
    _apply(referral, doc, formdata, actor=actor)
    if was_draft:
        change_state(referral, State.SUBMITTED, actor=actor, expected_version=referral.version)
        referral.submitted_at = utcnow()
    else:
        add_event(
            referral, "intake_updated", actor=actor, reason="The referrer updated the intake."
        )
    flush_or_stale(referral)


def _apply(referral: Referral, doc: dict[str, Any], formdata: MultiDict, *, actor: User) -> None:
    person = doc["patient"]
    is_new = referral.patient is None
    if is_new:
        referral.patient = Patient(created_by_id=actor.id)
    patient = referral.patient
    patient.first_name, patient.last_name = person["first_name"], person["last_name"]
    patient.date_of_birth = date.fromisoformat(person["date_of_birth"])
    patient.sex = person["sex"]
    request = doc["request"]
    referral.intake = doc
    referral.form_data = snapshot(formdata)
    referral.diagnosis_code = doc["clinical"]["diagnoses"][0]
    referral.requested_modality = request["modality"]
    referral.reason = request["reason"]
    referral.urgency = screening.urgency_for(doc, request["urgency"])
    referral.screening_flags = screening.screening_flags(doc, on=clinic_today())
    referral.trd_met = screening.trd_met(doc["trials"])
    mark_changed(referral, actor=actor)
    flush_or_stale(referral)
    record("patient.create" if is_new else "patient.update", "patient", patient.id, actor=actor)


def document_from(data: NewReferral) -> dict[str, Any]:
    """A complete intake document from the essentials, typical values elsewhere."""
    doc: dict[str, Any] = {
        "patient": {
            "first_name": data.first_name,
            "last_name": data.last_name,
            "date_of_birth": data.date_of_birth.isoformat(),
            "sex": data.sex,
            "phone": "555-0100",
            "email": "",
            "address_line1": "",
            "city": "",
            "region": "",
            "postal_code": "",
            "preferred_language": "English",
            "emergency_contact": "",
            "insurance_payer": "",
            "insurance_member_id": "",
        },
        "clinical": {
            "diagnoses": [data.diagnosis_code],
            "episode_months": 14,
            "psychotherapy": "CBT, 20 sessions",
            "ect_history": "",
            "tms_history": "",
            "bp_systolic": 124,
            "bp_diastolic": 78,
            "pulse": 72,
            "vitals_date": "",
        },
        "trials": [
            {"drug": "Sertraline", "dose": "150 mg", "weeks": 10, "outcome": "no_response"},
            {"drug": "Bupropion XL", "dose": "300 mg", "weeks": 8, "outcome": "partial_response"},
        ],
        "medications": [],
        "screening": {k: False for k, _, _ in screening.SCREENING_QUESTIONS},
        "suicidality": {"recent_ideation": False, "recent_attempt": False, "details": ""},
        "scales": {"phq9": list(data.phq9_answers), "gad7": None, "pcl5": None},
        "request": {
            "modality": data.requested_modality,
            "urgency": data.urgency,
            "reason": data.reason,
        },
        "attestations": {"consent": True, "ongoing_care": True},
    }
    for section, value in data.intake.items():
        doc[section] = {**doc[section], **value} if isinstance(value, dict) else value
    return doc


def check_version(referral: Referral, version: str, *, actor: User) -> None:
    """Refuse an edit made on an older copy of a referral the clinic is waiting on."""
    if referral.state != State.DRAFT and version:
        try:
            expected = int(version)
        except ValueError:
            expected = -1
        refuse_if_stale(referral, actor=actor, expected_version=expected)
