"""Writing audit events. Called by services and object loaders, never with PHI values.

An audit event belongs to the unit of work of what it records: `record()` adds it to the
request's session, and the view (or the command) that owns the request commits it together
with the change, or rolls it back together with the change. Nothing commits audit rows behind
the view's back. Two kinds of event outlive a rollback of the change they came with, because
what they record happened all the same:

- a read (`read=True`, the object loaders) or a refusal (any outcome but "ok": a conflict, a
  wrong code, a locked signature): kept in the session by the rollback, so that the view's
  next commit writes them (a view that rolls back a refused change commits after it);
- a denied access (`record_denied()`): the request's unit of work is rolled back and the
  denial committed on its own, at once, before the loader answers 404.
"""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

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
KEPT = "audit_kept_on_rollback"  # session.info key: events a rollback must not lose
UNCOMMITTED = "audit_uncommitted"  # session.info key: events not committed yet


def record(
    action: str,
    object_type: str = "",
    object_id: int | None = None,
    *,
    outcome: str = "ok",
    actor=None,
    detail: str = "",
    read: bool = False,
) -> AuditEvent:
    """Add an audit event to the session, in the same unit of work as what it records.

    A read (`read=True`) or a refusal (outcome other than "ok") survives a rollback of the
    session's transaction: the rollback puts it back, pending, for the caller's next commit."""
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
    session = db.session()
    session.add(event)
    session.info.setdefault(UNCOMMITTED, []).append(event)
    if read or outcome != "ok":
        session.info.setdefault(KEPT, []).append(event)
    return event


def record_denied(
    action: str,
    object_type: str = "",
    object_id: int | None = None,
    *,
    actor=None,
    detail: str = "",
) -> None:
    """A denied access, committed on its own now: whatever the request had not committed is
    rolled back first (the caller is about to refuse the request; reads and refusals recorded
    before it are kept and committed with the denial)."""
    db.session.rollback()
    record(action, object_type, object_id, actor=actor, outcome="denied", detail=detail)
    db.session.commit()


def uncommitted(session: Session) -> list[AuditEvent]:
    """The audit events added to `session` that no commit has written yet."""
    return list(session.info.get(UNCOMMITTED, []))


@sa_event.listens_for(Session, "after_commit")
def _forget_kept(session: Session) -> None:
    session.info.pop(KEPT, None)
    session.info.pop(UNCOMMITTED, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _keep_reads_and_refusals(session: Session, previous: SessionTransaction) -> None:
    """After the outermost rollback, add back a copy of each read and refusal it threw away
    (the copy is a new row: the rolled-back one may have been flushed and got an id)."""
    if previous.parent is not None or not session.is_active:
        return  # a savepoint's rollback, or a session being closed
    kept = session.info.pop(KEPT, [])
    session.info.pop(UNCOMMITTED, None)
    copies = [AuditEvent(**{name: getattr(e, name) for name in _FIELDS}) for e in kept]
    for copy in copies:
        session.add(copy)
    if copies:
        session.info[KEPT] = copies
        session.info[UNCOMMITTED] = list(copies)
