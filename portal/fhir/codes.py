"""The code systems and codes of the API (DOMAIN.md "Exchanging referrals with EHRs").

Pure module. Where a standard code exists it is used; the portal's own codes (scales without a
LOINC code, trial outcomes, medication classes, modalities) live in code systems published at
`{PUBLIC_BASE_URL}/fhir/r4/CodeSystem/<id>` and listed in the CapabilityStatement."""

from __future__ import annotations

from portal.letters.models import LETTER_KINDS
from portal.referrals.intake_forms import TRIAL_OUTCOMES
from portal.referrals.screening import FLAGGED_MED_CLASSES
from portal.referrals.states import State
from portal.referrals.vocab import REQUESTED_MODALITIES
from portal.scales.items import ITEMS

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
UCUM = "http://unitsofmeasure.org"
BSER_STATUS = "http://hl7.org/fhir/us/bser/CodeSystem/TaskBusinessStatusCS"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IETF_SHA256 = "urn:ietf:rfc:6920"  # identifier system for the sha256 ("ni" hash names)

REFERRAL_CODE = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}

# BSeR business status of a referral in each state (DOMAIN.md); drafts are never exposed.
BUSINESS_STATUS: dict[State, tuple[str, str]] = {
    State.SUBMITTED: ("2.0", "Service Request Created"),
    State.IN_REVIEW: ("2.0", "Service Request Created"),
    State.NEEDS_INFO: ("2.0", "Service Request Created"),
    State.ACCEPTED: ("3.0", "Service Request Accepted"),
    State.DECLINED: ("4.0", "Service Request Declined"),
    State.SCHEDULED: ("5.1.1", "Service Request Event Scheduled"),
    State.IN_TREATMENT: ("5.1.4", "Service Request Event Completed"),
    State.COMPLETED: ("7.0", "Service Request Fulfillment Completed"),
    State.CANCELLED: ("6.0", "Service Request Fulfillment Cancelled"),
}

# LOINC (DOMAIN.md): panel, total and items of PHQ-9; panel and total of GAD-7.
PHQ9_PANEL, PHQ9_TOTAL = "44249-1", "44261-6"
PHQ9_ITEMS = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
)
PHQ9_ANSWERS = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")  # 0-3
LOINC_SCALES = {"PHQ-9": (PHQ9_PANEL, PHQ9_TOTAL), "GAD-7": ("69737-5", "70274-6")}
# Vital signs of the intake (LOINC): systolic, diastolic, heart rate.
BP_PANEL, SYSTOLIC, DIASTOLIC, PULSE = "85354-9", "8480-6", "8462-4", "8867-4"

# The portal's own code systems, by id (published at .../CodeSystem/<id>).
OWN_SYSTEMS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "scale": (
        "Rating scales, their totals and items, where LOINC has no code here",
        [
            *((f"{scale}", f"{scale} panel") for scale in ITEMS),
            *((f"{scale}-total", f"{scale} total score") for scale in ITEMS),
            *(
                (f"{scale}-{number}", f"{scale} item {number}: {text}")
                for scale, texts in ITEMS.items()
                for number, text in enumerate(texts, start=1)
            ),
        ],
    ),
    "trial-outcome": (
        "Outcome of a prior antidepressant trial",
        list(TRIAL_OUTCOMES),
    ),
    "medication-kind": (
        "Why a medication is listed on a referral",
        [("antidepressant-trial", "Prior antidepressant trial"), ("current", "Current")],
    ),
    "medication-class": (
        "Medication classes the SPRAVATO monitoring form asks about",
        list(FLAGGED_MED_CLASSES),
    ),
    "modality": ("Requested treatment", list(REQUESTED_MODALITIES)),
    "letter-kind": (
        "Kinds of letters the clinic sends back",
        list(LETTER_KINDS.items()),
    ),
}


def item_code(scale: str, number: int) -> str:
    """The portal's code of a scale item without LOINC code here: 'GAD-7-3'."""
    return f"{scale}-{number}"
