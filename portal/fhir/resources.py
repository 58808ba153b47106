"""The referral as FHIR R4 resources (profiles after BSeR where they exist): ServiceRequest,
Task, Patient, Practitioner, PractitionerRole, Organization. Plain dicts out, no PHI in ids."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app

from portal.fhir import codes
from portal.referrals.states import CLOSED, FHIR_TASK_STATUS, State
from portal.referrals.vocab import DIAGNOSIS_LABELS, MODALITY_LABELS, other_diagnosis_of

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.clinics.models import Clinic, Practice
    from portal.letters.models import Letter
    from portal.referrals.models import Referral

Resource = dict[str, Any]


def base_url() -> str:
    """The API's absolute base, from PUBLIC_BASE_URL (canonical URLs and links)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/fhir/r4"


def own_system(name: str) -> str:
    return f"{base_url()}/CodeSystem/{name}"


def instant(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def ref(resource_type: str, resource_id: object, display: str = "") -> dict[str, str]:
    out = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def icd10_concept(code: str, intake: dict | None) -> dict[str, Any]:
    """An ICD-10-CM diagnosis as a CodeableConcept: a listed code with its display; the
    intake's other diagnosis (a code typed by the referrer) with the referrer's words as
    text, since the portal holds no display for it."""
    coding: dict[str, str] = {"system": codes.ICD10, "code": code}
    if code in DIAGNOSIS_LABELS:
        coding["display"] = DIAGNOSIS_LABELS[code]
    concept: dict[str, Any] = {"coding": [coding]}
    other = other_diagnosis_of(intake)
    if other and other.get("code") == code and other.get("description"):
        concept["text"] = other["description"]
    return concept


def referral_identifier(referral: Referral) -> dict[str, str]:
    return {"system": f"{base_url()}/sid/referral-number", "value": referral.number}


def meta(referral: Referral) -> dict[str, str]:
    """The referral's version is every view's version: ETag and optimistic locking."""
    return {"versionId": str(referral.version), "lastUpdated": instant(referral.updated_at)}


def service_request(referral: Referral, supporting: list[dict[str, str]]) -> Resource:
    intake = referral.intake or {}
    diagnoses = intake.get("clinical", {}).get("diagnoses") or [referral.diagnosis_code]
    modality = referral.requested_modality
    if referral.state == State.COMPLETED:
        status = "completed"
    elif referral.state in CLOSED:
        status = "revoked"
    else:
        status = "active"
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "meta": meta(referral),
        "identifier": [referral_identifier(referral)],
        "status": status,
        "intent": "order",
        "priority": referral.urgency,  # routine | urgent: FHIR's request-priority codes
        "code": {"coding": [codes.REFERRAL_CODE], "text": "Patient referral"},
        "orderDetail": [
            {
                "coding": [
                    {
                        "system": own_system("modality"),
                        "code": modality,
                        "display": MODALITY_LABELS.get(modality, modality),
                    }
                ]
            }
        ],
        "subject": ref("Patient", referral.patient_id),
        "requester": ref("PractitionerRole", referral.referrer_id),
        "performer": [ref("Organization", f"clinic-{referral.clinic_id}")],
        "reasonCode": [icd10_concept(code, intake) for code in diagnoses],
        "supportingInfo": supporting,
    }
    if referral.submitted_at:
        resource["authoredOn"] = instant(referral.submitted_at)
    if referral.reason:
        resource["note"] = [{"text": referral.reason}]
    return resource


def _status_reason(referral: Referral) -> str:
    for event in reversed(referral.events):
        if event.to_state == referral.state and event.reason:
            return event.reason
    return ""


def task(referral: Referral, letters: list[Letter]) -> Resource:
    """The referral's workflow: Task.status and BSeR's business status."""
    business_code, business_display = codes.BUSINESS_STATUS[referral.state]
    resource: Resource = {
        "resourceType": "Task",
        "id": str(referral.id),
        "meta": meta(referral),
        "identifier": [referral_identifier(referral)],
        "basedOn": [ref("ServiceRequest", referral.id)],
        "status": FHIR_TASK_STATUS[referral.state],
        "businessStatus": {
            "coding": [
                {"system": codes.BSER_STATUS, "code": business_code, "display": business_display}
            ],
            "text": referral.state.label,
        },
        "intent": "order",
        "priority": referral.urgency,
        "code": {"coding": [codes.REFERRAL_CODE]},
        "focus": ref("ServiceRequest", referral.id),
        "for": ref("Patient", referral.patient_id),
        "lastModified": instant(referral.updated_at),
        "requester": ref("PractitionerRole", referral.referrer_id),
        "owner": ref("Organization", f"clinic-{referral.clinic_id}"),
    }
    if referral.submitted_at:
        resource["authoredOn"] = instant(referral.submitted_at)
    reason = _status_reason(referral) if referral.state in (*CLOSED, State.NEEDS_INFO) else ""
    if reason:
        resource["statusReason"] = {"text": reason}
    if letters:
        resource["output"] = [
            {
                "type": {"text": letter.kind_label},
                "valueReference": ref("DocumentReference", letter.id),
            }
            for letter in letters
        ]
    return resource


def patient(referral: Referral) -> Resource:
    person = (referral.intake or {}).get("patient", {})
    record = referral.patient
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(record.id),
        "name": [{"family": record.last_name, "given": [record.first_name]}],
        "gender": record.sex,  # female | male | other | unknown: AdministrativeGender
        "birthDate": record.date_of_birth.isoformat(),
    }
    telecom = [
        {"system": system, "value": person[key]}
        for system, key in (("phone", "phone"), ("email", "email"))
        if person.get(key)
    ]
    if telecom:
        resource["telecom"] = telecom
    address = {
        "line": [person["address_line1"]] if person.get("address_line1") else None,
        "city": person.get("city") or None,
        "state": person.get("region") or None,
        "postalCode": person.get("postal_code") or None,
    }
    address = {k: v for k, v in address.items() if v}
    if address:
        resource["address"] = [address]
    if person.get("preferred_language"):
        resource["communication"] = [
            {"language": {"text": person["preferred_language"]}, "preferred": True}
        ]
    if person.get("emergency_contact"):
        resource["contact"] = [{"name": {"text": person["emergency_contact"]}}]
    return resource


def _telecom(holder: User | Clinic | Practice) -> list[dict[str, str]]:
    pairs = (("phone", getattr(holder, "phone", "")), ("fax", getattr(holder, "fax", "")))
    return [{"system": system, "value": value} for system, value in pairs if value]


def practitioner(user: User) -> Resource:
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": str(user.id),
        "name": [{"text": user.full_name}],
    }
    if user.npi:
        resource["identifier"] = [{"system": codes.NPI, "value": user.npi}]
    if user.credentials:
        resource["qualification"] = [{"code": {"text": user.credentials}}]
    if telecom := _telecom(user):
        resource["telecom"] = telecom
    return resource


def practitioner_role(user: User) -> Resource:
    resource: Resource = {
        "resourceType": "PractitionerRole",
        "id": str(user.id),
        "practitioner": ref("Practitioner", user.id, user.full_name),
        "code": [{"text": "Referring provider"}],
    }
    if user.practice_id:
        resource["organization"] = ref("Organization", f"practice-{user.practice_id}")
    return resource


def organization(holder: Clinic | Practice, kind: str) -> Resource:
    resource: Resource = {
        "resourceType": "Organization",
        "id": f"{kind}-{holder.id}",
        "active": True,
        "name": holder.name,
    }
    if telecom := _telecom(holder):
        resource["telecom"] = telecom
    lines = [line for line in (holder.address_line1, holder.address_line2) if line]
    address = {"line": lines, "city": holder.city, "state": holder.region,
               "postalCode": holder.postal_code}  # fmt: skip
    address = {k: v for k, v in address.items() if v}
    if address:
        resource["address"] = [address]
    return resource
