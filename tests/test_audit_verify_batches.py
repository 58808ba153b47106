"""`audit verify` made faster (issue 14 item 3): the links read in keyset batches, the usual
link checked inline. The MACs are unchanged (every trail written before still verifies), and a
fault is found at the same event whatever batch it falls in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.audit import verification
from portal.audit.chain import canonical
from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.audit.verification import verify
from portal.extensions import db
from tests.audit_helpers import tamper


def _former_canonical(row, seq: int, prev: str, key_id: str) -> bytes:
    """The canonical form as the chain was first written (json.dumps, strftime)."""
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


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 7, 1, 23, 30, tzinfo=timezone(timedelta(hours=-4))),
    ],
)
def test_the_canonical_form_is_byte_for_byte_the_former_one(at):
    row = SimpleNamespace(
        id=7,
        at=at,
        actor_id=None,
        actor_role=None,
        action="letter.view",
        object_type="letter",
        object_id=3,
        ip=None,
        outcome="ok",
        detail='Zoë "quoted" \\ naïve, 5 mg/kg',
    )
    assert canonical(row, 12, "ab" * 32, "k1") == _former_canonical(row, 12, "ab" * 32, "k1")


def _events(world, n: int) -> list[int]:
    for i in range(n):
        record("test.event", "referral", i + 1, actor=world.coordinator)
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.seq)))


def test_verify_reads_every_batch(world, monkeypatch):
    monkeypatch.setattr(verification, "VERIFY_BATCH", 4)
    ids = _events(world, 11)
    report = verify(db.session, all=True)
    assert report.ok, report.reason
    assert report.checked == len(ids)
    assert report.last_seq == len(ids)


def test_an_edit_in_a_later_batch_is_found_at_its_event(world, monkeypatch):
    monkeypatch.setattr(verification, "VERIFY_BATCH", 4)
    ids = _events(world, 11)
    tamper("UPDATE audit_event SET detail = 'edited' WHERE id = :id", id=ids[9])
    report = verify(db.session, all=True)
    assert not report.ok
    assert report.broken_id == ids[9]
    assert report.reason == "content changed after it was written"
    assert report.checked == 9


def test_a_gap_across_a_batch_boundary_is_found(world, monkeypatch):
    monkeypatch.setattr(verification, "VERIFY_BATCH", 4)
    ids = _events(world, 11)
    tamper("DELETE FROM audit_event WHERE id = :id", id=ids[4])
    report = verify(db.session, all=True)
    assert report.broken_id == ids[5]
    assert report.reason == "events 5 to 5 of the chain are missing"
