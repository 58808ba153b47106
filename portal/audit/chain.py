"""The audit chain: a keyed hash chain over every audit event, made by a sequencer.

A request only INSERTs its audit rows, in its own transaction, and takes no lock for them.
The sequencer (`chain_pending`) then links the committed rows that have no place in the
chain yet, in id order, in one short transaction of its own: each gets the next `seq`, the
previous link's MAC (`prev_hash`) and its own MAC (`row_hash`), an HMAC-SHA256 with the
current audit key (portal.audit.keys) over its content, its seq and the previous MAC. The
database lets exactly that UPDATE through, once per row (the append-only triggers).

It runs after a commit that wrote audit rows (AUDIT_CHAIN_INLINE), at most once every
AUDIT_CHAIN_EVERY_SECONDS per process: a busy worker links the rows of all the requests since
its last run in one batch instead of paying a transaction per request (on PostgreSQL it also
skips when another process is chaining, which picks the rows up). It also runs every minute
on the job worker (portal/audit/tasks.py), at the start of `audit verify`, and from `flask
--app portal audit chain` (cron), so an idle portal's last rows are linked too. Every
AUDIT_CHECKPOINT_SECONDS it signs a checkpoint of the head outside the database
(portal.audit.checkpoint).

`verify` (portal.audit.verification) walks the links in seq order from the latest
checkpoint (or from the first link with `all=True`), in constant memory, and reports a link
edited, re-linked or blanked, rows deleted, a truncated or a rewritten chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC

from flask import current_app
from sqlalchemy import Connection, bindparam, event, select, update
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


# One encoder for every link (json.dumps with options builds a new one per call).
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def canonical(row, seq: int, prev: str, key_id: str) -> bytes:
    """The bytes a link's MAC is taken over: a JSON array of its place in the chain and its
    content, the time in UTC to the microsecond ("2026-01-02T03:04:05.000006Z")."""
    return _encode(
        seq,
        prev,
        key_id,
        row.id,
        row.at,
        row.actor_id,
        row.actor_role,
        row.action,
        row.object_type,
        row.object_id,
        row.ip,
        row.outcome,
        row.detail,
    )


def _encode(seq, prev, key_id, eid, at, actor_id, role, action, otype, oid, ip, outcome, detail):
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    stamp = at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    fields = [
        seq,
        prev,
        key_id,
        eid,
        stamp,
        actor_id,
        role or "",
        action,
        otype or "",
        oid,
        ip or "",
        outcome,
        detail or "",
    ]
    return _ENCODE(fields).encode()


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

TO_CHAIN = "audit_to_chain"  # this transaction wrote audit events
COMMITTED = "audit_committed"  # ... and committed them: link them once the connection is back


def _note_new_events(session: Session, flush_context, instances) -> None:
    if any(isinstance(obj, AuditEvent) for obj in session.new):
        session.info[TO_CHAIN] = True


def _note_commit(session: Session) -> None:
    if session.info.pop(TO_CHAIN, False):
        session.info[COMMITTED] = True


_last_inline = float("-inf")  # monotonic time of this process's last chaining after a commit


def _chain_after_release(session: Session, transaction) -> None:
    """After the committed transaction has ended, when the session has given its connection
    back to the pool (after_commit comes before that): the sequencer's own connection is then
    the thread's only one. Taken while the request still held its own, many requests
    committing at once each held one and waited for a second, and the pool ran dry."""
    global _last_inline
    if transaction.parent is not None or not session.info.pop(COMMITTED, False):
        return
    if not current_app.config.get("AUDIT_CHAIN_INLINE", True):
        return
    now = time.monotonic()
    if now - _last_inline < current_app.config.get("AUDIT_CHAIN_EVERY_SECONDS", 0):
        return  # linked by this process's next run, another process's, or the minute job
    _last_inline = now
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
        event.listen(Session, "after_commit", _note_commit)
        event.listen(Session, "after_transaction_end", _chain_after_release)
        event.listen(Session, "after_soft_rollback", _forget_after_rollback)


install()
