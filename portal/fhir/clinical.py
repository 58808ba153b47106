"""The intake's clinical content as FHIR R4 resources: Condition (ICD-10 diagnoses),
MedicationStatement (antidepressant trials and current medications), QuestionnaireResponse
(the screening answers and histories), Observation (scales item by item, office vitals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.fhir import codes
from portal.fhir.resources import base_url, icd10_concept, instant, own_system, ref
from portal.referrals.intake_forms import TRIAL_OUTCOME_LABELS
from portal.referrals.screening import MED_CLASS_LABELS, SCREENING_QUESTIONS
from portal.scales.items import ANCHORS

if TYPE_CHECKING:
    from portal.referrals.models import Referral
    from portal.treatment.models import Assessment

Resource = dict[str, Any]

# QuestionnaireResponse items: (linkId, kind) in the intake's order; the linkIds are the
# intake's own field names, so the same answers travel both ways.
QUESTIONNAIRE_ITEMS: list[tuple[str, str]] = [
    ("episode_months", "integer"),
    ("psychotherapy", "string"),
    ("ect_history", "string"),
    ("tms_history", "string"),
    *((key, "boolean") for key, _, _ in SCREENING_QUESTIONS),
    *((f"{key}_details", "string") for key, _, _ in SCREENING_QUESTIONS),
    ("recent_ideation", "boolean"),
    ("recent_attempt", "boolean"),
    ("suicidality_details", "string"),
    ("insurance_payer", "string"),
    ("insurance_member_id", "string"),
    ("consent", "boolean"),
    ("ongoing_care", "boolean"),
]


def questionnaire_url() -> str:
    return f"{base_url()}/Questionnaire/referral-intake"


def subject(referral: Referral) -> dict[str, str]:
    return ref("Patient", referral.patient_id)


def conditions(referral: Referral) -> list[Resource]:
    clinical = (referral.intake or {}).get("clinical", {})
    return [
        {
            "resourceType": "Condition",
            "id": f"{referral.id}-{number}",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": icd10_concept(code, referral.intake),
            "subject": subject(referral),
        }
        for number, code in enumerate(clinical.get("diagnoses") or [], start=1)
    ]


def _kind(code: str) -> list[dict]:
    return [{"coding": [{"system": own_system("medication-kind"), "code": code}]}]


def medication_statements(referral: Referral) -> list[Resource]:
    intake = referral.intake or {}
    out: list[Resource] = []
    for number, trial in enumerate(intake.get("trials") or [], start=1):
        outcome = trial.get("outcome", "")
        resource: Resource = {
            "resourceType": "MedicationStatement",
            "id": f"{referral.id}-t{number}",
            "status": "stopped" if outcome == "not_tolerated" else "completed",
            "category": _kind("antidepressant-trial")[0],
            "medicationCodeableConcept": {"text": trial.get("drug", "")},
            "subject": subject(referral),
            "statusReason": [
                {
                    "coding": [
                        {
                            "system": own_system("trial-outcome"),
                            "code": outcome,
                            "display": TRIAL_OUTCOME_LABELS.get(outcome, outcome),
                        }
                    ]
                }
            ],
            "dosage": [_dosage(trial.get("dose", ""), trial.get("weeks"))],
        }
        out.append(resource)
    for number, medication in enumerate(intake.get("medications") or [], start=1):
        drug_class = medication.get("drug_class", "")
        resource = {
            "resourceType": "MedicationStatement",
            "id": f"{referral.id}-m{number}",
            "status": "active",
            "category": _kind("current")[0],
            "medicationCodeableConcept": {"text": medication.get("name", "")},
            "subject": subject(referral),
        }
        if drug_class:
            resource["medicationCodeableConcept"]["coding"] = [
                {
                    "system": own_system("medication-class"),
                    "code": drug_class,
                    "display": MED_CLASS_LABELS.get(drug_class, drug_class),
                }
            ]
        if medication.get("dose"):
            resource["dosage"] = [{"text": medication["dose"]}]
        out.append(resource)
    return out


def _dosage(text: str, weeks: int | None) -> dict[str, Any]:
    dosage: dict[str, Any] = {"text": text} if text else {}
    if weeks is not None:
        dosage["timing"] = {
            "repeat": {
                "boundsDuration": {
                    "value": weeks,
                    "unit": "wk",
                    "system": codes.UCUM,
                    "code": "wk",
                }
            }
        }
    return dosage or {"text": "not given"}


def questionnaire_response(referral: Referral) -> Resource:
    intake = referral.intake or {}
    answers = {
        **intake.get("clinical", {}),
        **intake.get("screening", {}),
        "recent_ideation": intake.get("suicidality", {}).get("recent_ideation"),
        "recent_attempt": intake.get("suicidality", {}).get("recent_attempt"),
        "suicidality_details": intake.get("suicidality", {}).get("details"),
        "insurance_payer": intake.get("patient", {}).get("insurance_payer"),
        "insurance_member_id": intake.get("patient", {}).get("insurance_member_id"),
        **intake.get("attestations", {}),
    }
    items = []
    for link_id, kind in QUESTIONNAIRE_ITEMS:
        value = answers.get(link_id)
        if value is None or value == "":
            continue
        python = {"integer": int, "string": str, "boolean": bool}[kind]
        items.append({"linkId": link_id, "answer": [{f"value{kind.title()}": python(value)}]})
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(referral.id),
        "questionnaire": questionnaire_url(),
        "status": "completed",
        "subject": subject(referral),
        "basedOn": [ref("ServiceRequest", referral.id)],
        "item": items,
    }
    if referral.submitted_at:
        resource["authored"] = instant(referral.submitted_at)
    return resource


def _scale_code(scale: str, part: str) -> dict[str, Any]:
    """The LOINC code of a scale's panel or total where DOMAIN.md gives one, else the portal's."""
    loinc = codes.LOINC_SCALES.get(scale)
    if loinc:
        code = loinc[0] if part == "panel" else loinc[1]
        return {"coding": [{"system": codes.LOINC, "code": code}], "text": f"{scale} {part}"}
    own = scale if part == "panel" else f"{scale}-total"
    return {"coding": [{"system": own_system("scale"), "code": own}], "text": f"{scale} {part}"}


def _survey() -> list[dict]:
    return [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey"}]}]


def observations(assessment: Assessment) -> list[Resource]:
    """A scale as a panel, its total and each item (PHQ-9 items with LOINC answer codes)."""
    referral = assessment.referral
    common = {
        "status": "final",
        "category": _survey(),
        "subject": subject(referral),
        "basedOn": [ref("ServiceRequest", referral.id)],
        "effectiveDateTime": assessment.taken_on.isoformat(),
    }
    prefix = f"a{assessment.id}"
    total = {
        "resourceType": "Observation",
        "id": f"{prefix}-total",
        **common,
        "code": _scale_code(assessment.scale, "total"),
        "valueInteger": assessment.total,
        "interpretation": [{"text": assessment.band}],
    }
    items = [_item(assessment, number, answer, common) for number, answer in
             enumerate(assessment.answers, start=1)]  # fmt: skip
    panel = {
        "resourceType": "Observation",
        "id": prefix,
        **common,
        "code": _scale_code(assessment.scale, "panel"),
        "hasMember": [ref("Observation", member["id"]) for member in (total, *items)],
    }
    return [panel, total, *items]


def _item(assessment: Assessment, number: int, answer: int, common: dict) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"a{assessment.id}-{number}",
        **common,
    }
    if assessment.scale == "PHQ-9":
        resource["code"] = {"coding": [{"system": codes.LOINC,
                                        "code": codes.PHQ9_ITEMS[number - 1]}]}  # fmt: skip
        label = dict(ANCHORS["PHQ-9"]).get(answer, str(answer))
        resource["valueCodeableConcept"] = {
            "coding": [
                {"system": codes.LOINC, "code": codes.PHQ9_ANSWERS[answer], "display": label}
            ],
            "text": str(answer),
        }
    else:
        resource["code"] = {
            "coding": [
                {"system": own_system("scale"), "code": codes.item_code(assessment.scale, number)}
            ]
        }
        resource["valueInteger"] = answer
    return resource


def vitals(referral: Referral) -> list[Resource]:
    """The office blood pressure and pulse sent with the referral."""
    clinical = (referral.intake or {}).get("clinical", {})
    if clinical.get("bp_systolic") is None:
        return []
    common: dict[str, Any] = {
        "status": "final",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "subject": subject(referral),
        "basedOn": [ref("ServiceRequest", referral.id)],
    }
    if clinical.get("vitals_date"):
        common["effectiveDateTime"] = clinical["vitals_date"]

    def quantity(value: int, unit: str) -> dict[str, Any]:
        return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}

    return [
        {
            "resourceType": "Observation",
            "id": f"r{referral.id}-bp",
            **common,
            "code": {
                "coding": [{"system": codes.LOINC, "code": codes.BP_PANEL}],
                "text": "Blood pressure",
            },
            "component": [
                {
                    "code": {"coding": [{"system": codes.LOINC, "code": codes.SYSTOLIC}]},
                    "valueQuantity": quantity(clinical["bp_systolic"], "mm[Hg]"),
                },
                {
                    "code": {"coding": [{"system": codes.LOINC, "code": codes.DIASTOLIC}]},
                    "valueQuantity": quantity(clinical["bp_diastolic"], "mm[Hg]"),
                },
            ],  # fmt: skip
        },
        {
            "resourceType": "Observation",
            "id": f"r{referral.id}-pulse",
            **common,
            "code": {"coding": [{"system": codes.LOINC, "code": codes.PULSE}], "text": "Pulse"},
            "valueQuantity": quantity(clinical["pulse"], "/min"),
        },
    ]
