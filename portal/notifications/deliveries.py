"""What the admins' Deliveries and Sent mail pages read and do. No PHI is shown: the emails
carry none, and a failure keeps only the server's code and a fixed phrase."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.service import record
from portal.crypto import decrypt
from portal.db import utcnow
from portal.extensions import db
from portal.notifications.mailer import DEV_MAILBOX
from portal.notifications.models import DISMISSED, FAILED, PENDING, SENT, OutboxMessage

if TYPE_CHECKING:
    from portal.auth.models import User

# Emails that are not notifications of a kind under the bell.
OTHER_KINDS = {
    "digest": "Daily summary",
    "password_reset": "Password reset link",
    "invitation": "Invitation",
    "account_approved": "Account approved",
    "patient_reminder": "Appointment reminder to a patient",
}


def failed() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == FAILED)
            .options(selectinload(OutboxMessage.user))
            .order_by(OutboxMessage.id.desc())
        )
    )


def get_failed_or_404(outbox_id: int) -> OutboxMessage:
    row = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.status == FAILED)
    )
    if row is None:
        abort(404)
    return row


def retry(row: OutboxMessage, *, actor: User) -> None:
    """Back to the queue with its tries counted afresh; the worker sends it once."""
    row.status, row.tries, row.next_attempt_at, row.claimed_at = PENDING, 0, utcnow(), None
    db.session.flush()
    record("notification.retry", "outbox_message", row.id, actor=actor, detail="by an admin")
    from portal.notifications.tasks import enqueue_after_commit

    enqueue_after_commit(row.id)


def dismiss(row: OutboxMessage, *, actor: User) -> None:
    row.status = DISMISSED
    db.session.flush()
    record("notification.dismiss", "outbox_message", row.id, actor=actor)


def dev_mailbox(limit: int = 200) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == SENT, OutboxMessage.transport == DEV_MAILBOX)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def get_dev_message_or_404(outbox_id: int) -> OutboxMessage:
    row = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status == SENT,
            OutboxMessage.transport == DEV_MAILBOX,
        )
    )
    if row is None:
        abort(404)
    return row


def readable_body(row: OutboxMessage) -> str:
    """The body as sent (development mailbox only: a one-time link is shown to make the whole
    loop work without an SMTP server)."""
    return decrypt(row.body.encode()).decode() if row.secret else row.body
