"""Fixed vocabularies of session documentation (DOMAIN.md "Treatment protocols", "SPRAVATO
REMS patient monitoring form")."""

from __future__ import annotations

ADVERSE_EVENTS: list[tuple[str, str]] = [
    ("nausea_vomiting", "Nausea or vomiting"),
    ("dizziness", "Dizziness"),
    ("headache", "Headache"),
    ("raised_bp", "Raised blood pressure"),
    ("dissociation", "Dissociation"),
    ("anxiety", "Anxiety"),
    ("other", "Other"),
]
ADVERSE_EVENT_LABELS = dict(ADVERSE_EVENTS)

# The REMS form asks yes/no for each of these classes.
CONCOMITANT_MEDICATIONS: list[tuple[str, str]] = [
    ("benzodiazepines", "Benzodiazepines"),
    ("sedative_hypnotics", "Non-benzodiazepine sedative hypnotics"),
    ("psychostimulants", "Psychostimulants"),
    ("maois", "Monoamine oxidase inhibitors (MAOIs)"),
    ("opioids", "Opioids"),
]

SPRAVATO_DOSES: list[tuple[str, str]] = [("56", "56 mg"), ("84", "84 mg"), ("other", "Other")]
MG_PER_DEVICE = 28  # one device holds 28 mg (two sprays)

VITAL_PHASES: list[tuple[str, str]] = [
    ("before", "Before"),
    ("during", "During"),
    ("after", "After"),
]
