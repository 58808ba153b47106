"""The intake document back into form fields, for editing a referral sent without a stored
form snapshot (made by the demo, an import or an older version of the portal)."""

from __future__ import annotations

from typing import Any

from portal.referrals.screening import SCREENING_QUESTIONS
from portal.referrals.vocab import DIAGNOSIS_LABELS

CLINICAL_KEYS = (
    "episode_months",
    "psychotherapy",
    "ect_history",
    "tms_history",
    "bp_systolic",
    "bp_diastolic",
    "pulse",
    "vitals_date",
)


def _yes_no(value: Any) -> list[str]:
    return ["yes" if value else "no"]


def _rows(name: str, rows: list[dict], keys: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        f"{name}-{index}-{key}": ["" if row.get(key) is None else str(row.get(key))]
        for index, row in enumerate(rows)
        for key in keys
    }


def formdata_from_document(doc: dict[str, Any]) -> dict[str, list[str]]:
    if not doc:
        return {}
    out: dict[str, list[str]] = {}
    for key, value in doc.get("patient", {}).items():
        out[key] = [str(value or "")]
    clinical = doc.get("clinical", {})
    other = clinical.get("other_diagnosis") or {}
    out["diagnoses"] = [c for c in clinical.get("diagnoses", []) if c in DIAGNOSIS_LABELS]
    unlisted = [c for c in clinical.get("diagnoses", []) if c not in DIAGNOSIS_LABELS]
    if other.get("code") or unlisted:
        out["other_diagnosis"] = [other.get("code") or unlisted[0]]
        out["other_diagnosis_description"] = [other.get("description", "")]
    for key in CLINICAL_KEYS:
        value = clinical.get(key)
        out[key] = ["" if value is None else str(value)]
    out.update(_rows("trials", doc.get("trials", []), ("drug", "dose", "weeks", "outcome")))
    out.update(_rows("medications", doc.get("medications", []), ("name", "dose", "drug_class")))
    screening = doc.get("screening", {})
    for key, _, _ in SCREENING_QUESTIONS:
        if screening.get(key, False) is not None:  # None: not asked (pregnancy, male patient)
            out[key] = _yes_no(screening.get(key))
        out[f"{key}_details"] = [screening.get(f"{key}_details", "")]
    if screening.get("none_of_these"):
        out["screening_none"] = ["y"]
    suicidality = doc.get("suicidality", {})
    out["recent_ideation"] = _yes_no(suicidality.get("recent_ideation"))
    out["recent_attempt"] = _yes_no(suicidality.get("recent_attempt"))
    out["suicidality_details"] = [suicidality.get("details", "")]
    for prefix, answers in (doc.get("scales") or {}).items():
        for number, answer in enumerate(answers or [], start=1):
            out[f"{prefix}_{number}"] = [str(answer)]
    request = doc.get("request", {})
    out["requested_modality"] = [request.get("modality", "")]
    out["urgency"] = [request.get("urgency", "routine")]
    out["reason"] = [request.get("reason", "")]
    if doc.get("attestations", {}).get("consent"):
        out["consent"] = ["y"]
    if doc.get("attestations", {}).get("ongoing_care"):
        out["ongoing_care"] = ["y"]
    return out
