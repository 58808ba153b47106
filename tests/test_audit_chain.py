"""Audit integrity: the database refuses UPDATE and DELETE, the keyed chain finds a row edited
by hand, and the administrator's viewer filters and exports. Truncation and rewrites:
test_audit_tampering.py."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal.audit import chain
from portal.audit.chain import chain_pending
from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.audit.tasks import link_audit_events
from portal.audit.verification import verify
from portal.extensions import db
from tests.audit_helpers import triggers_off
from tests.conftest import force_login
from tests.factories import create_referral


def _some_events(world, n: int = 5) -> list[int]:
    ids = []
    for i in range(n):
        ids.append(record("test.event", "referral", i + 1, actor=world.coordinator).id or 0)
    db.session.commit()
    return [e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET detail = 'edited' WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
    ],
)
def test_the_database_refuses_update_and_delete(world, statement):
    ids = _some_events(world)
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement), {"id": ids[1]})
    assert len(_some_events(world, 0)) == len(ids)


_triggers_off = triggers_off


def test_chain_links_every_event(world):
    ids = _some_events(world)
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == list(range(1, len(ids) + 1))
    assert rows[0].prev_hash == ""
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.row_hash
        assert len(after.row_hash) == 64
        assert after.key_id == "test"
    report = verify(db.session)
    assert report.ok
    assert report.checked == len(ids)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE audit_event SET detail = 'nothing to see' WHERE id = :id", "content changed"),
        ("UPDATE audit_event SET actor_id = NULL WHERE id = :id", "content changed"),
        ("DELETE FROM audit_event WHERE id = :id", "events 5 to 5 of the chain are missing"),
    ],
)
def test_verify_reports_the_first_broken_link(app, world, tamper, reason):
    ids = _some_events(world, 8)
    target = ids[4]
    with _triggers_off() as conn:
        conn.execute(text(tamper), {"id": target})
    db.session.expire_all()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    broken = target if "DELETE" not in tamper else ids[5]
    assert f"Audit trail BROKEN at event {broken}: {reason}" in result.output


def test_verify_cli_reports_an_intact_trail(app, world):
    ids = _some_events(world)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert f"Audit trail intact: {len(ids)} events checked from the first event" in result.output


def test_events_added_in_separate_transactions_chain_in_order(app, world):
    clients = [app.test_client() for _ in range(3)]
    for client, user in zip(clients, (world.referrer, world.coordinator, world.admin), strict=True):
        force_login(client, user)
    for _ in range(3):
        for client in clients:
            client.get("/")
            client.get("/account/security")
    assert verify(db.session).ok


def _viewer(app, world):
    client = app.test_client()
    force_login(client, world.admin)
    return client


def test_a_process_links_after_a_commit_at_most_once_a_pace_and_the_minute_job_links_the_rest(
    app, world, monkeypatch
):
    monkeypatch.setitem(app.config, "AUDIT_CHAIN_EVERY_SECONDS", 3600)
    monkeypatch.setattr(chain, "_last_inline", float("-inf"))
    first = record("test.event", "referral", 1, actor=world.coordinator)
    db.session.commit()
    second = record("test.event", "referral", 2, actor=world.coordinator)
    db.session.commit()
    db.session.expire_all()
    assert first.seq is not None  # the first commit linked its row
    assert second.seq is None  # within the pace: left for the next run
    assert link_audit_events.call_local() >= 1
    db.session.expire_all()
    assert second.seq == first.seq + 1
    assert verify(db.session).ok


def test_viewer_filters_by_user_action_object_and_date(app, world):
    referral = create_referral(world.referrer)
    record("referral.view", "referral", referral.id, actor=world.coordinator)
    record("referral.view", "referral", referral.id + 999, actor=world.clinician)
    db.session.commit()
    client = _viewer(app, world)
    page = client.get("/admin/audit").get_data(as_text=True)
    for label in ("User email", "Action", "Object", "Object id", "From", "To", "Export CSV"):
        assert label in page
    page = client.get(
        "/admin/audit",
        query_string={"user": "coord@", "action": "referral.view", "object_type": "referral"},
    ).get_data(as_text=True)
    assert "coord@example.test" in page
    assert "clinician@example.test" not in page
    page = client.get("/admin/audit", query_string={"object_id": referral.id + 999}).get_data(
        as_text=True
    )
    assert "clinician@example.test" in page
    assert "coord@example.test" not in page
    empty = client.get(
        "/admin/audit", query_string={"date_from": "2001-01-01", "date_to": "2001-01-02"}
    ).get_data(as_text=True)
    assert "No events match these filters." in empty


def test_csv_export_has_the_filtered_rows_and_no_formulas(app, world):
    record("test.event", "referral", 7, actor=world.coordinator, detail="=HYPERLINK(1)")
    record("other.event", "referral", 8, actor=world.coordinator)
    db.session.commit()
    client = _viewer(app, world)
    response = client.get("/admin/audit.csv", query_string={"action": "test.event"})
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["test.event"]
    assert rows[0]["detail"] == "'=HYPERLINK(1)"
    assert rows[0]["actor_email"] == "coord@example.test"
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit.export")
    ).all()
    assert len(exports) == 1


def test_concurrent_writers_never_fork_the_chain(app, world):
    import threading

    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(8):
                    record("test.concurrent", "referral", n * 100 + i)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    chain_pending()  # on PostgreSQL a writer skips chaining while another one chains
    db.session.expire_all()
    report = verify(db.session)
    assert report.ok, report
    assert report.checked == 32
