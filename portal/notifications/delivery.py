"""Delivering the outbox: claim a row, send it, record the outcome. Runs in the worker only.

A row is sent by the worker that claims it: one conditional UPDATE moves it from pending to
sending, so of two workers racing for the same row exactly one gets it (the idempotency key
of the row). A claim left by a worker that died is taken over after CLAIM_TIMEOUT."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal.audit.service import record
from portal.crypto import decrypt
from portal.db import utcnow
from portal.extensions import db
from portal.notifications import mailer
from portal.notifications.models import FAILED, PENDING, SENDING, SENT, OutboxMessage

CLAIM_TIMEOUT = timedelta(minutes=10)
LINK_DROPPED = "(This message carried a one-time link; it is not kept after sending.)"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def claim(outbox_id: int) -> bool:
    """Take the row for this worker if it is due and nobody holds it; commit the claim."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            or_(
                (OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == SENDING)
                & (OutboxMessage.claimed_at < now - CLAIM_TIMEOUT),
            ),
        )
        .values(status=SENDING, claimed_at=now, claimed_by=worker_name())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return claimed.rowcount == 1


def backoff(tries: int) -> timedelta:
    """Seconds before the next try: the base, doubled each time (60 s, 2, 4, 8 minutes...)."""
    return timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 2 ** max(tries - 1, 0))


def deliver(outbox_id: int) -> str | None:
    """Send one outbox row if this worker can claim it; return its status after, or None when
    another worker has it (or it is not due)."""
    if not claim(outbox_id):
        return None
    row = db.session.get(OutboxMessage, outbox_id)
    row.tries += 1
    try:
        transport = mailer.transport()
        if transport == mailer.SMTP:
            body = decrypt(row.body.encode()).decode() if row.secret else row.body
            mailer.send(
                mailer.build(
                    to=row.to_email, subject=row.subject, body=body, message_id=row.idempotency_key
                )
            )
    except mailer.TemporaryFailure as error:
        _failed(row, str(error), final=row.tries >= current_app.config["MAIL_MAX_TRIES"])
    except mailer.PermanentFailure as error:
        _failed(row, str(error), final=True)
    else:
        row.status, row.sent_at, row.transport, row.last_error = SENT, utcnow(), transport, ""
        if row.secret and transport == mailer.SMTP:
            row.body = LINK_DROPPED
        record("notification.sent", "outbox_message", row.id, detail=f"{row.kind} by {transport}")
    db.session.commit()
    return row.status


def _failed(row: OutboxMessage, error: str, *, final: bool) -> None:
    row.last_error = error[:300]
    row.claimed_at = None
    if not final:
        row.status = PENDING
        row.next_attempt_at = utcnow() + backoff(row.tries)
        record("notification.retry", "outbox_message", row.id, outcome="error", detail=error)
        return
    row.status = FAILED
    record("notification.failed", "outbox_message", row.id, outcome="error", detail=error)
    if row.kind != "delivery_failed":  # a failed failure notice is not announced again
        from portal.notifications.service import delivery_failed

        delivery_failed(row)


def due_ids(limit: int = 500) -> list[int]:
    """Rows a sweep should try now: pending and due, or claimed by a worker that vanished."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(
                or_(
                    (OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now),
                    (OutboxMessage.status == SENDING)
                    & (OutboxMessage.claimed_at < now - CLAIM_TIMEOUT),
                )
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def deliver_due() -> dict[str, int]:
    """Try every due row once (the sweep; also what tests call to run a worker's work)."""
    counts: dict[str, int] = {}
    for outbox_id in due_ids():
        status = deliver(outbox_id) or "skipped"
        counts[status] = counts.get(status, 0) + 1
    return counts
