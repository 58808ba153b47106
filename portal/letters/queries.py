"""Reads of letters shared by the pages: versions of one letter, letters not yet opened, and
what the public verification page may say about a letter."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit_shown import record_shown
from portal.db import utcnow
from portal.extensions import db
from portal.letters.models import ACKNOWLEDGEMENT, DRAFT, FINAL, Letter
from portal.referrals.models import Referral

if TYPE_CHECKING:
    from portal.auth.models import User


def versions_of(letter: Letter) -> list[Letter]:
    """The other versions of the same letter, newest first."""
    return sorted(
        (
            other
            for other in letter.referral.letters
            if other.kind == letter.kind
            and other.sequence == letter.sequence
            and other.id != letter.id
            and other.status != DRAFT
        ),
        key=lambda other: -other.version,
    )


def unopened_letters(user: User, days: int) -> list[Letter]:
    """The clinic's current letters the referrer has not downloaded `days` after signing
    (acknowledgements of receipt aside: they ask nothing of the referrer)."""
    cutoff = utcnow() - timedelta(days=days)
    letters = list(
        db.session.scalars(
            select(Letter)
            .join(Letter.referral)
            .where(
                Referral.clinic_id == user.clinic_id,
                Letter.status == FINAL,
                Letter.kind != ACKNOWLEDGEMENT,
                Letter.first_downloaded_at.is_(None),
                Letter.created_at <= cutoff,
            )
            .options(
                selectinload(Letter.referral).selectinload(Referral.referrer),
                selectinload(Letter.referral).selectinload(Referral.patient),
                selectinload(Letter.signed_by),
            )
            .order_by(Letter.created_at)
        )
    )
    record_shown(
        "letter.list",
        "letter",
        [letter.referral_id for letter in letters],
        actor=user,
        detail=f"unopened after {days} days",
    )
    return letters


def verification(code: str) -> dict | None:
    """What the public page may say about the letter with this code; None if there is none."""
    letter = db.session.scalar(
        select(Letter)
        .where(Letter.verify_code == code, Letter.status != DRAFT)
        .options(selectinload(Letter.referral).selectinload(Referral.clinic))
    )
    if letter is None:
        return None
    newer = [
        other.version
        for other in letter.referral.letters
        if other.kind == letter.kind and other.sequence == letter.sequence and other.status == FINAL
    ]
    return {
        "code": code,
        "clinic": letter.referral.clinic.name,
        "kind": letter.kind_label,
        "version": letter.version,
        "issued": letter.created_at,
        "sha256": letter.sha256,
        "current": letter.status == FINAL,
        "superseded_at": letter.superseded_at,
        "current_version": newer[0] if newer else None,
        "letter_id": letter.id,
    }
