"""Letters: drafts the clinician edits and previews, signing (password asked again), the
final PDF stored unchangeable with its sha256, corrections as new versions, receipt."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from portal.audit.service import record
from portal.auth import lockout
from portal.auth.reauth import confirm_identity
from portal.db import utcnow
from portal.extensions import db
from portal.letters.codes import new_code
from portal.letters.context import LetterInput, letter_context
from portal.letters.course_text import course_paragraph
from portal.letters.errors import LetterNotAllowed, SignerNotConfirmed
from portal.letters.issuing import issue
from portal.letters.models import (
    ACCEPTANCE,
    ACKNOWLEDGEMENT,
    CLINICAL_KINDS,
    DECLINE,
    DRAFT,
    FINAL,
    INTERIM,
    LETTER_KINDS,
    SUMMARY,
    SUPERSEDED,
    Letter,
)
from portal.letters.pdf import (
    RenderedPdf,
    render_pdf,
    stamp_superseded,
)
from portal.letters.rendering import TEMPLATES, letter_html, logo_url, render_letter
from portal.letters.storage import open_pdf, seal_html, seal_pdf
from portal.referrals.models import ReferralEvent
from portal.referrals.permissions import can_document
from portal.referrals.states import IN_CARE, State

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

# The states in which a clinician may start each kind by hand.
STARTABLE = {
    ACCEPTANCE: IN_CARE,
    DECLINE: (State.DECLINED,),
    INTERIM: (State.IN_TREATMENT,),
    SUMMARY: (State.COMPLETED, State.CANCELLED),
}


def startable_kinds(user: User, referral: Referral) -> list[tuple[str, str]]:
    """(kind, label) of each letter `user` may start on `referral` now."""
    if not can_document(user, referral):
        return []
    existing = {letter.kind for letter in referral.letters}
    sessions = len(referral.course.sessions) if referral.course else 0
    kinds = []
    for kind, states in STARTABLE.items():
        if referral.state not in states or (kind != INTERIM and kind in existing):
            continue
        if kind in CLINICAL_KINDS and not sessions:
            continue
        kinds.append((kind, LETTER_KINDS[kind]))
    return kinds


def render_blank_draft(referral: Referral, kind: str) -> RenderedPdf:
    """What a new draft of `kind` would look like, without storing anything."""
    narrative, recommendations = prefill(referral, kind)
    data = LetterInput(
        kind=kind,
        narrative=narrative,
        recommendations=recommendations,
        logo_url=logo_url(referral),
    )
    return render_pdf(TEMPLATES[kind], letter_context(referral, data))


def _freeze(letter: Letter, rendered: RenderedPdf) -> None:
    letter.pdf = seal_pdf(rendered.data)  # encrypted at rest; the sha256 is of the PDF itself
    letter.sha256 = hashlib.sha256(rendered.data).hexdigest()
    letter.page_count = rendered.pages


def new_letter(
    referral: Referral,
    kind: str,
    *,
    sequence: int = 1,
    version: int = 1,
    status: str = DRAFT,
    text: tuple[str, str] | None = None,
    drafted_by: User | None = None,
    at: datetime | None = None,
) -> Letter:
    """The one way a letter is made (added to the session, not flushed): a new letter starts
    from the prefilled text, a correction from the `text` (narrative, recommendations) it
    corrects; one issued final at once gets its verification code."""
    narrative, recommendations = text if text is not None else prefill(referral, kind)
    letter = Letter(
        referral=referral,
        kind=kind,
        sequence=sequence,
        version=version,
        status=status,
        narrative=narrative,
        recommendations=recommendations,
        drafted_by_id=drafted_by.id if drafted_by else None,
        created_at=at or utcnow(),
        verify_code=new_code() if status == FINAL else None,
    )
    db.session.add(letter)
    return letter


def acknowledge_referral(referral: Referral, *, at: datetime | None = None) -> Letter | None:
    """The acknowledgement of receipt, issued by the clinic when a referral is submitted
    (once per referral); no clinician signs it."""
    exists = db.session.scalar(
        select(Letter.id).where(Letter.referral_id == referral.id, Letter.kind == ACKNOWLEDGEMENT)
    )
    if exists is not None:
        return None
    letter = new_letter(referral, ACKNOWLEDGEMENT, status=FINAL, at=at)
    _freeze(letter, render_letter(letter))
    db.session.flush()
    record("letter.create", "letter", letter.id, detail="acknowledgement")
    # Issued by the portal on the clinic's behalf: the timeline shows "System".
    db.session.add(
        ReferralEvent(
            referral=referral,
            actor_id=None,
            kind="letter_issued",
            reason="The clinic acknowledged receipt of the referral.",
            at=letter.created_at,
        )
    )
    return letter


def prefill(referral: Referral, kind: str) -> tuple[str, str]:
    """Text a new draft starts with; the clinician edits it."""
    if kind == DECLINE:
        reasons = [e.reason for e in referral.events if e.to_state == State.DECLINED and e.reason]
        return (reasons[-1] if reasons else ""), ""
    if kind in (SUMMARY, INTERIM):
        return course_paragraph(referral), ""
    return "", ""


def next_sequence(referral: Referral, kind: str) -> int:
    if kind != INTERIM:
        return 1
    latest = db.session.scalar(
        select(func.max(Letter.sequence)).where(
            Letter.referral_id == referral.id, Letter.kind == INTERIM
        )
    )
    return (latest or 0) + 1


def start_draft(referral: Referral, kind: str, *, actor: User | None) -> Letter:
    """A new draft of `kind` (an interim letter on demand takes the next number)."""
    if kind not in LETTER_KINDS:
        raise LetterNotAllowed("Choose which letter to write.")
    if actor is not None and not can_document(actor, referral):
        raise LetterNotAllowed("Only a clinician of the clinic can write letters.")
    if kind not in STARTABLE or referral.state not in STARTABLE[kind]:
        raise LetterNotAllowed("This letter cannot be written at this stage of the referral.")
    if kind in CLINICAL_KINDS and not (referral.course and referral.course.sessions):
        raise LetterNotAllowed("Document a session before writing this letter.")
    sequence = next_sequence(referral, kind)
    if kind != INTERIM and any(
        letter.kind == kind for letter in referral.letters if letter.sequence == sequence
    ):
        raise LetterNotAllowed("This letter exists already: open it, or correct the signed one.")
    letter = new_letter(referral, kind, sequence=sequence, drafted_by=actor)
    db.session.flush()
    record("letter.draft", "letter", letter.id, actor=actor, detail=kind)
    return letter


def save_draft(
    letter: Letter,
    *,
    actor: User,
    narrative: str,
    recommendations: str,
    include_all_sessions: bool = False,
) -> None:
    """Keep the clinician's text; the stored preview is out of date until previewed again."""
    if letter.status != DRAFT:
        raise LetterNotAllowed("A signed letter cannot be edited: make a correction instead.")
    letter.narrative = narrative
    letter.recommendations = recommendations
    letter.include_all_sessions = include_all_sessions
    letter.drafted_by_id = actor.id
    letter.created_at = utcnow()
    letter.pdf = None
    db.session.flush()
    record("letter.update", "letter", letter.id, actor=actor)


def preview(letter: Letter, *, actor: User) -> RenderedPdf:
    """The draft rendered now, marked DRAFT on every page, paginated as it will be signed
    (the signature block, QR code included, takes the same room)."""
    course = letter.referral.course
    signer = actor if can_document(actor, letter.referral) else (course and course.clinician)
    rendered = render_letter(letter, signer=signer)
    record("letter.preview", "letter", letter.id, actor=actor)
    return rendered


def sign_letter(letter: Letter, *, actor: User, password: str) -> Letter:
    """Sign a draft: its HTML is built and kept now, the final PDF rendered from it (here or
    by a job worker) and stored unchangeable with its sha256 and a verification code; the
    version it corrects becomes superseded."""
    if letter.status != DRAFT:
        raise LetterNotAllowed("This letter is signed already.")
    if not can_document(actor, letter.referral):
        raise LetterNotAllowed("Only a clinician of the clinic can sign letters.")
    if letter.kind in (DECLINE, SUMMARY) and not letter.narrative.strip():
        raise LetterNotAllowed("Write the letter's text before signing it.")
    if lockout.is_blocked(actor):
        record("letter.sign", "letter", letter.id, actor=actor, outcome="locked")
        raise LetterNotAllowed(
            "Too many wrong passwords were typed for your account from here, so the letter is "
            "not signed. Try again later, or ask an administrator to unlock it."
        )
    if not confirm_identity(actor, password=password):
        record("letter.sign", "letter", letter.id, actor=actor, outcome="denied")
        raise SignerNotConfirmed("That password is not right: the letter is not signed.")
    moment = utcnow()
    earlier = [
        other
        for other in letter.referral.letters
        if other.kind == letter.kind
        and other.sequence == letter.sequence
        and other.status == FINAL
        and other.id != letter.id
    ]
    for other in earlier:
        other.status = SUPERSEDED
        other.superseded_at = moment
    letter.status = FINAL
    letter.signed_by = actor
    letter.created_at = moment
    letter.verify_code = new_code()
    letter.pdf, letter.sha256 = None, None  # the PDF is rendered now or by a job worker
    # What was signed, fixed now (verification code and QR included): a session documented
    # or an appointment moved before the worker renders must not change the signed PDF.
    letter.signed_html = seal_html(letter_html(letter))
    db.session.flush()
    record("letter.sign", "letter", letter.id, actor=actor, detail=f"version {letter.version}")
    if current_app.config.get("LETTERS_RENDER_IN_WORKER", True):
        from portal.jobs import after_commit
        from portal.letters.issue_tasks import issue_task

        after_commit(issue_task, letter.id)
    else:
        issue(letter)
    return letter


def start_correction(letter: Letter, *, actor: User) -> Letter:
    """A new draft version of a signed letter, starting from its text."""
    if letter.status != FINAL:
        raise LetterNotAllowed("Only the current signed version can be corrected.")
    if letter.kind == ACKNOWLEDGEMENT or not can_document(actor, letter.referral):
        raise LetterNotAllowed("This letter cannot be corrected.")
    pending = [
        other
        for other in letter.referral.letters
        if other.kind == letter.kind and other.sequence == letter.sequence and other.is_draft
    ]
    if pending:
        return pending[0]
    draft = new_letter(
        letter.referral,
        letter.kind,
        sequence=letter.sequence,
        version=letter.version + 1,
        text=(letter.narrative, letter.recommendations),
        drafted_by=actor,
    )
    draft.include_all_sessions = letter.include_all_sessions
    db.session.flush()
    record("letter.draft", "letter", draft.id, actor=actor, detail=f"correction of {letter.id}")
    return draft


def pdf_for_download(letter: Letter) -> bytes:
    """The stored bytes; a superseded letter carries a SUPERSEDED band on every page."""
    if letter.status != SUPERSEDED:
        return open_pdf(letter)
    newer = [
        other.version
        for other in letter.referral.letters
        if other.kind == letter.kind and other.sequence == letter.sequence and other.status == FINAL
    ]
    note = f"replaced by version {newer[0]}" if newer else "replaced by a later version"
    when = letter.superseded_at.date().isoformat() if letter.superseded_at else ""
    return stamp_superseded(open_pdf(letter), f"{note} on {when}. Do not file this version.")


def mark_downloaded(letter: Letter, *, actor: User) -> None:
    """Record the download; the referrer's first one is the proof of receipt."""
    if actor.id == letter.referral.referrer_id and letter.first_downloaded_at is None:
        letter.first_downloaded_at = utcnow()
        letter.first_downloaded_by_id = actor.id
    record("letter.download", "letter", letter.id, actor=actor)
