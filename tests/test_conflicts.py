"""Concurrency and failure paths: nothing overwritten, nothing doubled, every attempt audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.letters.models import Letter
from portal.referrals.models import Referral
from portal.referrals.service import StaleEdit, change_state
from portal.referrals.states import State
from portal.treatment.models import TreatmentSession
from tests.conftest import csrf_token, force_login
from tests.factories import (
    accepted_referral,
    create_referral,
    document_sessions,
    stored_letter,
)


def test_stale_post_is_refused_and_its_audit_row_survives_the_rollback(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.coordinator)
    stale = referral.version - 1
    response = client.post(
        f"/triage/{referral.id}/decide/declined",
        data={"version": stale, "reason": "x", "csrf_token": csrf_token(client, "/")},
        follow_redirects=True,
    )
    assert "nothing was saved" in response.get_data(as_text=True)
    db.session.expire_all()
    rows = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.actor_id == world.coordinator.id, AuditEvent.object_id == referral.id
        )
    ).all()
    assert ("referral.transition", "conflict") in {(e.action, e.outcome) for e in rows}
    assert db.session.get(Referral, referral.id).state == "submitted"


def test_concurrent_write_of_the_same_version_becomes_a_stale_edit(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    loaded_version = referral.version
    # Another coordinator's change lands between our version check and our write.
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE referral SET version = version + 1, updated_by_id = :who WHERE id = :id"),
            {"id": referral.id, "who": world.coordinator2.id},
        )
    with pytest.raises(StaleEdit, match="at the same moment; nothing was saved") as refused:
        change_state(
            referral, State.IN_REVIEW, actor=world.coordinator, expected_version=loaded_version
        )
    db.session.rollback()
    # Once rolled back, the referral is read again and the winner is named.
    assert f"changed by {world.coordinator2.full_name} at " in str(refused.value.reload())
    assert "It is now submitted; nothing was saved." in str(refused.value)


def test_double_submitted_session_form_records_one_session(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.clinician)
    path = f"/treatment/referrals/{referral.id}/sessions/new"
    page = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    form = {
        "version": version,
        "session_date": "2026-10-01",
        "modality": "iv_ketamine",
        "weight_kg": "70",
        "dose_mg_per_kg": "0.5",
        "infusion_minutes": "40",
        "infusion_started_at": "09:00",
        "lot_number": "KET-2211",
        "bp_pre_systolic": "120",
        "bp_pre_diastolic": "80",
        "bp_post_systolic": "130",
        "bp_post_diastolic": "85",
        "csrf_token": csrf_token(client, path),
    }
    assert client.post(path, data=form).status_code == 302
    again = client.post(path, data=form, follow_redirects=True)
    assert "nothing was saved" in again.get_data(as_text=True)
    db.session.expire_all()
    sessions = db.session.scalars(select(TreatmentSession)).all()
    assert len(sessions) == 2  # the one from the factory and the first post, not the repeat


def test_colleague_download_is_not_proof_of_receipt(app, world):
    letter = stored_letter(create_referral(world.referrer), world.clinician)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.colleague)
    assert client.get(f"/letters/{letter.id}/download").status_code == 200
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_downloaded_at is None
    force_login(client, world.referrer)
    client.get(f"/letters/{letter.id}/download").close()
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).first_downloaded_by_id == world.referrer.id
