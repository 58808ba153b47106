"""The plain values a letter is rendered from: no ORM object reaches a template.

Every text here is a str and is escaped by Jinja; the only markup is the trend chart (built
and escaped by portal.treatment.chart) and the QR code (built by segno from our own URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import current_app
from markupsafe import Markup

from portal.clock import clinic_zone
from portal.letters import clinical
from portal.letters.models import ACCEPTANCE, ACKNOWLEDGEMENT, CLINICAL_KINDS, INTERIM, LETTER_KINDS
from portal.referrals.vocab import (
    MODALITY_LABELS,
    SEX_LABELS,
    URGENCY_LABELS,
    other_diagnosis_text,
    primary_diagnosis_text,
)

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

# Where the letter's verification QR code points; the portal's public address.
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class LetterInput:
    """What identifies one rendering of a letter besides the referral."""

    kind: str
    sequence: int = 1
    version: int = 1
    narrative: str = ""
    recommendations: str = ""
    signer: User | None = None
    signed_at: datetime | None = None  # None: a draft, printed now
    verify_code: str | None = None
    logo_url: str = "img/logo.svg"
    # Acceptance: the planned appointment dates, once scheduling provides them.
    planned_dates: list[date] = field(default_factory=list)
    # A long course's letter: list every session in an appendix (the clinician's choice).
    all_sessions: bool = False


def _local(moment: datetime) -> datetime:
    return moment.astimezone(clinic_zone())


# The code a draft shows where the signed letter will carry its own (same length, same room).
DRAFT_CODE = "XXXXX-XXXXX"


def _paragraphs(text: str) -> list[str]:
    """Paragraphs split at blank lines; the line breaks inside one are kept (the template
    shows them with white-space: pre-line; the text stays plain, escaped)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = re.split(r"\n[ \t]*\n", text)
    return [
        "\n".join(line.rstrip() for line in p.strip("\n").splitlines()).strip()
        for p in paragraphs
        if p.strip()
    ]


# An acknowledgement is a one-page receipt: long free text is quoted up to this many characters
# (the full text stays on the portal).
ACK_QUOTE_CHARS = 300


def _quote(text: str, limit: int = ACK_QUOTE_CHARS) -> str:
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "... (the full text is on the portal)"


def _salutation(person: User) -> str:
    """'Dr. Chen' for physicians, the full name otherwise."""
    if person.credentials.replace(".", "").upper() in {"MD", "DO"}:
        return f"Dr. {person.full_name.split()[-1]}"
    return person.full_name


def referrer_block(referrer: User) -> dict:
    """The address block: the referrer's own profile address, else their practice's."""
    practice = referrer.practice
    own = [line for line in (referrer.address_line1, referrer.address_line2) if line]
    if own:
        city = " ".join(
            p for p in (f"{referrer.city}," if referrer.city else "", referrer.region) if p
        )
        lines = [*own, " ".join(p for p in (city, referrer.postal_code) if p)]
        lines = [line for line in lines if line]
    else:
        lines = practice.address_lines() if practice else []
    return {
        "name": referrer.display_name,
        "salutation": _salutation(referrer),
        "practice": practice.name if practice else "",
        "lines": lines,
        "fax": referrer.fax or (practice.fax if practice else ""),
        "npi": referrer.npi,
    }


def verify_url(code: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL
    return f"{base.rstrip('/')}/verify/{code}"


def qr_svg(url: str) -> Markup:
    """The QR code as inline SVG (drawn locally by segno; nothing is fetched)."""
    import segno  # with the first letter, not at start-up

    svg = segno.make(url, error="m").svg_inline(scale=2, border=0, dark="#1c2733")
    return Markup(svg)  # noqa: S704 - segno's own markup of our own URL


def letter_context(referral: Referral, data: LetterInput) -> dict:
    """Everything a letter of any kind shows, as strings, numbers, lists and dicts."""
    clinic = referral.clinic
    patient = referral.patient
    moment = data.signed_at
    draft = moment is None
    printed = _local(moment) if moment else _local(datetime.now().astimezone())
    kind_label = LETTER_KINDS[data.kind]
    if data.kind == INTERIM:
        kind_label = f"Interim progress letter {data.sequence}"
    signer = data.signer
    context = {
        "title": f"{kind_label} - referral {referral.number}",
        "kind": data.kind,
        "clinic": {
            "name": clinic.name,
            "lines": clinic.address_lines(),
            "phone": clinic.phone,
            "fax": clinic.fax,
            "logo_url": data.logo_url,
        },
        "referrer": referrer_block(referral.referrer),
        "patient": {
            "name": patient.full_name if patient else "",
            "date_of_birth": patient.date_of_birth.isoformat() if patient else "",
            "sex": SEX_LABELS.get(patient.sex, patient.sex) if patient else "",
        },
        "referral": {
            "number": referral.number,
            "diagnosis": primary_diagnosis_text(referral.intake, referral.diagnosis_code),
            "other_diagnosis": other_diagnosis_text(referral.intake, referral.diagnosis_code),
            "submitted": referral.submitted_at.date().isoformat() if referral.submitted_at else "",
            "requested": MODALITY_LABELS.get(
                referral.requested_modality, referral.requested_modality
            ),
            "urgency": URGENCY_LABELS.get(referral.urgency, referral.urgency),
            "reason": referral.reason,
        },
        "narrative": _paragraphs(data.narrative),
        "recommendations": _paragraphs(data.recommendations),
        "signer": {
            "name": signer.full_name if signer else "",
            "credentials": signer.credentials if signer else "",
            "signed_at": f"{printed:%Y-%m-%d %H:%M %Z}",
        },
        "letter": {
            "kind_label": kind_label,
            "date": f"{printed:%B %-d, %Y}",
            "version": data.version,
            "draft": draft,
            "code": data.verify_code or "",
            "verify_url": verify_url(data.verify_code or DRAFT_CODE),
            "qr": qr_svg(verify_url(data.verify_code)) if data.verify_code else "",
        },
    }
    context.update(_kind_values(referral, data))
    return context


def _kind_values(referral: Referral, data: LetterInput) -> dict:
    course = referral.course
    values: dict = {}
    if data.kind == ACKNOWLEDGEMENT:
        doc = referral.intake or {}
        clinical_doc = doc.get("clinical", {})
        values["intake"] = {
            "trials": len(doc.get("trials", [])),
            "psychotherapy": _quote(clinical_doc.get("psychotherapy", "")),
            "medications": _quote(", ".join(m.get("name", "") for m in doc.get("medications", []))),
            "reason": _quote(referral.reason),
        }
    if course is not None:
        values["course"] = {
            "modality": MODALITY_LABELS.get(course.modality, course.modality),
            "planned": course.planned_sessions,
            "done": len(course.sessions),
            "clinician": course.clinician.display_name if course.clinician else "",
            "first": course.sessions[0].session_date.isoformat() if course.sessions else "",
            "last": course.sessions[-1].session_date.isoformat() if course.sessions else "",
            "ended_early": bool(course.end_reason),
            "end_reason": course.end_reason,
        }
    if data.kind == ACCEPTANCE:
        values["planned_dates"] = [f"{d:%A, %B %-d, %Y}" for d in data.planned_dates]
    if data.kind in CLINICAL_KINDS:
        rows = clinical.session_rows(referral)
        groups = clinical.session_groups(rows)
        values["sessions"] = rows if groups is None else []
        values["session_groups"] = groups or []
        values["appendix"] = rows if groups and data.all_sessions else []
        values["outcomes"] = clinical.outcome_values(referral)
    return values
