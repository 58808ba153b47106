"""The plain-language paragraph a summary or progress draft starts from, built from the course:
sessions, dose range, tolerability, PHQ-9 change, response and remission. The clinician edits
it; nothing here is sent without them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from portal.referrals.vocab import MODALITY_LABELS
from portal.treatment.outcomes import course_outcome

if TYPE_CHECKING:
    from portal.referrals.models import Referral


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}".rstrip(".")


def course_paragraph(referral: Referral) -> str:
    """One paragraph in words, or "" when there is no documented session yet."""
    course = referral.course
    if course is None or not course.sessions:
        return ""
    sessions = course.sessions
    modality = MODALITY_LABELS.get(course.modality, course.modality)
    done = len(sessions)
    first, last = sessions[0].session_date, sessions[-1].session_date
    parts = [
        f"{referral.patient.first_name if referral.patient else 'The patient'} has had "
        f"{done} of {course.planned_sessions} planned {modality} session"
        f"{'s' if course.planned_sessions != 1 else ''}, from {first.isoformat()} to "
        f"{last.isoformat()}."
    ]
    doses = sorted({s.dose_mg for s in sessions if s.dose_mg})
    if doses:
        low, high = doses[0], doses[-1]
        per_kg = sorted({s.dose_mg_per_kg for s in sessions if s.dose_mg_per_kg})
        kg = ""
        if per_kg:
            kg = (
                f" ({_mg(per_kg[0])} mg/kg)"
                if per_kg[0] == per_kg[-1]
                else f" ({_mg(per_kg[0])} to {_mg(per_kg[-1])} mg/kg)"
            )
        dose = f"{_mg(low)} mg" if low == high else f"{_mg(low)} to {_mg(high)} mg"
        parts.append(f"The dose was {dose}{kg}.")
    outcome = course_outcome(referral)
    if outcome is not None:
        if outcome.adverse_events == 0:
            parts.append("Treatment was well tolerated, with no adverse event recorded.")
        else:
            kinds = ", ".join(name.lower() for name, _ in outcome.adverse_events_by_kind)
            serious = (
                f"; {outcome.serious_adverse_events} serious"
                if outcome.serious_adverse_events
                else "; none serious"
            )
            count = outcome.adverse_events
            were = "adverse events were" if count != 1 else "adverse event was"
            parts.append(f"{count} {were} recorded ({kinds}){serious}.")
        phq9 = next((s for s in outcome.scales if s.code == "PHQ-9"), None)
        if phq9 and phq9.latest and phq9.change:
            change = phq9.change
            percent = (
                f", {abs(change.percent):.0f}% lower"
                if change.percent and change.points < 0
                else ""
            )
            parts.append(
                f"The PHQ-9 went from {phq9.baseline.total} ({phq9.baseline.band}) to "
                f"{phq9.latest.total} ({phq9.latest.band}){percent}: "
                + ("a response" if change.response else "not yet a response (a 50% drop)")
                + (", and remission (below 5)." if change.remission else ".")
            )
    return " ".join(parts)
