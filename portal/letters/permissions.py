"""Who may read and write letters.

`can` is pure, over objects already loaded; `get_letter_or_404` answers 404 for a letter the
user may not reach and audits the attempt (letter.<action>, outcome "denied").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from portal.audit.service import record, record_denied
from portal.extensions import db
from portal.letters.models import Letter
from portal.referrals.models import Referral
from portal.referrals.permissions import can_document, can_view_referral

if TYPE_CHECKING:
    from portal.auth.models import User


def can(user: User, obj: Letter | Referral, action: str = "download") -> bool:
    """May `user` do `action` to `obj`?

    On a letter: 'download' a signed letter is for whoever may see the referral; a draft, and
    every other action ('update', 'preview', 'sign', 'correct'), for the clinic's clinicians.
    On a referral: 'write_letter' once a session of its course is documented (the clinic's
    clinicians)."""
    if isinstance(obj, Referral):
        if action == "write_letter":
            course = obj.course
            return can_document(user, obj) and course is not None and bool(course.sessions)
        return False
    if not can_view_referral(user, obj.referral):
        return False
    if action == "download" and not obj.is_draft:
        return True
    return can_document(user, obj.referral)


def can_correct(user: User, letter: Letter) -> bool:
    """Offer a correction: the current signed version of a clinician's letter, to the clinic's
    clinicians (start_correction says why another letter cannot be corrected)."""
    return letter.correctable and can(user, letter, "correct")


def get_letter_or_404(letter_id: int, user: User, action: str = "download") -> Letter:
    """A letter `user` may `action` (see `can`); its PDF is loaded with it."""
    letter = db.session.scalar(
        select(Letter)
        .where(Letter.id == letter_id)
        .options(undefer(Letter.pdf), selectinload(Letter.referral).selectinload(Referral.practice))
    )
    if letter is None or not can(user, letter, action):
        record_denied(f"letter.{action}", "letter", letter_id, actor=user)
        abort(404)
    if request.method == "GET" and action == "update":
        # Opening the draft is a read; saving, previewing, signing and correcting (and a
        # download, with its first receipt) record their own events in the service.
        record("letter.view", "letter", letter.id, actor=user, read=True)
    return letter
