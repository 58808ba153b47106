"""The audit chain: a keyed hash chain over every audit event, made by a sequencer.

A request only INSERTs its audit rows, in its own transaction, and takes no lock for them.
The sequencer (`chain_pending`) then links the committed rows that have no place in the
chain yet, in id order, in one short transaction of its own: each gets the next `seq`, the
previous link's MAC (`prev_hash`) and its own MAC (`row_hash`), an HMAC-SHA256 with the
current audit key (portal.audit.keys) over its content, its seq and the previous MAC. The
database lets exactly that UPDATE through, once per row (the append-only triggers).

It runs right after each commit that wrote audit rows (AUDIT_CHAIN_INLINE; on PostgreSQL it
skips when another process is chaining, which picks the rows up), at the start of `audit
verify`, and from `flask --app portal audit chain` (cron, for an idle portal). Every
AUDIT_CHECKPOINT_SECONDS it signs a checkpoint of the head outside the database
(portal.audit.checkpoint).

`verify` walks the links in seq order from the latest checkpoint (or from the first link with
`all=True`), in constant memory, and reports: a link edited (MAC), re-linked or blanked, a
gap in the sequence (rows deleted), a chain shorter than the checkpoint or than its own head
row (the newest rows deleted, every row deleted, TRUNCATE), and a chain that no longer passes
through the checkpoint (rewritten).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from sqlalchemy import Connection, bindparam, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.audit import checkpoint, keys
from portal.audit.models import AuditChainHead, AuditEvent
from portal.extensions import db

HEAD_ID = 1
BATCH = 500
log = logging.getLogger(__name__)

_EVENT = AuditEvent.__table__
_HEAD = AuditChainHead.__table__
_CONTENT = (
    _EVENT.c.id,
    _EVENT.c.at,
    _EVENT.c.actor_id,
    _EVENT.c.actor_role,
    _EVENT.c.action,
    _EVENT.c.object_type,
    _EVENT.c.object_id,
    _EVENT.c.ip,
    _EVENT.c.outcome,
    _EVENT.c.detail,
)
_LINKED = (*_CONTENT, _EVENT.c.seq, _EVENT.c.key_id, _EVENT.c.prev_hash, _EVENT.c.row_hash)


class ChainBroken(RuntimeError):
    """The head row and the chain disagree: the sequencer refuses to extend it."""


def canonical(row, seq: int, prev: str, key_id: str) -> bytes:
    at = row.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [
        seq,
        prev,
        key_id,
        row.id,
        at,
        row.actor_id,
        row.actor_role or "",
        row.action,
        row.object_type or "",
        row.object_id,
        row.ip or "",
        row.outcome,
        row.detail or "",
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()


# --- the sequencer -----------------------------------------------------------------------


def _insert_head(conn: Connection) -> None:
    insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert_(_HEAD).values(id=HEAD_ID, appended=0, head_mac="").on_conflict_do_nothing()
    )


def _lock_head(conn: Connection, *, wait: bool):
    """The head row, locked until this transaction ends; None if another sequencer holds it
    and `wait` is false (PostgreSQL). SQLite has one writer at a time anyway: the first
    write takes the database's lock."""
    if conn.dialect.name == "sqlite":
        conn.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(appended=_HEAD.c.appended))
    query = select(_HEAD.c.appended, _HEAD.c.head_mac).where(_HEAD.c.id == HEAD_ID)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=not wait)
    head = conn.execute(query).first()
    if head is None:
        exists = conn.execute(select(_HEAD.c.id).where(_HEAD.c.id == HEAD_ID)).first()
        if exists is not None:
            return None  # locked by another sequencer
        _insert_head(conn)  # an emptied table (tests): put the row back
        head = conn.execute(query).first()
    return head


def _check_head(conn: Connection, seq: int, mac: str) -> None:
    # The last link and its MAC in one statement (the unique index on seq serves it).
    newest = conn.execute(
        select(_EVENT.c.seq, _EVENT.c.row_hash)
        .where(_EVENT.c.seq.is_not(None))
        .order_by(_EVENT.c.seq.desc())
        .limit(1)
    ).first()
    last, stored = (newest.seq, newest.row_hash) if newest else (0, None)
    if last != seq:
        raise ChainBroken(f"the chain's head row says {seq} links, the events say {last}")
    if (stored or "") != mac:
        raise ChainBroken(f"link {seq} does not carry the MAC the head row recorded")


def chain_pending(*, wait: bool = True) -> int:
    """Link every committed audit event that is not in the chain yet; return how many.
    Without `wait`, return 0 at once when another sequencer holds the head (PostgreSQL) or
    another connection is writing (SQLite): the rows are linked after that writer's commit."""
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
        patience = None
        if raw is not None and not wait:
            patience = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute("PRAGMA busy_timeout = 0")
        try:
            with conn.begin():
                linked, seq, mac, last_id = _link_pending(conn, wait=wait)
        except OperationalError as error:
            if patience is None or "locked" not in str(error):
                raise
            return 0
        finally:
            if patience is not None:
                raw.execute(f"PRAGMA busy_timeout = {int(patience)}")
    if linked:
        _maybe_checkpoint(seq, mac, last_id)
    return linked


def _link_pending(conn: Connection, *, wait: bool) -> tuple[int, int, str, int | None]:
    audit_keys = keys.current()
    key_id = audit_keys.current_id
    secret = audit_keys.secret(key_id)
    linked = 0
    last_id = None
    head = _lock_head(conn, wait=wait)
    if head is None:
        return 0, 0, "", None
    seq, mac = head.appended, head.head_mac
    _check_head(conn, seq, mac)
    while True:
        rows = conn.execute(
            select(*_CONTENT).where(_EVENT.c.seq.is_(None)).order_by(_EVENT.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        links = []
        for row in rows:
            seq += 1
            prev, mac = mac, _mac(secret, canonical(row, seq, mac, key_id))
            links.append({"eid": row.id, "s": seq, "k": key_id, "p": prev, "m": mac})
            last_id = row.id
        conn.execute(
            update(_EVENT)
            .where(_EVENT.c.id == bindparam("eid"), _EVENT.c.seq.is_(None))
            .values(
                seq=bindparam("s"),
                key_id=bindparam("k"),
                prev_hash=bindparam("p"),
                row_hash=bindparam("m"),
            ),
            links,
        )
        linked += len(rows)
        if len(rows) < BATCH:
            break  # nothing more was waiting: no statement to find that out again
    if linked:
        conn.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(appended=seq, head_mac=mac))
    return linked, seq, mac, last_id


def _mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


_last_checkpoint = 0.0


def _maybe_checkpoint(seq: int, mac: str, event_id: int | None) -> None:
    global _last_checkpoint
    every = current_app.config.get("AUDIT_CHECKPOINT_SECONDS")
    if every is None or time.monotonic() - _last_checkpoint < every:
        return
    try:
        checkpoint.write(seq, mac, event_id)
        _last_checkpoint = time.monotonic()
    except (OSError, checkpoint.CheckpointError, keys.AuditKeyError):
        log.exception("the audit checkpoint could not be written")


# --- chaining right after the request's commit ---------------------------------------------

TO_CHAIN = "audit_to_chain"


def _note_new_events(session: Session, flush_context, instances) -> None:
    if any(isinstance(obj, AuditEvent) for obj in session.new):
        session.info[TO_CHAIN] = True


def _chain_after_commit(session: Session) -> None:
    if not session.info.pop(TO_CHAIN, False):
        return
    if not current_app.config.get("AUDIT_CHAIN_INLINE", True):
        return
    try:
        chain_pending(wait=False)
    except Exception:  # noqa: BLE001 - the request's work is committed; the rows wait
        log.exception("audit events could not be chained now; `audit chain` will")


def _forget_after_rollback(session: Session, previous) -> None:
    if previous.parent is None:
        session.info.pop(TO_CHAIN, None)


def install() -> None:
    if not event.contains(Session, "before_flush", _note_new_events):
        event.listen(Session, "before_flush", _note_new_events)
        event.listen(Session, "after_commit", _chain_after_commit)
        event.listen(Session, "after_soft_rollback", _forget_after_rollback)


install()


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    checked: int  # links whose MAC was checked
    start: int  # the first seq checked (1, or the checkpoint's)
    last_seq: int  # the chain's last link found
    pending: int = 0  # events not linked yet (written since the sequencer last ran)
    broken_id: int | None = None  # the event where the chain breaks, if one does
    reason: str = ""
    checkpoint_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass
class _Walk:
    """Where a walk along the chain has got to."""

    start: int
    prev: str
    checked: int = 0
    last: int = 0
    broken_id: int | None = None
    reason: str = ""


def verify(
    session: Session,
    *,
    all: bool = False,  # noqa: A002 - the CLI's flag
    use_checkpoint: bool = True,
) -> ChainReport:
    """Check the chain from the latest checkpoint (or from its start with `all`); without
    `use_checkpoint`, on its own (before an administrator replaces the checkpoint)."""
    pending = session.scalar(select(func.count()).where(_EVENT.c.seq.is_(None))) or 0
    try:
        point = checkpoint.read() if use_checkpoint else None
    except checkpoint.CheckpointError as error:
        return ChainReport(0, 0, 0, pending, reason=str(error))
    walk = _start(session, point, all_=all)
    if not walk.reason:
        _walk_links(session, walk, point)
    if not walk.reason:
        _compare_ends(session, walk, point)
    return ChainReport(
        walk.checked,
        walk.start,
        walk.last,
        pending,
        walk.broken_id,
        walk.reason,
        point.seq if point else None,
    )


def _truncated(point: checkpoint.Checkpoint, last: int) -> str:
    return (
        f"truncated: the checkpoint of {point.made_at} counts {point.seq} events, "
        f"the chain ends at {last}"
    )


def _rewritten(point: checkpoint.Checkpoint) -> str:
    return f"rewritten: the chain no longer passes through the checkpoint of {point.made_at}"


def _start(session: Session, point, *, all_: bool) -> _Walk:
    """From the first link; or, incrementally, from the checkpoint's link, which must still be
    there with the MAC the checkpoint signed."""
    if point is None or not point.seq or all_:
        return _Walk(start=1, prev="")
    anchor = session.execute(select(*_LINKED).where(_EVENT.c.seq == point.seq)).first()
    if anchor is None:
        last = session.scalar(select(func.max(_EVENT.c.seq))) or 0
        return _Walk(start=point.seq, prev="", last=last, reason=_truncated(point, last))
    if anchor.row_hash != point.mac:
        return _Walk(point.seq, "", last=point.seq, broken_id=anchor.id, reason=_rewritten(point))
    return _Walk(start=point.seq, prev=anchor.prev_hash, last=point.seq - 1)


def _link_fault(row, expected: int, prev: str, audit_keys: keys.AuditKeys) -> str:
    if row.seq != expected:
        return f"events {expected} to {row.seq - 1} of the chain are missing"
    if not row.row_hash or (not row.prev_hash and row.seq > 1):
        return "its hash was blanked"
    if row.prev_hash != prev:
        return "does not follow the event before it"
    try:
        mac = audit_keys.mac(row.key_id, canonical(row, row.seq, prev, row.key_id))
    except keys.AuditKeyError:
        return f"made with key {row.key_id!r}, which AUDIT_KEYS does not hold"
    if not hmac.compare_digest(mac, row.row_hash):
        return "content changed after it was written"
    return ""


def _walk_links(session: Session, walk: _Walk, point) -> None:
    """Every link from walk.start in seq order, streamed (constant memory)."""
    audit_keys = keys.current()
    walk.last = walk.start - 1
    rows = session.execute(
        select(*_LINKED).where(_EVENT.c.seq >= walk.start).order_by(_EVENT.c.seq),
        execution_options={"yield_per": 2000},
    )
    try:
        for row in rows:
            fault = _link_fault(row, walk.last + 1, walk.prev, audit_keys)
            if not fault and point is not None and row.seq == point.seq:
                fault = "" if row.row_hash == point.mac else _rewritten(point)
            if fault:
                walk.broken_id, walk.reason = row.id, fault
                return
            walk.prev, walk.last = row.row_hash, row.seq
            walk.checked += 1
    finally:
        rows.close()  # a server-side cursor on PostgreSQL


def _compare_ends(session: Session, walk: _Walk, point) -> None:
    """The chain must reach the checkpoint and the count its head row keeps."""
    if point is not None and walk.last < point.seq:
        walk.reason = _truncated(point, walk.last)
        return
    head = session.execute(select(_HEAD.c.appended)).first()
    if head is not None and head.appended > walk.last:
        walk.reason = (
            f"truncated: the chain's head row counts {head.appended} events, "
            f"the chain ends at {walk.last}"
        )
