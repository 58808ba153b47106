"""The clinical part of progress and summary letters, as plain values: the session table,
each scale's outcome with its chart, and the adverse events summarised.

A long course (more than CONDENSE_OVER sessions) is summarised: its sessions in at most
GROUP_ROWS rows of consecutive sessions (dates, dose range, highest blood pressures, adverse
events, PHQ-9 first to last), every session listed in an appendix only if the clinician asks
for it. A letter of a 60-session course thus stays a few pages and renders quickly."""

from __future__ import annotations

from collections import Counter
from math import ceil
from typing import TYPE_CHECKING

from portal.referrals.vocab import MODALITY_SHORT
from portal.treatment.outcomes import course_outcome
from portal.treatment.queries import session_scores
from portal.treatment.vocab import ADVERSE_EVENT_LABELS

if TYPE_CHECKING:
    from portal.referrals.models import Referral
    from portal.treatment.models import TreatmentSession


# Courses longer than this are summarised in grouped rows; at most this many rows.
CONDENSE_OVER = 12
GROUP_ROWS = 8


def highest_bp_after(session: TreatmentSession) -> str:
    """The highest systolic reading after dosing: the timed rows during and after, and the
    reading about 40 minutes after the dose (DOMAIN.md: blood pressure peaks about then)."""
    systolic, diastolic = _highest_after(session)
    return f"{systolic}/{diastolic}"


def _highest_after(session: TreatmentSession) -> tuple[int, int]:
    readings = [(session.bp_post_systolic, session.bp_post_diastolic)]
    for row in session.vitals or []:
        if row.get("phase") in ("during", "after") and row.get("bp_systolic"):
            readings.append((int(row["bp_systolic"]), int(row.get("bp_diastolic") or 0)))
    if session.bp_leave_systolic:
        readings.append((session.bp_leave_systolic, session.bp_leave_diastolic or 0))
    return max(readings)


def _adverse_names(session: TreatmentSession) -> list[str]:
    return [
        session.adverse_event_other or "Other"
        if code == "other"
        else ADVERSE_EVENT_LABELS.get(code, code)
        for code in session.adverse_events or []
    ]


def _adverse_events(session: TreatmentSession) -> str:
    names = _adverse_names(session)
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
            # The raw values the grouped rows of a long course are made from.
            "dose_mg": s.dose_mg,
            "bp_pre_value": (s.bp_pre_systolic, s.bp_pre_diastolic),
            "bp_after_value": _highest_after(s),
            "adverse_names": _adverse_names(s),
        }
        for number, s in enumerate(course.sessions if course else [], start=1)
    ]


def _mg(value) -> str:
    return f"{value.normalize():f}"


def _group(rows: list[dict]) -> dict:
    first, last = rows[0], rows[-1]
    doses = [row["dose_mg"] for row in rows]
    low, high = min(doses), max(doses)
    pre = max(row["bp_pre_value"] for row in rows)
    after = max(row["bp_after_value"] for row in rows)
    events = Counter(name for row in rows for name in row["adverse_names"])
    scores = [row["phq9"] for row in rows if row["phq9"] is not None]
    return {
        "numbers": f"{first['number']}-{last['number']}" if len(rows) > 1 else first["number"],
        "count": len(rows),
        "dates": first["date"] if len(rows) == 1 else f"{first['date']} to {last['date']}",
        "modality": ", ".join(dict.fromkeys(row["modality"] for row in rows)),
        "dose": f"{_mg(low)} mg" if low == high else f"{_mg(low)}-{_mg(high)} mg",
        "bp_pre": f"{pre[0]}/{pre[1]}",
        "bp_after": f"{after[0]}/{after[1]}",
        "adverse_events": ", ".join(f"{name} ({n})" for name, n in events.items()) or "None",
        "phq9": (
            "-"
            if not scores
            else (str(scores[0]) if len(scores) == 1 else f"{scores[0]} to {scores[-1]}")
        ),
        "notes": sum(1 for row in rows if row["notes"]),
    }


def session_groups(rows: list[dict]) -> list[dict] | None:
    """The sessions of a long course in at most GROUP_ROWS rows of consecutive sessions;
    None when the course is short enough to list every session."""
    if len(rows) <= CONDENSE_OVER:
        return None
    size = ceil(len(rows) / GROUP_ROWS)
    return [_group(rows[start : start + size]) for start in range(0, len(rows), size)]


def _percent(value: float | None) -> str:
    return f"{value:+.0f}%" if value is not None else "n/a"


def outcome_values(referral: Referral) -> dict:
    """Sessions done, each scale baseline to latest with response and remission, the charts
    (escaped SVG markup from portal.treatment.chart) and the adverse events counted."""
    outcome = course_outcome(referral, for_print=True)
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
                "chart_title": s.chart_title,
            }
        )
    return {
        "scales": scales,
        "adverse": [{"name": name, "count": n} for name, n in outcome.adverse_events_by_kind],
        "adverse_total": outcome.adverse_events,
        "serious": outcome.serious_adverse_events,
        "signed": outcome.sessions_signed,
    }
