"""The audit hash chain. Each event stores the previous event's hash and a SHA-256 over its
own canonical content plus that previous hash, so editing or deleting a row by hand breaks
the chain from there on; `flask --app portal audit verify` finds the first broken link."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import event, inspect, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.audit.models import AuditChainHead, AuditEvent
from portal.db import utcnow

HEAD_ID = 1


def canonical(e: AuditEvent, prev_hash: str) -> bytes:
    at = e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [
        prev_hash,
        at,
        e.actor_id,
        e.actor_role or "",
        e.action,
        e.object_type or "",
        e.object_id,
        e.ip or "",
        e.outcome,
        e.detail or "",
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(e: AuditEvent, prev_hash: str) -> str:
    return hashlib.sha256(canonical(e, prev_hash)).hexdigest()


# Built once (statements are immutable): every request that reads PHI runs both.
_BUMP = (
    update(AuditChainHead)
    .where(AuditChainHead.id == HEAD_ID)
    .values(appended=AuditChainHead.appended + 1)
)
# LIMIT 1 written into the SQL: as a parameter, PostgreSQL plans the statement on every run.
_LAST_HASH = (
    select(AuditEvent.row_hash)
    .order_by(AuditEvent.id.desc())
    .limit(literal(1, literal_execute=True))
)


def _take_chain_lock(session: Session) -> None:
    """Held until commit or rollback: a second writer waits here, before reading the tail."""
    if session.execute(_BUMP).rowcount == 0:
        # The migration creates the row; an emptied table (tests) gets it back here, once
        # even when writers race (the loser waits for the winner, then does nothing).
        dialect = session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert_(AuditChainHead).values(id=HEAD_ID, appended=0).on_conflict_do_nothing()
        )
        session.execute(_BUMP)


@event.listens_for(Session, "before_flush")
def chain_new_events(session: Session, flush_context, instances) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    new.sort(key=lambda obj: inspect(obj).insert_order)  # the order they will be inserted
    _take_chain_lock(session)
    prev = session.scalar(_LAST_HASH)
    prev = prev or ""
    for obj in new:
        if obj.at is None:
            obj.at = utcnow()
        obj.prev_hash = prev
        obj.row_hash = prev = compute_hash(obj, prev)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    legacy: int  # rows from before the chain existed, only allowed at the start
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify(session: Session) -> ChainReport:
    """Walk the whole trail in id order; stop at the first broken link."""
    prev = ""
    checked = legacy = 0
    rows = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    )
    try:
        for row in rows:
            checked += 1
            if not row.row_hash and not prev:
                legacy += 1
                continue
            if row.prev_hash != prev:
                return ChainReport(checked, legacy, row.id, "does not follow the event before it")
            if compute_hash(row, prev) != row.row_hash:
                return ChainReport(checked, legacy, row.id, "content changed after it was written")
            prev = row.row_hash
    finally:
        rows.close()  # a server-side cursor on PostgreSQL
    return ChainReport(checked, legacy)
