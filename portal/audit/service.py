"""Writing audit events. Called by services and object loaders, never with PHI values."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect

from portal.audit import chain  # noqa: F401 - installs the hash chain on every flush
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db

_FIELDS = (
    "at",
    "actor_id",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "ip",
    "outcome",
    "detail",
)


def record(
    action: str,
    object_type: str = "",
    object_id: int | None = None,
    *,
    outcome: str = "ok",
    actor=None,
    detail: str = "",
) -> AuditEvent:
    """Add an audit event to the session, in the same transaction as the change it records.

    In a request, the event is also remembered so that it survives a rollback: see
    persist_request_audit."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_role=getattr(actor, "role", "") or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=(request.remote_addr or "") if has_request_context() else "cli",
        outcome=outcome,
        detail=detail[:200],
    )
    db.session.add(event)
    if has_request_context():
        g.setdefault("audit_events", []).append(event)
    return event


def persist_request_audit(response):
    """At the end of a request: drop whatever the view did not commit, then keep every audit
    event of the request, including those a rollback threw away (a refused or failed change
    is recorded all the same, marked failed when the request ended in an error)."""
    events = g.pop("audit_events", [])
    if not events:
        return response
    if request.method in ("GET", "HEAD") and response.status_code < 400:
        # A read that went well: its audit rows are already flushed where the view recorded
        # them; commit them as they are instead of undoing and writing them a second time.
        for event in events:
            if inspect(event).transient:  # the view rolled back after recording it
                db.session.add(AuditEvent(**{name: getattr(event, name) for name in _FIELDS}))
        db.session.commit()
        return response
    db.session.rollback()
    for event in events:
        if inspect(event).transient or inspect(event).pending:
            copy = AuditEvent(**{name: getattr(event, name) for name in _FIELDS})
            if response.status_code >= 500 and copy.outcome == "ok":
                copy.outcome = "failed"
            db.session.add(copy)
    db.session.commit()
    return response
