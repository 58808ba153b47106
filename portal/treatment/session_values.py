"""The session form's values from a stored (unsigned) session, for correcting it."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.scheduling.models import Appointment
    from portal.treatment.models import TreatmentSession


def session_form_data(session: TreatmentSession, visit: Appointment | None = None) -> dict:
    """The form's values from a stored (unsigned) session, for editing it; the pre-visit
    instructions are the visit's (one fact, kept there)."""
    yes_no = {True: "yes", False: "no", None: None}
    simple = [
        "session_date",
        "bp_pre_systolic",
        "bp_pre_diastolic",
        "bp_post_systolic",
        "bp_post_diastolic",
        "weight_kg",
        "dose_mg_per_kg",
        "infusion_minutes",
        "infusion_started_at",
        "devices_used",
        "lot_number",
        "bp_leave_systolic",
        "bp_leave_diastolic",
        "lowest_spo2",
        "monitoring_minutes",
        "ready_to_leave_at",
        "concomitant_medications",
        "adverse_events",
        "adverse_event_other",
        "interventions",
        "escort_confirmed",
        "discharge_at",
        "notes",
        "spravato_dose",
    ]
    data = {name: getattr(session, name) for name in simple}
    for name in [
        "vitals_ok_before",
        "vitals_ok_leaving",
        "sedation",
        "dissociation",
        "respiratory_depression",
        "serious_adverse_events",
    ]:
        data[name] = yes_no[getattr(session, name)]
    data["instructions_given"] = bool(visit and visit.instructions_given)
    data["dose_confirmed"] = session.dose_outside_range_confirmed
    data["dose_other_mg"] = session.dose_mg if session.spravato_dose == "other" else None
    data["vitals"] = [
        {**row, "time": time.fromisoformat(row["time"])} for row in session.vitals or []
    ]
    return data
