"""Verifying the audit chain (portal.audit.chain): `verify` walks the links in seq order from
the latest checkpoint (or from the first link with `all=True`), reading them in keyset
batches (constant memory, few round trips), and reports: a link edited (MAC), re-linked or
blanked, a gap in the sequence (rows deleted), a chain shorter than the checkpoint or than its
own head row (the newest rows deleted, every row deleted, TRUNCATE), and a chain that no longer
passes through the checkpoint (rewritten).

The usual link is checked inline on its plain values with one keyed HMAC state per key
copied per link; any fault is then explained by `_link_fault`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import checkpoint, keys
from portal.audit.chain import _EVENT, _HEAD, _LINKED, _encode, canonical


class _Macs:
    """HMAC-SHA256 under each key id, the keyed state computed once per key and copied per
    message (the walk checks thousands of links a second)."""

    def __init__(self, audit_keys: keys.AuditKeys) -> None:
        self.audit_keys = audit_keys
        self.keyed: dict[str, hmac.HMAC] = {}

    def __call__(self, key_id: str, message: bytes) -> str:
        keyed = self.keyed.get(key_id)
        if keyed is None:  # AuditKeyError for a key AUDIT_KEYS does not hold
            keyed = hmac.new(self.audit_keys.secret(key_id), digestmod=hashlib.sha256)
            self.keyed[key_id] = keyed
        mac = keyed.copy()
        mac.update(message)
        return mac.hexdigest()


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


def _link_fault(row, expected: int, prev: str, macs: _Macs) -> str:
    if row.seq != expected:
        return f"events {expected} to {row.seq - 1} of the chain are missing"
    if not row.row_hash or (not row.prev_hash and row.seq > 1):
        return "its hash was blanked"
    if row.prev_hash != prev:
        return "does not follow the event before it"
    try:
        mac = macs(row.key_id, canonical(row, row.seq, prev, row.key_id))
    except keys.AuditKeyError:
        return f"made with key {row.key_id!r}, which AUDIT_KEYS does not hold"
    if not hmac.compare_digest(mac, row.row_hash):
        return "content changed after it was written"
    return ""


# Links read per statement while verifying: few round trips (each costs a wake-up of the
# database on a loaded machine), memory bounded by one batch (a few MB).
VERIFY_BATCH = 5000


def _walk_links(session: Session, walk: _Walk, point) -> None:
    """Every link from walk.start in seq order, read in keyset batches (constant memory)."""
    macs = _Macs(keys.current())
    walk.last = walk.start - 1
    checkpoint_seq = point.seq if point is not None else None
    after = walk.start
    while True:
        rows = session.execute(
            select(*_LINKED).where(_EVENT.c.seq >= after).order_by(_EVENT.c.seq).limit(VERIFY_BATCH)
        ).all()
        prev, last = walk.prev, walk.last
        for row in rows:
            # The usual case inline, on the row's plain values: in sequence, linked, its MAC.
            eid, at, actor, role, action, otype, oid, ip, outcome, detail, seq, kid, back, mac = row
            sound = seq == last + 1 and mac and back == prev and (back or seq == 1)
            if sound:
                try:
                    expected = macs(
                        kid,
                        _encode(
                            seq,
                            prev,
                            kid,
                            eid,
                            at,
                            actor,
                            role,
                            action,
                            otype,
                            oid,
                            ip,
                            outcome,
                            detail,
                        ),
                    )
                except keys.AuditKeyError:
                    sound = False
                else:
                    sound = hmac.compare_digest(expected, mac)
            fault = "" if sound else _link_fault(row, last + 1, prev, macs)
            if not fault and seq == checkpoint_seq and mac != point.mac:
                fault = _rewritten(point)
            if fault:
                walk.prev, walk.last = prev, last
                walk.broken_id, walk.reason = eid, fault
                return
            prev, last = mac, seq
            walk.checked += 1
        walk.prev, walk.last = prev, last
        if len(rows) < VERIFY_BATCH:
            return
        after = walk.last + 1


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
