"""Writing audit events. Called by services and object loaders, never with PHI values."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user

from portal.audit.models import AuditEvent
from portal.extensions import db


def record(
    action: str,
    object_type: str = "",
    object_id: int | None = None,
    *,
    outcome: str = "ok",
    actor=None,
    detail: str = "",
) -> AuditEvent:
    """Add an audit event to the session; the request's end commits it (see portal.audit.hooks)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
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
        g.audit_pending = True
    return event


def commit_pending_audit(response):
    """After a request that only read (no commit of its own), keep its audit events."""
    if g.pop("audit_pending", False):
        if response.status_code < 500:
            db.session.commit()
        else:
            db.session.rollback()
    return response
