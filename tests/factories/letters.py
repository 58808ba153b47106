"""Letters as rows: a signed one with placeholder bytes, and an unsigned draft."""

from __future__ import annotations

import hashlib

from portal.auth.models import User
from portal.extensions import db
from portal.letters.codes import new_code
from portal.letters.models import Letter
from portal.letters.storage import seal_pdf
from portal.referrals.models import Referral


def stored_letter(
    referral: Referral, signer: User, *, kind: str = "treatment_summary", sequence: int = 1
) -> Letter:
    """A final letter row with placeholder bytes, for tests about who may fetch it (the real
    rendering is tested through the clinician's signing in test_loop and test_cli)."""
    pdf = b"%PDF-1.4 placeholder for access tests"
    letter = Letter(
        referral=referral,
        kind=kind,
        sequence=sequence,
        version=1,
        pdf=seal_pdf(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        signed_by_id=signer.id,
        verify_code=new_code(),
    )
    db.session.add(letter)
    db.session.flush()
    return letter


def draft_letter(referral: Referral, author: User, kind: str = "interim_progress") -> Letter:
    """An unsigned draft letter (no PDF yet)."""
    letter = Letter(
        referral=referral,
        kind=kind,
        sequence=1,
        version=1,
        status="draft",
        narrative="Draft text.",
        recommendations="",
        drafted_by_id=author.id,
    )
    db.session.add(letter)
    db.session.flush()
    return letter
