"""What the portal works out from an intake: screening flags, the TRD check and urgency.

Pure module over the intake document (see portal.referrals.intake_forms). The flags are
DOMAIN.md's "Screening flags": shown to the coordinator with the answer that raised them,
decided by a clinician. Nothing here accepts or declines a referral.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from portal.clinical_limits import BP_LIMIT_TEXT, bp_above_limit

ADEQUATE_TRIAL_WEEKS = 6  # DOMAIN.md: adequate dose and duration, about 6+ weeks
FAILED_OUTCOMES = frozenset({"no_response", "partial_response"})

# DOMAIN.md "SPRAVATO label indication": adults (18 and over) with major depressive disorder
# (ICD-10 F32.x single episode, F33.x recurrent). Anything else is outside the label: a
# clinician's acknowledged judgement, never a silent acceptance or refusal.
SPRAVATO_ADULT_AGE = 18
MDD_PREFIXES = ("F32", "F33")
BIPOLAR_PREFIX = "F31"
OFF_LABEL = "spravato_off_label"
OFF_LABEL_TEXT = "Outside the SPRAVATO label"
# Flags a clinician must acknowledge, with a reason, before a referral is accepted: the
# label flag (when the treatment is SPRAVATO) and psychosis or mania (either treatment).
NEEDS_CLINICIAN_ACKNOWLEDGEMENT = frozenset({OFF_LABEL, "psychosis"})

# Screening questions of the intake: (key, question, flag label).
SCREENING_QUESTIONS: list[tuple[str, str, str]] = [
    (
        "aneurysm",
        "Aneurysmal vascular disease (aorta, intracranial, peripheral) or arteriovenous "
        "malformation?",
        "Aneurysmal vascular disease or AVM (SPRAVATO contraindication)",
    ),
    (
        "ich",
        "History of intracerebral hemorrhage?",
        "History of intracerebral hemorrhage (SPRAVATO contraindication)",
    ),
    (
        "hypersensitivity",
        "Hypersensitivity to ketamine or esketamine?",
        "Hypersensitivity to ketamine or esketamine (contraindication)",
    ),
    (
        "psychosis",
        "Active psychosis or mania, or a psychotic disorder?",
        "Psychosis or mania (clinic exclusion; assess carefully)",
    ),
    (
        "uncontrolled_htn",
        "Uncontrolled hypertension?",
        "Uncontrolled hypertension (benefit-risk decision)",
    ),
    (
        "unstable_cv",
        "Unstable cardiovascular disease?",
        "Unstable cardiovascular disease (clinic exclusion)",
    ),
    (
        "sud",
        "Active substance use disorder?",
        "Active substance use disorder (consider carefully)",
    ),
    (
        "pregnancy",
        "Pregnant or breastfeeding?",
        "Pregnancy or breastfeeding (not recommended)",
    ),
]

# DOMAIN.md flags "pregnancy or breastfeeding" (label: not recommended) and states no rule of
# sex or age for it. The question is left out only where it cannot apply: the patient's sex
# recorded as male. Female, other and not stated are asked; no age limit is applied.
PREGNANCY_NOT_ASKED_FOR = frozenset({"male"})


def pregnancy_asked(sex: str | None) -> bool:
    """Whether the intake asks the pregnancy or breastfeeding question for this sex."""
    return (sex or "") not in PREGNANCY_NOT_ASKED_FOR


# Medication classes the SPRAVATO monitoring form asks about (DOMAIN.md).
FLAGGED_MED_CLASSES: list[tuple[str, str]] = [
    ("benzodiazepine", "Benzodiazepine"),
    ("sedative_hypnotic", "Non-benzodiazepine sedative hypnotic"),
    ("psychostimulant", "Psychostimulant"),
    ("maoi", "MAOI"),
    ("opioid", "Opioid"),
]
MED_CLASS_LABELS = dict(FLAGGED_MED_CLASSES)
SHORT_LABELS = {
    "aneurysm": "Aneurysm / AVM",
    "ich": "Intracerebral hemorrhage",
    "hypersensitivity": "Ketamine hypersensitivity",
    "psychosis": "Psychosis / mania",
    "uncontrolled_htn": "Uncontrolled hypertension",
    "unstable_cv": "Unstable cardiovascular disease",
    "sud": "Substance use disorder",
    "pregnancy": "Pregnancy / breastfeeding",
    OFF_LABEL: "Outside SPRAVATO label",
    "bp_high": f"BP above {BP_LIMIT_TEXT}",
    "suicidality": "Suicidality",
    "trd_not_met": "TRD not met",
    **{f"med_{code}": label for code, label in FLAGGED_MED_CLASSES},
}


def age_on(born: date, on: date) -> int:
    """Whole years of age on `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def spravato_label_concerns(diagnosis_code: str, born: date | None, on: date | None) -> list[str]:
    """Why SPRAVATO would be outside its label for this patient, in words; empty if not."""
    concerns = []
    if born is not None and on is not None and age_on(born, on) < SPRAVATO_ADULT_AGE:
        concerns.append(
            f"patient is {age_on(born, on)}: SPRAVATO is labelled for adults "
            f"({SPRAVATO_ADULT_AGE} and over)"
        )
    code = (diagnosis_code or "").upper()
    if code.startswith(BIPOLAR_PREFIX):
        concerns.append(f"primary diagnosis {code} is bipolar depression, not labelled")
    elif code and not code.startswith(MDD_PREFIXES):
        concerns.append(f"primary diagnosis {code} is not major depressive disorder (F32.x, F33.x)")
    return concerns


def spravato_label_flag(diagnosis_code: str, born: date | None, on: date | None) -> dict | None:
    """The screening flag "outside the SPRAVATO label", or None when within it."""
    concerns = spravato_label_concerns(diagnosis_code, born, on)
    if not concerns:
        return None
    return {
        "code": OFF_LABEL,
        "label": f"{OFF_LABEL_TEXT}: a clinician must acknowledge it with a reason",
        "answer": _sentence("; ".join(concerns)),
    }


def failed_adequate_trials(trials: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Trials that count towards TRD: no or partial response after about 6+ weeks."""
    return [
        t
        for t in trials
        if t.get("outcome") in FAILED_OUTCOMES and (t.get("weeks") or 0) >= ADEQUATE_TRIAL_WEEKS
    ]


def failed_drugs(trials: list[Mapping[str, Any]]) -> set[str]:
    """The different antidepressants among the failed adequate trials (a drug tried twice,
    at two doses, counts once)."""
    return {
        " ".join(str(t.get("drug", "")).lower().split()) for t in failed_adequate_trials(trials)
    }


def trd_met(trials: list[Mapping[str, Any]]) -> bool:
    """The common TRD definition: no adequate response to at least two antidepressants."""
    return len(failed_drugs(trials)) >= 2


def suicidality_reasons(doc: Mapping[str, Any]) -> list[str]:
    """Why the referral needs prompt clinical evaluation, in words; empty if it does not."""
    reasons = []
    phq9 = (doc.get("scales") or {}).get("phq9") or []
    if len(phq9) == 9 and (phq9[8] or 0) > 0:
        reasons.append(f"PHQ-9 item 9 answered {phq9[8]}")
    suicidality = doc.get("suicidality") or {}
    if suicidality.get("recent_ideation"):
        reasons.append("recent suicidal ideation reported")
    if suicidality.get("recent_attempt"):
        reasons.append("recent suicide attempt reported")
    return reasons


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def urgency_for(doc: Mapping[str, Any], requested: str) -> str:
    """Urgent when suicidality is reported, whatever the referrer chose; else their choice."""
    return "urgent" if suicidality_reasons(doc) else requested


def screening_flags(doc: Mapping[str, Any], on: date | None = None) -> list[dict[str, str]]:
    """Each flag with the answer that raised it: [{"code", "label", "answer"}]. `on` is the
    day the referral is sent (the patient's age for the SPRAVATO label is taken then)."""
    flags: list[dict[str, str]] = []
    if ((doc.get("request") or {}).get("modality")) == "spravato":
        born = (doc.get("patient") or {}).get("date_of_birth")
        diagnoses = (doc.get("clinical") or {}).get("diagnoses") or [""]
        label = spravato_label_flag(diagnoses[0], date.fromisoformat(born) if born else None, on)
        if label:
            flags.append(label)
    answers = doc.get("screening") or {}
    for key, question, label in SCREENING_QUESTIONS:
        if answers.get(key):
            detail = (answers.get(f"{key}_details") or "").strip()
            answer = f"{question} Yes" + (f": {detail}" if detail else "")
            flags.append({"code": key, "label": label, "answer": answer})
    clinical = doc.get("clinical") or {}
    sys_bp, dia_bp = clinical.get("bp_systolic"), clinical.get("bp_diastolic")
    if bp_above_limit(sys_bp, dia_bp):
        flags.append(
            {
                "code": "bp_high",
                "label": f"Office blood pressure above {BP_LIMIT_TEXT}",
                "answer": f"Recent office blood pressure {sys_bp}/{dia_bp} mmHg",
            }
        )
    reasons = suicidality_reasons(doc)
    if reasons:
        flags.append(
            {
                "code": "suicidality",
                "label": "Suicidality: needs prompt clinical evaluation (referral made urgent)",
                "answer": _sentence("; ".join(reasons)),
            }
        )
    trials = doc.get("trials") or []
    if not trd_met(trials):
        failed = len(failed_drugs(trials))
        flags.append(
            {
                "code": "trd_not_met",
                "label": "Fewer than two failed adequate antidepressant trials (TRD not met)",
                "answer": f"{failed} antidepressant{'s' if failed != 1 else ''} failed at "
                f"6+ weeks (no or partial response), of {len(trials)} "
                f"trial{'s' if len(trials) != 1 else ''} listed",
            }
        )
    for med in doc.get("medications") or []:
        drug_class = med.get("drug_class")
        if drug_class in MED_CLASS_LABELS:
            flags.append(
                {
                    "code": f"med_{drug_class}",
                    "label": f"Current medication: {MED_CLASS_LABELS[drug_class].lower()}",
                    "answer": " ".join(p for p in (med.get("name"), med.get("dose")) if p),
                }
            )
    return flags
