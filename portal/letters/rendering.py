"""A letter's HTML and PDF as the data stand (not stored): the template of each kind, the
clinic's logo, the booked dates an acceptance letter lists. Signing keeps the HTML
(portal.letters.service.sign_letter); the job workers render it (portal.letters.issuing)."""

from __future__ import annotations

import base64
from datetime import date
from typing import TYPE_CHECKING

from flask import render_template
from sqlalchemy import select

from portal.extensions import db
from portal.letters.context import LetterInput, letter_context
from portal.letters.models import (
    ACCEPTANCE,
    ACKNOWLEDGEMENT,
    DECLINE,
    DRAFT,
    INTERIM,
    SUMMARY,
    Letter,
)
from portal.letters.pdf import RenderedPdf, render_html
from portal.scheduling.models import Appointment

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

# The PDF template of each kind (templates/letters/pdf/; the pages are in templates/letters/).
TEMPLATES = {
    ACKNOWLEDGEMENT: "letters/pdf/acknowledgement.html",
    ACCEPTANCE: "letters/pdf/acceptance.html",
    DECLINE: "letters/pdf/decline.html",
    INTERIM: "letters/pdf/interim_progress.html",
    SUMMARY: "letters/pdf/treatment_summary.html",
}


def logo_url(referral: Referral) -> str:
    """The logo's URL in a letter's HTML: the clinic's upload as a data: URL, so that the
    HTML sealed at signing carries the logo of that moment (a new upload changes later letters
    only), else the portal's own."""
    clinic = referral.clinic
    if clinic.logo and clinic.logo_mime:
        return logo_data_url(clinic.logo, clinic.logo_mime)
    return "img/logo.svg"


def logo_data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def appointment_dates(referral: Referral) -> list[date]:
    """The booked appointment dates an acceptance letter lists, in order."""
    return list(
        db.session.scalars(
            select(Appointment.day)
            .where(Appointment.referral_id == referral.id, Appointment.status == "booked")
            .order_by(Appointment.day)
        )
    )


def letter_html(
    letter: Letter, *, planned_dates: list[date] | None = None, signer: User | None = None
) -> str:
    """The letter's HTML as the data stand now: marked DRAFT unless it has been signed. A draft
    shows `signer` in the signature block, laid out as the signed letter will be. Signing
    keeps this HTML, so the PDF rendered later shows what was signed."""
    final = letter.status != DRAFT
    data = LetterInput(
        kind=letter.kind,
        sequence=letter.sequence,
        version=letter.version,
        narrative=letter.narrative,
        recommendations=letter.recommendations,
        signer=letter.signed_by if final else signer,
        signed_at=letter.created_at if final else None,
        verify_code=letter.verify_code if final else None,
        logo_url=logo_url(letter.referral),
        planned_dates=planned_dates
        if planned_dates is not None
        else (appointment_dates(letter.referral) if letter.kind == ACCEPTANCE else []),
        all_sessions=letter.include_all_sessions,
    )
    return render_template(TEMPLATES[letter.kind], **letter_context(letter.referral, data))


def letter_resources(referral: Referral) -> dict[str, tuple[bytes, str]]:
    """What a letter's HTML may fetch from memory. HTML sealed before the logo was embedded
    refers to the clinic's logo there (`MEMORY_BASE + "logo"`)."""
    clinic = referral.clinic
    return {"logo": (clinic.logo, clinic.logo_mime)} if clinic.logo and clinic.logo_mime else {}


def render_letter(
    letter: Letter, *, planned_dates: list[date] | None = None, signer: User | None = None
) -> RenderedPdf:
    """The letter as PDF bytes, not stored (see letter_html)."""
    html = letter_html(letter, planned_dates=planned_dates, signer=signer)
    return render_html(html, memory=letter_resources(letter.referral))
