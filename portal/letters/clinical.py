"""The clinical part of progress and summary letters, as plain values: the session table,
each scale's outcome with its chart, and the adverse events summarised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.referrals.vocab import MODALITY_SHORT
from portal.treatment.outcomes import course_outcome
from portal.treatment.queries import session_scores
from portal.treatment.vocab import ADVERSE_EVENT_LABELS

if TYPE_CHECKING:
    from portal.referrals.models import Referral
    from portal.treatment.models import TreatmentSession


def highest_bp_after(session: TreatmentSession) -> str:
    """The highest systolic reading after dosing: the timed rows during and after, and the
    reading about 40 minutes after the dose (DOMAIN.md: blood pressure peaks about then)."""
    readings = [(session.bp_post_systolic, session.bp_post_diastolic)]
    for row in session.vitals or []:
        if row.get("phase") in ("during", "after") and row.get("bp_systolic"):
            readings.append((int(row["bp_systolic"]), int(row.get("bp_diastolic") or 0)))
    if session.bp_leave_systolic:
        readings.append((session.bp_leave_systolic, session.bp_leave_diastolic or 0))
    systolic, diastolic = max(readings)
    return f"{systolic}/{diastolic}"


def _adverse_events(session: TreatmentSession) -> str:
    names = [
        session.adverse_event_other or "Other"
        if code == "other"
        else ADVERSE_EVENT_LABELS.get(code, code)
        for code in session.adverse_events or []
    ]
    return ", ".join(names) if names else "None"


def session_rows(referral: Referral) -> list[dict]:
    course = referral.course
    phq9 = session_scores(referral)
    return [
        {
            "number": number,
            "date": s.session_date.isoformat(),
            "modality": MODALITY_SHORT.get(s.modality, s.modality),
            "dose": f"{s.dose_mg.normalize():f} mg",
            "bp_pre": f"{s.bp_pre_systolic}/{s.bp_pre_diastolic}",
            "bp_after": highest_bp_after(s),
            "adverse_events": _adverse_events(s),
            "phq9": phq9.get(s.id),
            "notes": s.notes.strip(),
        }
        for number, s in enumerate(course.sessions if course else [], start=1)
    ]


def _percent(value: float | None) -> str:
    return f"{value:+.0f}%" if value is not None else "n/a"


def outcome_values(referral: Referral) -> dict:
    """Sessions done, each scale baseline to latest with response and remission, the charts
    (escaped SVG markup from portal.treatment.chart) and the adverse events counted."""
    outcome = course_outcome(referral)
    if outcome is None:
        return {"scales": [], "adverse": [], "adverse_total": 0, "serious": 0}
    scales = []
    for s in outcome.scales:
        change = s.change
        scales.append(
            {
                "code": s.code,
                "name": s.name,
                "baseline": f"{s.baseline.total} ({s.baseline.band})",
                "baseline_date": s.baseline.taken_on.isoformat(),
                "baseline_source": "referral" if s.baseline_from_referral else "first score",
                "latest": f"{s.latest.total} ({s.latest.band})" if s.latest else "",
                "latest_date": s.latest.taken_on.isoformat() if s.latest else "",
                "change": f"{change.points:+d} points ({_percent(change.percent)})"
                if change
                else "",
                "response": None if change is None else ("Yes" if change.response else "No"),
                "remission": None
                if change is None or change.remission is None
                else ("Yes" if change.remission else "No"),
                "count": s.count,
                "chart": s.chart,
            }
        )
    return {
        "scales": scales,
        "adverse": [{"name": name, "count": n} for name, n in outcome.adverse_events_by_kind],
        "adverse_total": outcome.adverse_events,
        "serious": outcome.serious_adverse_events,
        "signed": outcome.sessions_signed,
    }
