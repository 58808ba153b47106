"""Issuing letters: render, store the final PDF with its sha256, supersede the earlier version."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db
from portal.letters.context import summary_context
from portal.letters.models import Letter
from portal.letters.pdf import RenderedPdf, render_pdf
from portal.letters.storage import seal_pdf
from portal.referrals.permissions import can_document
from portal.referrals.service import add_event, lock_for_edit

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

SUMMARY = "treatment_summary"
SUMMARY_TEMPLATE = "letters/treatment_summary.html"


class LetterNotAllowed(ValueError):
    """The letter cannot be issued for this referral or by this user."""


def render_summary(
    referral: Referral, *, narrative: str, signer: User | None, version: int, signed_at=None
) -> RenderedPdf:
    """The treatment summary as PDF bytes, not stored."""
    context = summary_context(
        referral,
        narrative=narrative,
        signer=signer,
        signed_at=signed_at or utcnow(),
        version=version,
    )
    return render_pdf(SUMMARY_TEMPLATE, context)


def issue_summary(
    referral: Referral, *, actor: User, narrative: str, expected_version: int
) -> Letter:
    """Sign and store a treatment summary; an earlier one becomes superseded."""
    if not can_document(actor, referral):
        raise LetterNotAllowed("Only a clinician of the clinic can sign a treatment summary.")
    if referral.course is None or not referral.course.sessions:
        raise LetterNotAllowed("A treatment summary needs at least one documented session.")
    # Two clinicians signing at once would both take the same next version number.
    lock_for_edit(referral, actor=actor, expected_version=expected_version)
    version = (
        db.session.scalar(
            select(func.max(Letter.version)).where(
                Letter.referral_id == referral.id, Letter.kind == SUMMARY
            )
        )
        or 0
    ) + 1
    signed_at = utcnow()
    rendered = render_summary(
        referral, narrative=narrative, signer=actor, version=version, signed_at=signed_at
    )
    for earlier in referral.letters:
        if earlier.kind == SUMMARY and earlier.status == "final":
            earlier.status = "superseded"
    letter = Letter(
        referral=referral,
        kind=SUMMARY,
        version=version,
        status="final",
        narrative=narrative,
        pdf=seal_pdf(rendered.data),
        sha256=hashlib.sha256(rendered.data).hexdigest(),
        page_count=rendered.pages,
        signed_by_id=actor.id,
        created_at=signed_at,
    )
    db.session.add(letter)
    db.session.flush()
    record("letter.create", "letter", letter.id, actor=actor, detail=f"version {version}")
    add_event(
        referral,
        "letter_issued",
        actor=actor,
        reason=f"Treatment summary letter, version {version}, is ready to download.",
    )
    return letter


def mark_downloaded(letter: Letter, *, actor: User) -> None:
    """Record the download; the referrer's first one is the proof of receipt."""
    if actor.id == letter.referral.referrer_id and letter.first_downloaded_at is None:
        letter.first_downloaded_at = utcnow()
        letter.first_downloaded_by_id = actor.id
    record("letter.download", "letter", letter.id, actor=actor)
