"""Letter PDFs at rest, and the HTML of a signed letter waiting for its PDF: encrypted with
portal.crypto, re-encrypted when the key rotates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import undefer

from portal.crypto import decrypt, encrypt, is_encrypted, reencrypt, rotation_step
from portal.extensions import db
from portal.letters.models import Letter


def seal_pdf(data: bytes) -> bytes:
    """What is stored in Letter.pdf for these PDF bytes."""
    return encrypt(data)


def seal_html(html: str) -> bytes:
    """What is stored in Letter.signed_html for this HTML."""
    return encrypt(html.encode())


def open_html(stored: bytes) -> str:
    return decrypt(stored).decode()


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
    # Not a letter without a PDF: a signed one still being rendered, a draft never previewed.
    ids = list(
        db.session.scalars(select(Letter.id).where(Letter.pdf.is_not(None)).order_by(Letter.id))
    )
    for letter_id in ids:  # one at a time: PDFs are large
        letter = db.session.scalar(
            select(Letter).where(Letter.id == letter_id).options(undefer(Letter.pdf))
        )
        letter.pdf = reencrypt(letter.pdf) if is_encrypted(letter.pdf) else encrypt(letter.pdf)
        db.session.flush()
        db.session.expire(letter)
        count += 1
    return count


@rotation_step("signed letters' HTML")
def rotate_signed_html() -> int:
    """Re-encrypt the HTML of signed letters still waiting for their PDF (a few at most)."""
    count = 0
    ids = list(db.session.scalars(select(Letter.id).where(Letter.signed_html.is_not(None))))
    for letter_id in ids:
        letter = db.session.scalar(
            select(Letter).where(Letter.id == letter_id).options(undefer(Letter.signed_html))
        )
        if letter.signed_html is not None:
            letter.signed_html = reencrypt(letter.signed_html)
            db.session.flush()
            count += 1
        db.session.expire(letter)
    return count
