"""Safety prompts of a session, from the clinical limits (portal.clinical_limits). Pure module.

A prompt warns; the clinician answers it (a reason, a confirmation), and the answer is kept
with the session. Only what the issue names as unsignable (a SPRAVATO session with under 120
minutes of monitoring or without a recorded REMS enrolment) stops signing, and it says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.clinical_limits import (
    BP_LIMIT_TEXT,
    DOSE_RANGE_TEXT,
    REMS_DEADLINE_DAYS,
    REMS_MIN_MONITORING_MINUTES,
    bp_above_limit,
    dose_outside_range,
)


@dataclass(frozen=True)
class Prompt:
    code: str  # "bp_high", "dose_range", "monitoring_short", "rems_not_enrolled"
    message: str
    blocks_signing: bool = False  # cannot be signed until the facts change
    needs_reason: bool = False  # signing needs a written reason
    needs_confirmation: bool = False  # saving needs a confirmation tick


def dose_mg(weight_kg: Decimal, mg_per_kg: Decimal) -> Decimal:
    """The IV dose in mg, to 0.1 mg."""
    return (weight_kg * mg_per_kg).quantize(Decimal("0.1"))


def bp_prompt(systolic: int | None, diastolic: int | None) -> Prompt | None:
    if not bp_above_limit(systolic, diastolic):
        return None
    return Prompt(
        "bp_high",
        f"Blood pressure before dosing was {systolic}/{diastolic} mmHg, above {BP_LIMIT_TEXT}. "
        f"Dosing above {BP_LIMIT_TEXT} is a benefit-risk decision: record why the session went "
        "ahead before signing.",
        needs_reason=True,
    )


def dose_prompt(mg_per_kg: Decimal | None) -> Prompt | None:
    if not dose_outside_range(mg_per_kg):
        return None
    return Prompt(
        "dose_range",
        f"{mg_per_kg.normalize():f} mg/kg is outside the published range of {DOSE_RANGE_TEXT}. "
        "Confirm that this dose is intended.",
        needs_confirmation=True,
    )


def spravato_prompts(monitoring_minutes: int | None, rems_enrolled_on: date | None) -> list[Prompt]:
    """What stops a SPRAVATO session from being signed (REMS requirements)."""
    prompts = []
    if monitoring_minutes is None or monitoring_minutes < REMS_MIN_MONITORING_MINUTES:
        shown = "not recorded" if monitoring_minutes is None else f"{monitoring_minutes} minutes"
        prompts.append(
            Prompt(
                "monitoring_short",
                f"Total monitoring time is {shown}. The SPRAVATO REMS requires at least "
                f"{REMS_MIN_MONITORING_MINUTES} minutes from the first device, and until "
                "sedation, dissociation and respiratory depression have resolved.",
                blocks_signing=True,
            )
        )
    if rems_enrolled_on is None:
        prompts.append(
            Prompt(
                "rems_not_enrolled",
                "The patient's SPRAVATO REMS enrolment is not recorded. Record the enrolment "
                "date before signing.",
                blocks_signing=True,
            )
        )
    return prompts


def days_left(treatment_date: date, today: date) -> int:
    """Days left of the 7-day REMS deadline; negative when overdue."""
    return (treatment_date - today).days + REMS_DEADLINE_DAYS
