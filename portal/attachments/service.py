"""Attaching files to a referral, and reading them back for the people who may see it."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING

from flask import current_app
from werkzeug.utils import secure_filename

from portal.attachments import storage
from portal.attachments.checks import EXTENSIONS, Refused, check, too_large
from portal.attachments.models import Attachment
from portal.audit.service import record
from portal.errors import DomainError
from portal.extensions import db
from portal.referrals.intake import save_draft
from portal.referrals.service import add_event
from portal.referrals.states import CLOSED, State

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage, MultiDict

    from portal.auth.models import User
    from portal.referrals.models import Referral


class Unreadable(DomainError):
    """The stored file is missing, or its bytes no longer match the checksum taken at upload."""


def add_upload(referral: Referral, upload: FileStorage, *, actor: User) -> Attachment:
    """Check the upload by content and store it; raises Refused with the reason."""
    if referral.state in CLOSED:
        raise Refused("This referral is closed; files can no longer be added.")
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    stream = upload.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    if size > limit:  # refuse before reading it into memory
        raise Refused(too_large(size, limit))
    content_type, data = check(stream.read(), max_bytes=limit)
    stem = secure_filename(upload.filename or "")[:200].rsplit(".", 1)[0] or "attachment"
    attachment = Attachment(
        referral=referral,
        filename=f"{stem}.{EXTENSIONS[content_type]}",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_name=storage.write(data),
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    record("attachment.create", "attachment", attachment.id, actor=actor)
    if referral.state != State.DRAFT:
        add_event(referral, "attachment_added", actor=actor, reason=attachment.filename)
    return attachment


def add_uploads(
    referral: Referral, uploads: list[FileStorage], *, actor: User
) -> tuple[list[Attachment], list[str]]:
    """Every non-empty upload: those accepted, and a refusal sentence for each other one."""
    added, refusals = [], []
    most = current_app.config["MAX_ATTACHMENT_FILES"]
    for upload in [u for u in uploads if u and u.filename]:
        if len(added) + len(refusals) >= most:
            refusals.append(
                f"{secure_filename(upload.filename) or 'The file'}: At most {most} files can be "
                "attached at once; attach this one again."
            )
            continue
        try:
            added.append(add_upload(referral, upload, actor=actor))
        except Refused as refusal:
            refusals.append(f"{secure_filename(upload.filename) or 'The file'}: {refusal}")
    return added, refusals


@cache
def _attachments_of():
    return (
        db.select(Attachment)
        .where(Attachment.referral_id == db.bindparam("referral_id"))
        .order_by(Attachment.id)
    )


def attachments_of(referral: Referral) -> list[Attachment]:
    """The referral page shows them: the statement built once, not per request."""
    return list(db.session.scalars(_attachments_of(), {"referral_id": referral.id}))


def read_attachment(attachment: Attachment, *, actor: User) -> bytes:
    """The file's bytes, checked against the checksum taken at upload; the download audited."""
    try:
        data = storage.read(attachment.storage_name)
    except FileNotFoundError as error:
        raise Unreadable("The stored file is missing.") from error
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise Unreadable("The stored file does not match its checksum.")
    record("attachment.download", "attachment", attachment.id, actor=actor)
    return data


def remove_from_draft(attachment: Attachment, formdata: MultiDict, *, actor: User) -> str:
    """A file attached by mistake to a draft (never sent) goes, and the form posted with the
    removal is kept as the draft. Returns the file's storage name, for the caller to delete
    the bytes once the removal is committed."""
    if attachment.referral.state != State.DRAFT:
        raise Refused("Files of a sent referral are part of its record and stay.")
    record("attachment.delete", "attachment", attachment.id, actor=actor, detail=State.DRAFT.value)
    db.session.delete(attachment)
    save_draft(attachment.referral, formdata, actor=actor)
    return attachment.storage_name
