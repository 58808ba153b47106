"""Issuing a signed letter: its final PDF rendered, sealed and stored once, then the
referrer told. Signing only records the signature (who, when, the verification code); the
rendering runs in the job workers (portal.letters.tasks) so the web process neither waits
for it nor keeps its memory, unless LETTERS_RENDER_IN_WORKER is off (then right after the
signature, in the same request)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update

from portal.audit.service import record
from portal.extensions import db
from portal.letters.models import DRAFT, Letter
from portal.letters.storage import seal_pdf
from portal.referrals.service import add_event


def issue(letter: Letter) -> bool:
    """Render the signed `letter`, store its PDF unless another worker stored one first, and
    put "letter issued" on the timeline (which tells the referrer). Not committed."""
    from portal.letters.service import render_letter

    if letter.status == DRAFT or letter.sha256 is not None:
        return False
    rendered = render_letter(letter)  # outside any lock: only reads
    stored = db.session.execute(
        update(Letter)
        .where(Letter.id == letter.id, Letter.sha256.is_(None), Letter.status != DRAFT)
        .values(
            pdf=seal_pdf(rendered.data),  # encrypted at rest; the sha256 is of the PDF itself
            sha256=hashlib.sha256(rendered.data).hexdigest(),
            page_count=rendered.pages,
        )
        .execution_options(synchronize_session=False)
    )
    if not stored.rowcount:
        return False
    db.session.expire(letter, ["pdf", "sha256", "page_count"])  # read back when asked
    record("letter.render", "letter", letter.id, detail=f"version {letter.version}")
    what = f"{letter.kind_label} letter, version {letter.version}"
    if letter.version > 1:
        what += f", replacing version {letter.version - 1}"
    add_event(letter.referral, "letter_issued", actor=letter.signed_by, reason=f"{what}, is ready.")
    return True


def issue_by_id(letter_id: int) -> bool:
    """The job: issue one signed letter; commits."""
    letter = db.session.get(Letter, letter_id)
    made = issue(letter) if letter is not None else False
    db.session.commit()
    return made


def waiting_ids() -> list[int]:
    """Signed letters whose PDF is not stored yet (a job lost, a worker stopped)."""
    return list(
        db.session.scalars(select(Letter.id).where(Letter.status != DRAFT, Letter.sha256.is_(None)))
    )
