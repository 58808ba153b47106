"""The clinical limits the portal applies, each declared once (DOMAIN.md). Pure module.

The intake's screening (portal.referrals.screening) and the session's safety prompts
(portal.treatment.safety) import them from here, so a limit cannot drift between the two.
"""

from __future__ import annotations

from decimal import Decimal

# Blood pressure above 140/90 (either number above its limit): flagged at referral, and before
# dosing a benefit-risk decision the clinician records.
BP_LIMIT = (140, 90)
BP_LIMIT_TEXT = f"{BP_LIMIT[0]}/{BP_LIMIT[1]}"
# The published IV ketamine dose range; a dose outside it needs the clinician's confirmation.
DOSE_RANGE_MG_PER_KG = (Decimal("0.1"), Decimal("0.75"))
DOSE_RANGE_TEXT = f"{DOSE_RANGE_MG_PER_KG[0]}-{DOSE_RANGE_MG_PER_KG[1]} mg/kg"
# SPRAVATO REMS: at least 120 minutes of monitoring from the first device, and the patient
# monitoring form submitted within 7 days of the treatment.
REMS_MIN_MONITORING_MINUTES = 120
REMS_DEADLINE_DAYS = 7


def bp_above_limit(systolic: int | None, diastolic: int | None) -> bool:
    """Blood pressure above 140/90: either number above its limit (a missing one is not)."""
    high_systolic, high_diastolic = BP_LIMIT
    return (systolic or 0) > high_systolic or (diastolic or 0) > high_diastolic


def dose_outside_range(mg_per_kg: Decimal | None) -> bool:
    """An IV dose outside the published range (no dose: not outside)."""
    if mg_per_kg is None:
        return False
    low, high = DOSE_RANGE_MG_PER_KG
    return not low <= mg_per_kg <= high
