"""Fixed vocabularies of a referral: diagnoses, modalities, sexes, urgency."""

from __future__ import annotations

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
