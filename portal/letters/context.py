"""The plain values a treatment summary is rendered from: no ORM object reaches a template."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app

from portal.referrals.vocab import DIAGNOSIS_LABELS, MODALITY_LABELS, SEX_LABELS
from portal.treatment.queries import scale_progress, session_scores

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.clinics.models import AddressMixin
    from portal.referrals.models import Referral


def _address(holder: AddressMixin | None) -> dict:
    if holder is None:
        return {"lines": [], "phone": "", "fax": ""}
    return {"lines": holder.address_lines(), "phone": holder.phone, "fax": holder.fax}


def _salutation(person: User) -> str:
    """'Dr. Chen' for physicians, the full name otherwise."""
    if person.credentials.replace(".", "").upper() in {"MD", "DO"}:
        return f"Dr. {person.full_name.split()[-1]}"
    return person.full_name


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(current_app.config["CLINIC_TIMEZONE"]))


def summary_context(
    referral: Referral,
    *,
    narrative: str,
    signer: User | None,
    signed_at: datetime,
    version: int,
) -> dict:
    """Everything the treatment summary shows, as strings, numbers and lists."""
    course = referral.course
    sessions = course.sessions if course else []
    phq9 = session_scores(referral)
    progress = scale_progress(referral)
    referrer = referral.referrer
    practice = referrer.practice
    return {
        "title": f"Treatment summary - referral {referral.number}",
        "clinic": {"name": referral.clinic.name, **_address(referral.clinic)},
        "referrer": {
            "name": referrer.display_name,
            "salutation": _salutation(referrer),
            "practice": practice.name if practice else "",
            **_address(practice),
        },
        "patient": {
            "name": referral.patient.full_name,
            "date_of_birth": referral.patient.date_of_birth.isoformat(),
            "sex": SEX_LABELS.get(referral.patient.sex, referral.patient.sex),
        },
        "referral": {
            "number": referral.number,
            "diagnosis": DIAGNOSIS_LABELS.get(referral.diagnosis_code, referral.diagnosis_code),
            "submitted": referral.submitted_at.date().isoformat() if referral.submitted_at else "",
        },
        "course": {
            "modality": MODALITY_LABELS.get(course.modality, course.modality) if course else "",
            "planned": course.planned_sessions if course else 0,
            "done": len(sessions),
            "first": sessions[0].session_date.isoformat() if sessions else "",
            "last": sessions[-1].session_date.isoformat() if sessions else "",
        },
        "sessions": [
            {
                "number": number,
                "date": s.session_date.isoformat(),
                "modality": MODALITY_LABELS.get(s.modality, s.modality),
                "dose": f"{s.dose_mg.normalize():f} mg",
                "bp_pre": f"{s.bp_pre_systolic}/{s.bp_pre_diastolic}",
                "bp_post": f"{s.bp_post_systolic}/{s.bp_post_diastolic}",
                "phq9": phq9.get(s.id),
            }
            for number, s in enumerate(sessions, start=1)
        ],
        "phq9": _progress_values(progress),
        "narrative": [p.strip() for p in narrative.split("\n\n") if p.strip()],
        # No signer: a draft, which says so on its face and carries no signature.
        "signer": {
            "name": signer.display_name if signer else "",
            "signed_at": f"{_local(signed_at):%Y-%m-%d %H:%M %Z}",
        },
        "letter": {"date": f"{_local(signed_at):%B %-d, %Y}", "version": version},
    }


def _progress_values(progress) -> dict | None:
    if progress is None:
        return None
    values = {
        "baseline": progress.baseline.total,
        "baseline_band": progress.baseline.band,
        "baseline_date": progress.baseline.taken_on.isoformat(),
        "latest": None,
    }
    if progress.latest is not None and progress.change is not None:
        change = progress.change
        values.update(
            latest=progress.latest.total,
            latest_band=progress.latest.band,
            latest_date=progress.latest.taken_on.isoformat(),
            points=f"{change.points:+d}",
            percent=f"{change.percent:+.0f}%" if change.percent is not None else "n/a",
            response="Yes" if change.response else "No",
            remission="Yes" if change.remission else "No",
        )
    return values
