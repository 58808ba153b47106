"""Issuing a signed letter: its final PDF rendered, sealed and stored once, then the
referrer told. Signing records the signature (who, when, the verification code) and keeps
the letter's HTML as signed (portal.letters.service.sign_letter); the rendering of that HTML
runs in the job workers (portal.letters.tasks) so the web process neither waits for it nor
keeps its memory, unless LETTERS_RENDER_IN_WORKER is off (then right after the signature, in
the same request)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db
from portal.letters.models import DRAFT, SUPERSEDED, Letter
from portal.letters.pdf import RenderedPdf, render_html
from portal.letters.rendering import letter_resources, render_letter
from portal.letters.storage import open_html, seal_pdf
from portal.referrals.service import add_event

# The sweep leaves alone letters signed this recently: their own job (issue_task) has them.
SWEEP_GRACE = timedelta(minutes=2)


def _render_signed(letter: Letter) -> RenderedPdf:
    """The PDF of exactly the HTML kept at signing. A letter signed before that HTML was kept
    (none after the fixletters1a2b migration) is rendered from the data as they stand."""
    if letter.signed_html is None:
        return render_letter(letter)
    return render_html(open_html(letter.signed_html), memory=letter_resources(letter.referral))


def issue(letter: Letter) -> bool:
    """Render the signed `letter`, store its PDF unless another worker stored one first, and
    put "letter issued" on the timeline (which tells the referrer), unless a correction has
    replaced it meanwhile. Not committed."""
    if letter.status == DRAFT or letter.sha256 is not None:
        return False
    rendered = _render_signed(letter)  # outside any lock: only reads
    stored = db.session.execute(
        update(Letter)
        .where(Letter.id == letter.id, Letter.sha256.is_(None), Letter.status != DRAFT)
        .values(
            pdf=seal_pdf(rendered.data),  # encrypted at rest; the sha256 is of the PDF itself
            sha256=hashlib.sha256(rendered.data).hexdigest(),
            page_count=rendered.pages,
            # The PDF is the record (its sha256 is what the verification page shows): the
            # HTML, a second copy of the same PHI, has served its purpose.
            signed_html=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not stored.rowcount:
        return False
    db.session.expire(letter, ["pdf", "sha256", "page_count", "signed_html", "status"])
    record("letter.render", "letter", letter.id, detail=f"version {letter.version}")
    if letter.status == SUPERSEDED:
        # Rendered late, after its correction was signed: kept for the record, not announced
        # (the referrer would read "version N is ready" after version N+1).
        return True
    what = f"{letter.kind_label} letter, version {letter.version}"
    if letter.version > 1:
        what += f", replacing version {letter.version - 1}"
    add_event(letter.referral, "letter_issued", actor=letter.signed_by, reason=f"{what}, is ready.")
    return True


def issue_by_id(letter_id: int) -> bool:
    """The job: issue one signed letter; commits."""
    letter = db.session.scalar(
        select(Letter).where(Letter.id == letter_id).options(undefer(Letter.signed_html))
    )
    made = issue(letter) if letter is not None else False
    db.session.commit()
    return made


def waiting_ids() -> list[int]:
    """Signed letters whose PDF is not stored yet (a job lost, a worker stopped), leaving out
    those signed in the last SWEEP_GRACE (their own job is on its way)."""
    return list(
        db.session.scalars(
            select(Letter.id)
            .where(
                Letter.status != DRAFT,
                Letter.sha256.is_(None),
                Letter.created_at < utcnow() - SWEEP_GRACE,
            )
            .order_by(Letter.id)
        )
    )
