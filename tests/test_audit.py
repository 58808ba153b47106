"""Every read of a referral, patient or letter and every change writes an audit event."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.conftest import force_login
from tests.factories import accepted_referral, create_referral


def _events(**filters):
    db.session.expire_all()
    stmt = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id)
    return db.session.scalars(stmt).all()


def test_reads_are_audited(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.coordinator)
    assert client.get(f"/referrals/{referral.id}").status_code == 200
    assert client.get(f"/referrals/patients/{referral.patient_id}").status_code == 200
    assert client.get("/triage/").status_code == 200
    actions = [
        (e.action, e.object_type, e.object_id, e.outcome)
        for e in _events(actor_id=world.coordinator.id)
    ]
    assert ("referral.view", "referral", referral.id, "ok") in actions
    assert ("patient.view", "patient", referral.patient_id, "ok") in actions
    assert ("referral.list", "referral", None, "ok") in actions


def test_changes_are_audited_without_phi(app, world):
    accepted_referral(
        world.referrer,
        world.coordinator,
        world.clinician,
        first_name="Zebulon",
        last_name="Quixote",
    )
    db.session.commit()
    rows = _events()
    assert {
        "referral.create",
        "patient.create",
        "assessment.create",
        "referral.transition",
        "course.create",
    } <= {e.action for e in rows}
    transitions = [e.detail for e in rows if e.action == "referral.transition"]
    assert transitions == ["draft->submitted", "submitted->in_review", "in_review->accepted"]
    for event in rows:
        blob = " ".join(str(v) for v in (event.action, event.object_type, event.detail, event.ip))
        assert "Zebulon" not in blob
        assert "Quixote" not in blob
        assert "1980" not in blob


def test_other_clinic_staff_get_404_and_are_audited(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.other_staff)
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    assert client.get("/triage/").get_data(as_text=True).count(referral.number) == 0
    denied = _events(actor_id=world.other_staff.id, outcome="denied")
    assert [(e.action, e.object_id) for e in denied] == [("referral.view", referral.id)]
