"""Letter PDFs at rest: encrypted with portal.crypto, re-encrypted when the key rotates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import undefer

from portal.crypto import decrypt, encrypt, is_encrypted, reencrypt, rotation_step
from portal.extensions import db
from portal.letters.models import Letter


def seal_pdf(data: bytes) -> bytes:
    """What is stored in Letter.pdf for these PDF bytes."""
    return encrypt(data)


def open_pdf(letter: Letter) -> bytes:
    """The PDF bytes of a stored letter. A letter stored before encryption at rest existed
    is still plain PDF until `flask --app portal keys rotate` encrypts it."""
    return open_stored(letter.pdf)


def open_stored(stored: bytes) -> bytes:
    """The PDF bytes of what Letter.pdf holds (plain %PDF or encrypted)."""
    if not is_encrypted(stored) and stored.startswith(b"%PDF"):
        return stored
    return decrypt(stored)


@rotation_step("letter PDFs")
def rotate_letter_pdfs() -> int:
    """Re-encrypt every stored PDF with the newest key; a PDF stored before encryption
    existed (plain %PDF bytes) is encrypted now."""
    count = 0
    ids = list(db.session.scalars(select(Letter.id).order_by(Letter.id)))
    for letter_id in ids:  # one at a time: PDFs are large
        letter = db.session.scalar(
            select(Letter).where(Letter.id == letter_id).options(undefer(Letter.pdf))
        )
        letter.pdf = reencrypt(letter.pdf) if is_encrypted(letter.pdf) else encrypt(letter.pdf)
        db.session.flush()
        db.session.expire(letter)
        count += 1
    return count
