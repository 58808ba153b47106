"""Audit rows live in the unit of work of what they record: committed with the change by the
view, rolled back with it. Reads and refusals outlive the rollback of a refused change; a
denied access is committed on its own. No after_request hook commits for the view."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import portal.triage.service as triage_service
from portal.audit.models import AuditEvent
from portal.audit.service import record, record_denied, uncommitted
from portal.auth.models import User
from portal.errors import Conflict
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.referrals.vocab import TREATMENT_MODALITIES
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral


def _rows(**filters) -> list[tuple[str, str]]:
    db.session.expire_all()
    stmt = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id)
    return [(e.action, e.outcome) for e in db.session.scalars(stmt)]


def _in_review(world) -> Referral:
    referral = create_referral(world.referrer)
    db.session.commit()
    change_state(
        referral, State.IN_REVIEW, actor=world.coordinator, expected_version=referral.version
    )
    db.session.commit()
    return referral


def test_no_request_hook_commits_for_the_view(app):
    names = [getattr(f, "__name__", "") for f in app.after_request_funcs.get(None, [])]
    assert "persist_request_audit" not in names
    assert "audit_rows_committed" in names  # it only checks; it writes nothing


def test_a_change_refused_after_its_audit_row_was_written_leaves_no_row(app, world, monkeypatch):
    """Accepting writes the transition's audit row, then (here) the course cannot be opened:
    the view rolls the change back, and its audit row goes with it. The read stays."""
    referral = _in_review(world)
    clinician = world.clinician

    def refuse(*args, **kwargs):
        db.session.flush()  # the transition and its audit row are in the database by now
        assert ("referral.transition", "ok") in [
            (e.action, e.outcome) for e in uncommitted(db.session())
        ]
        raise Conflict("The course could not be opened.")

    monkeypatch.setattr(triage_service, "open_course", refuse)
    client = app.test_client()
    force_login(client, world.coordinator)
    response = client.post(
        f"/triage/{referral.id}/accept",
        data={
            "version": referral.version,
            "modality": TREATMENT_MODALITIES[0][0],
            "clinician_id": clinician.id,
            "protocol_id": 0,
            "csrf_token": csrf_token(client, f"/triage/{referral.id}/accept"),
        },
        follow_redirects=True,
    )
    assert "The course could not be opened." in response.get_data(as_text=True)
    assert db.session.get(Referral, referral.id).state == State.IN_REVIEW
    rows = _rows(actor_id=world.coordinator.id, object_id=referral.id)
    assert ("referral.transition", "ok") not in rows[-3:]
    assert rows.count(("referral.transition", "ok")) == 1  # draft... -> in_review only
    assert ("referral.act", "ok") in rows  # the read of the accept form stays


def test_a_stale_decision_keeps_the_read_and_the_conflict(app, world):
    referral = _in_review(world)
    client = app.test_client()
    force_login(client, world.coordinator)
    token = csrf_token(client)
    before = len(_rows(actor_id=world.coordinator.id))
    client.post(
        f"/triage/{referral.id}/decide/declined",
        data={"version": referral.version - 1, "reason": "x", "csrf_token": token},
    )
    after = _rows(actor_id=world.coordinator.id)[before:]
    assert after == [("referral.act", "ok"), ("referral.transition", "conflict")]


def test_denied_access_is_committed_on_its_own(app, world):
    """The denial rolls back whatever the request had not committed, then commits alone."""
    user_id = world.referrer.id
    with app.test_request_context("/"):
        user = db.session.get(User, user_id)
        user.full_name = "Changed, never committed"
        record("account.change", "user", user.id, actor=user)
        record("referral.view", "referral", 1, actor=user, read=True)
        record_denied("referral.view", "referral", 999, actor=user)
        assert uncommitted(db.session()) == []
    assert db.session.get(User, user_id).full_name != "Changed, never committed"
    rows = _rows(actor_id=user_id)
    assert rows == [("referral.view", "ok"), ("referral.view", "denied")]


def test_a_rollback_without_a_commit_loses_the_change_row(app, world):
    admin_id = world.admin.id
    with app.test_request_context("/"):
        record("account.change", "user", admin_id, actor=world.admin)
        db.session.flush()
        db.session.rollback()
        assert uncommitted(db.session()) == []
        db.session.commit()
    assert _rows(actor_id=admin_id) == []


def test_a_view_that_forgets_to_commit_is_caught(app, world):
    """The after_request check (testing) fails a request that left audit rows uncommitted."""
    with app.test_request_context("/"):
        record("test.read", read=True)
        with pytest.raises(AssertionError, match="left audit events uncommitted: test.read"):
            app.process_response(app.response_class("x"))
        db.session.rollback()
