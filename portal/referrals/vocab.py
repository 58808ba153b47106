"""Fixed vocabularies of a referral: diagnoses, modalities, sexes, urgency."""

from __future__ import annotations

import re

# ICD-10 codes from DOMAIN.md ("What a referral carries").
DIAGNOSES: list[tuple[str, str]] = [
    ("F32.1", "F32.1 Major depressive disorder, single episode, moderate"),
    ("F32.2", "F32.2 Major depressive disorder, single episode, severe"),
    ("F32.9", "F32.9 Major depressive disorder, single episode, unspecified"),
    ("F33.1", "F33.1 Major depressive disorder, recurrent, moderate"),
    ("F33.2", "F33.2 Major depressive disorder, recurrent, severe"),
    ("F33.9", "F33.9 Major depressive disorder, recurrent, unspecified"),
    ("F31.30", "F31.30 Bipolar disorder, current episode depressed"),
    ("F31.4", "F31.4 Bipolar disorder, current episode depressed, severe"),
    ("F34.1", "F34.1 Dysthymic disorder"),
    ("F53.0", "F53.0 Postpartum depression"),
    ("F41.1", "F41.1 Generalized anxiety disorder"),
    ("F43.10", "F43.10 Post-traumatic stress disorder"),
    ("F42.2", "F42.2 Obsessive-compulsive disorder"),
    ("G89.4", "G89.4 Chronic pain syndrome"),
]
DIAGNOSIS_LABELS = dict(DIAGNOSES)

# A diagnosis outside the list, typed as an ICD-10-CM code: a letter, a digit, a digit or
# letter (F32, M1A), then optionally a dot and up to 4 more characters (F32.A, T43.6X1A).
# Typed without the dot (F329) it is stored with it (F32.9).
ICD10_CM_PATTERN = re.compile(r"^([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?$")


def normalized_icd10(typed: str) -> str | None:
    """The code as stored (upper case, dot after the category), or None if it does not have
    the ICD-10-CM shape. Only the shape is checked: the portal holds no full code list."""
    match = ICD10_CM_PATTERN.match((typed or "").strip().upper())
    if match is None:
        return None
    category, rest = match.groups()
    return f"{category}.{rest}" if rest else category


def diagnosis_text(code: str, other: dict | None = None) -> str:
    """A diagnosis code in words: the list's label, else the referrer's own description of
    the other diagnosis (clinical.other_diagnosis of the intake), else the code alone."""
    if code in DIAGNOSIS_LABELS:
        return DIAGNOSIS_LABELS[code]
    if other and other.get("code") == code and other.get("description"):
        return f"{code} {other['description']}"
    return code


def other_diagnosis_of(intake: dict | None) -> dict | None:
    """The other diagnosis typed on the intake ({"code", "description"}), or None."""
    return ((intake or {}).get("clinical") or {}).get("other_diagnosis") or None


def primary_diagnosis_text(intake: dict | None, primary: str) -> str:
    """The referral's primary diagnosis in words (the other diagnosis's own words if it is)."""
    return diagnosis_text(primary, other_diagnosis_of(intake))


def other_diagnosis_text(intake: dict | None, primary: str) -> str:
    """The other diagnosis in words where it is not the primary one; "" otherwise."""
    other = other_diagnosis_of(intake)
    if not other or other.get("code") == primary:
        return ""
    return diagnosis_text(other["code"], other)


REQUESTED_MODALITIES: list[tuple[str, str]] = [
    ("iv_ketamine", "IV ketamine infusion"),
    ("spravato", "SPRAVATO (esketamine nasal spray)"),
    ("clinic_choice", "Clinic's choice"),
]
TREATMENT_MODALITIES: list[tuple[str, str]] = REQUESTED_MODALITIES[:2]
MODALITY_LABELS = dict(REQUESTED_MODALITIES)
MODALITY_SHORT = {
    "iv_ketamine": "IV ketamine",
    "spravato": "SPRAVATO",
    "clinic_choice": "Clinic's choice",
}

SEXES: list[tuple[str, str]] = [
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Other"),
    ("unknown", "Not stated"),
]
SEX_LABELS = dict(SEXES)

URGENCIES: list[tuple[str, str]] = [("routine", "Routine"), ("urgent", "Urgent")]
URGENCY_LABELS = dict(URGENCIES)
