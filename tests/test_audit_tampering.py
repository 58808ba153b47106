"""The keyed audit chain against someone who can write to the database but holds neither the
audit key nor the checkpoint file: each attack of the assessment (delete the newest rows,
delete every row, blank every hash, recompute the chain unkeyed, TRUNCATE) is reported by
`audit verify`, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal.audit import checkpoint, keys
from portal.audit.chain import ChainBroken, chain_pending
from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.audit.verification import verify
from portal.db import utcnow
from portal.extensions import db
from tests.audit_helpers import some_events, tamper, triggers_off


def _verify_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def _checkpointed(app, world, n: int) -> list[int]:
    ids = some_events(world.coordinator, n)
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert f"Checkpoint written: {n} events" in result.output
    return ids


def test_deleting_the_newest_200_rows_is_reported(app, world):
    ids = _checkpointed(app, world, 250)
    tamper("DELETE FROM audit_event WHERE id >= :first", first=ids[50])
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "truncated: the checkpoint of" in result.output
    assert "counts 250 events, the chain ends at 50" in result.output


def test_deleting_the_newest_rows_and_fixing_the_head_row_is_still_reported(app, world):
    ids = _checkpointed(app, world, 30)
    tamper(
        "DELETE FROM audit_event WHERE id >= :first",
        "UPDATE audit_chain_head SET appended = 20, head_mac = "
        "(SELECT row_hash FROM audit_event WHERE seq = 20)",
        first=ids[20],
    )
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "counts 30 events, the chain ends at 20" in result.output


def test_deleting_the_newest_rows_without_a_checkpoint_is_found_by_the_head_row(app, world):
    ids = some_events(world.coordinator, 12)
    tamper("DELETE FROM audit_event WHERE id >= :first", first=ids[8])
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "the chain's head row counts 12 events, the chain ends at 8" in result.output


def test_deleting_every_row_is_reported(app, world):
    _checkpointed(app, world, 20)
    tamper("DELETE FROM audit_event", "DELETE FROM audit_chain_head")
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "counts 20 events, the chain ends at 0" in result.output


def test_truncate_is_refused_and_reported_when_forced(app, world):
    _checkpointed(app, world, 10)
    db.session.rollback()  # TRUNCATE waits for every reader of the table to finish
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_event CASCADE"))
        assert db.session.scalar(select(db.func.count(AuditEvent.id))) == 10
        db.session.rollback()
        statement = "TRUNCATE audit_event, audit_chain_head CASCADE"
    else:
        statement = "DELETE FROM audit_event"  # SQLite has no TRUNCATE: its fast path
    tamper(statement)
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "counts 10 events, the chain ends at 0" in result.output


def test_blanking_every_hash_is_reported(app, world):
    ids = some_events(world.coordinator, 8)
    tamper("UPDATE audit_event SET prev_hash = '', row_hash = ''")
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert f"Audit trail BROKEN at event {ids[0]}: its hash was blanked" in result.output


def test_unlinking_every_row_for_the_sequencer_to_relink_is_reported(app, world):
    """Set every row back to 'not linked yet' and reset the head: the app's own sequencer
    relinks them with the key, but the chain no longer passes through the checkpoint."""
    ids = _checkpointed(app, world, 10)
    tamper(
        "UPDATE audit_event SET detail = 'rewritten', seq = NULL, prev_hash = '', row_hash = ''",
        "UPDATE audit_chain_head SET appended = 0, head_mac = ''",
    )
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert f"Audit trail BROKEN at event {ids[-1]}: rewritten" in result.output


def test_the_sequencer_refuses_a_head_row_that_disagrees(app, world):
    some_events(world.coordinator, 5)
    tamper("UPDATE audit_chain_head SET appended = 3")
    with pytest.raises(ChainBroken, match="head row says 3 links, the events say 5"):
        chain_pending()
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "Audit trail BROKEN: the chain's head row says 3 links" in result.output


def _unkeyed(fields: list) -> str:
    return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()


def test_recomputing_the_chain_without_the_key_is_reported(app, world):
    """The old chain's method (SHA-256 over the content and the previous hash), applied by
    the attacker after editing a row: every link is consistent, but no MAC matches."""
    some_events(world.coordinator, 6)
    tamper("UPDATE audit_event SET detail = 'edited' WHERE seq = 3")
    rows = db.session.execute(
        select(AuditEvent.id, AuditEvent.seq, AuditEvent.detail).order_by(AuditEvent.seq)
    ).all()
    prev = ""
    with triggers_off() as conn:
        for row in rows:
            mac = _unkeyed([prev, row.id, row.seq, row.detail])
            conn.execute(
                text("UPDATE audit_event SET prev_hash = :p, row_hash = :m WHERE id = :id"),
                {"p": prev, "m": mac, "id": row.id},
            )
            prev = mac
        conn.execute(text("UPDATE audit_chain_head SET head_mac = :m"), {"m": prev})
    db.session.expire_all()
    result = _verify_cli(app, "--all")
    assert result.exit_code == 1
    assert f"Audit trail BROKEN at event {rows[0].id}: content changed" in result.output


def test_a_chain_made_with_another_key_is_reported(app, world):
    """Relinked by someone with a key of their own: the MACs do not match ours."""
    some_events(world.coordinator, 4)
    saved = app.config["AUDIT_KEYS"]
    app.config["AUDIT_KEYS"] = "test:" + "A" * 43  # the same id, another secret
    try:
        tamper(
            "UPDATE audit_event SET seq = NULL",
            "UPDATE audit_chain_head SET appended = 0, head_mac = ''",
        )
        chain_pending()
    finally:
        app.config["AUDIT_KEYS"] = saved
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "content changed after it was written" in result.output


def test_an_altered_checkpoint_is_reported(app, world):
    _checkpointed(app, world, 5)
    path = checkpoint.path()
    point = json.loads(path.read_text())
    point["seq"] = 2
    path.write_text(json.dumps(point))
    result = _verify_cli(app)
    assert result.exit_code == 1
    assert "does not match its signature (altered)" in result.output


def test_verify_is_incremental_from_the_checkpoint_and_complete_with_all(app, world):
    ids = _checkpointed(app, world, 40)
    some_events(world.coordinator, 5)
    report = verify(db.session)
    assert report.ok
    assert (report.start, report.checked, report.last_seq) == (40, 6, 45)
    # An edit before the checkpoint is past what the incremental run reads; --all finds it.
    tamper("UPDATE audit_event SET detail = 'edited' WHERE id = :id", id=ids[10])
    assert verify(db.session).ok
    result = _verify_cli(app, "--all")
    assert result.exit_code == 1
    assert f"Audit trail BROKEN at event {ids[10]}: content changed" in result.output


def test_a_successful_verify_moves_the_checkpoint_forward(app, world):
    some_events(world.coordinator, 7)
    result = _verify_cli(app)
    assert result.exit_code == 0, result.output
    assert "the chain has 7 events; checkpoint at 7." in result.output
    assert checkpoint.read().seq == 7


def test_checkpoint_reset_replaces_one_that_is_ahead_and_is_audited(app, world):
    _checkpointed(app, world, 10)
    tamper(
        "DELETE FROM audit_event WHERE seq > 6",
        "UPDATE audit_chain_head SET appended = 6, head_mac = "
        "(SELECT row_hash FROM audit_event WHERE seq = 6)",
    )
    refused = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert refused.exit_code == 1
    reset = app.test_cli_runner().invoke(args=["audit", "checkpoint", "--reset"])
    assert reset.exit_code == 0, reset.output
    assert "Checkpoint written: 6 events" in reset.output
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "audit.checkpoint_reset"
    assert _verify_cli(app).exit_code == 0


def test_keys_rotate_old_links_keep_their_key(app, world):
    some_events(world.coordinator, 3)
    saved = app.config["AUDIT_KEYS"]
    app.config["AUDIT_KEYS"] = f"{keys.generate('k2')},{saved}"
    try:
        some_events(world.coordinator, 2)
        key_ids = db.session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.seq)).all()
        assert key_ids == ["test", "test", "test", "k2", "k2"]
        assert verify(db.session, all=True).ok
    finally:
        app.config["AUDIT_KEYS"] = saved
    report = verify(db.session, all=True)  # without the new key, its links cannot be checked
    assert "made with key 'k2', which AUDIT_KEYS does not hold" in report.reason


def _insert_event(conn, action: str) -> None:
    conn.execute(
        AuditEvent.__table__.insert().values(
            at=utcnow(),
            action=action,
            actor_role="",
            object_type="",
            ip="",
            outcome="ok",
            detail="",
        )
    )


def test_no_writer_waits_for_another_writers_transaction(app, world):
    """A transaction that wrote an audit row and is still at work (rendering a PDF, say)
    holds no lock that another request's audit write waits for; its row is linked after
    the other's, in the order of commit. (PostgreSQL: SQLite has one writer at a time.)"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time, whatever the audit does")
    with db.engine.connect() as busy:
        busy.begin()
        _insert_event(busy, "test.early")  # inserted first, committed last
        done = threading.Event()

        def other_request():
            with app.app_context():
                record("test.late")
                db.session.commit()
                db.session.remove()
            done.set()

        thread = threading.Thread(target=other_request)
        started = time.monotonic()
        thread.start()
        assert done.wait(timeout=5), "the second writer waited for the first one's lock"
        assert time.monotonic() - started < 5
        busy.commit()
    chain_pending()
    order = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert order == ["test.late", "test.early"]
    assert verify(db.session).ok
