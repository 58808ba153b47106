"""Signed letters as DocumentReference (with the PDF as Binary): sha1 as FHIR requires, the
sha256 and the verification code as identifiers, corrections `relatesTo` replaces."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal.extensions import db
from portal.fhir.resources import base_url, instant, own_system, ref
from portal.letters.models import DRAFT, FINAL, Letter
from portal.letters.service import pdf_for_download

if TYPE_CHECKING:
    from portal.referrals.models import Referral

Resource = dict[str, Any]


def issued_letters(referral: Referral) -> list[Letter]:
    """The letters the referrer may download, oldest first: never a draft, nor a signed letter
    whose PDF the job workers have not stored yet (it appears once it exists)."""
    return [
        letter
        for letter in referral.letters
        if letter.status != DRAFT and letter.sha256 is not None
    ]


def letter_of(referral_ids, letter_id: int) -> Letter | None:
    """A signed letter of one of these referrals, its PDF stored, or None."""
    return db.session.scalar(
        select(Letter).where(
            Letter.id == letter_id,
            Letter.referral_id.in_(referral_ids),
            Letter.status != DRAFT,
            Letter.sha256.is_not(None),
        )
    )


def document_reference(letter: Letter, pdf: bytes) -> Resource:
    """`pdf` is what Binary serves for this letter (superseded ones carry their band)."""
    referral = letter.referral
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": str(letter.id),
        "identifier": [
            {"system": f"{base_url()}/sid/letter-sha256", "value": letter.sha256 or ""},
        ],
        "status": "current" if letter.status == FINAL else "superseded",
        "docStatus": "amended" if letter.version > 1 else "final",
        "type": {
            "coding": [
                {
                    "system": own_system("letter-kind"),
                    "code": letter.kind,
                    "display": letter.kind_label,
                }
            ]
        },  # fmt: skip
        "subject": ref("Patient", referral.patient_id),
        "date": instant(letter.created_at),
        "author": [ref("Organization", f"clinic-{referral.clinic_id}")],
        "description": f"{letter.kind_label}, version {letter.version}",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": f"{base_url()}/Binary/{letter.id}",
                    "size": len(pdf),
                    "hash": base64.b64encode(
                        hashlib.sha1(pdf, usedforsecurity=False).digest()
                    ).decode(),
                    "title": letter.filename,
                    "creation": instant(letter.created_at),
                }
            }
        ],
        "context": {"related": [ref("ServiceRequest", referral.id)]},
    }
    if letter.verify_code:
        resource["identifier"].append(
            {"system": f"{base_url()}/sid/letter-verification", "value": letter.verify_code}
        )
    if letter.signed_by is not None:
        resource["authenticator"] = {"display": letter.signed_by.full_name}
    previous = [
        other
        for other in referral.letters
        if other.kind == letter.kind
        and other.sequence == letter.sequence
        and other.version == letter.version - 1
        and other.status != DRAFT
        and other.sha256 is not None
    ]
    if previous:
        resource["relatesTo"] = [
            {"code": "replaces", "target": ref("DocumentReference", previous[0].id)}
        ]
    return resource


def letter_pdf(letter: Letter) -> bytes:
    return pdf_for_download(letter)


def binary(letter: Letter, pdf: bytes) -> Resource:
    return {
        "resourceType": "Binary",
        "id": str(letter.id),
        "contentType": "application/pdf",
        "data": base64.b64encode(pdf).decode(),
    }
