"""Documenting sessions by modality, each safety prompt, signing and addenda, seen by a user."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.treatment.models import TreatmentSession
from tests.conftest import csrf_token, force_login
from tests.factories import accepted_referral, spravato_referral, spravato_session
from tests.session_helpers import (
    clinician_client,
    iv_form,
    only_session,
    post_session,
    sign,
    spravato_form,
)


def test_iv_session_computes_mg_and_keeps_timed_vitals(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = post_session(client, referral.id, iv_form())
    assert response.status_code == 302
    session = only_session()
    assert (session.dose_mg, session.infusion_minutes) == (40, 40)  # 80 kg x 0.5 mg/kg
    assert [v["time"] for v in session.vitals] == ["09:00", "09:10"]
    page = client.get(response.location).get_data(as_text=True)
    assert "40 mg (0.5 mg/kg)" in page
    assert "09:10" in page
    assert "Not signed" in page


def test_spravato_session_records_the_rems_fields(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = post_session(client, referral.id, spravato_form())
    assert response.status_code == 302
    session = only_session()
    assert (session.dose_mg, session.devices_used, session.lot_number) == (84, 3, "EKT2419")
    assert session.concomitant_medications == ["benzodiazepines", "opioids"]
    assert session.dissociation is True
    assert session.sedation is False
    page = client.get(response.location).get_data(as_text=True)
    assert "Benzodiazepines, Opioids" in page


def test_spravato_form_refuses_missing_rems_fields_and_keeps_input(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    response = post_session(
        clinician_client(app, world), referral.id, spravato_form(lot_number="", sedation="")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("Required for this modality.") == 2
    assert 'value="130"' in page  # what was typed stays
    assert db.session.scalars(select(TreatmentSession)).first() is None


def test_dose_outside_range_asks_for_confirmation(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = post_session(client, referral.id, iv_form(dose_mg_per_kg="0.9"))
    assert response.status_code == 422
    assert "0.9 mg/kg is outside the published range of 0.1-0.75 mg/kg" in response.get_data(
        as_text=True
    )
    confirmed = post_session(client, referral.id, iv_form(dose_mg_per_kg="0.9", dose_confirmed="y"))
    assert confirmed.status_code == 302
    session = only_session()
    assert session.dose_outside_range_confirmed
    assert session.dose_mg == 72
    assert "confirmed by the clinician" in client.get(confirmed.location).get_data(as_text=True)
    audit = db.session.scalars(select(AuditEvent.action)).all()
    assert "session.dose_confirmed" in audit


def test_dissociation_needs_a_cadss6_score(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = post_session(client, referral.id, iv_form(adverse_events=["dissociation"]))
    assert response.status_code == 422
    assert "Dissociation needs a CADSS-6 score." in response.get_data(as_text=True)
    cadss = {f"cadss_{n}": "2" for n in range(1, 7)}
    assert (
        post_session(client, referral.id, iv_form(adverse_events=["dissociation"], **cadss))
    ).status_code == 302
    session = only_session()
    assert [(a.scale, a.total) for a in session.assessments] == [("CADSS-6", 12)]


def test_bp_above_140_90_needs_a_reason_before_signing(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    form = iv_form(bp_pre_systolic="152", bp_pre_diastolic="88")
    response = post_session(client, referral.id, form)
    session_id = only_session().id
    page = client.get(response.location).get_data(as_text=True)
    assert "152/88 mmHg, above 140/90" in page
    assert "Why the session went ahead" in page
    refused = sign(client, session_id).get_data(as_text=True)
    assert "The session was not signed." in refused
    assert only_session().signed_at is None
    signed = sign(client, session_id, bp_reason="Repeat 138/86 after rest; benefit outweighs.")
    assert "The session is signed." in signed.get_data(as_text=True)
    session = only_session()
    assert session.signed_by_id == world.clinician.id
    assert session.bp_acknowledgement.startswith("Repeat 138/86")
    assert "Went ahead because: Repeat 138/86" in signed.get_data(as_text=True)


@pytest.mark.parametrize(
    ("enrolled", "minutes", "message"),
    [
        (True, 110, "Total monitoring time is 110 minutes."),
        (False, 130, "REMS enrolment is not recorded"),
    ],
)
def test_spravato_cannot_be_signed_without_rems_conditions(app, world, enrolled, minutes, message):
    referral = spravato_referral(
        world.referrer, world.coordinator, world.clinician, enrolled=enrolled
    )
    session = spravato_session(referral, world.clinician, monitoring_minutes=minutes)
    db.session.commit()
    client = clinician_client(app, world)
    page = client.get(f"/treatment/sessions/{session.id}").get_data(as_text=True)
    assert message in page
    assert "This session cannot be signed yet." in page
    assert "Sign session</button>" not in page
    refused = client.post(
        f"/treatment/sessions/{session.id}/sign",
        data={"version": str(referral.version), "csrf_token": csrf_token(client, "/")},
        follow_redirects=True,
    )
    assert message in refused.get_data(as_text=True)
    assert only_session().signed_at is None
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "session.sign")
    ).one()
    assert refusal.outcome == "refused"


def test_recording_rems_enrolment_unblocks_signing(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician, enrolled=False)
    session = spravato_session(referral, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = client.post(
        f"/treatment/referrals/{referral.id}/rems-enrolment",
        data={"enrolled_on": "2026-01-05", "csrf_token": csrf_token(client, "/")},
        follow_redirects=True,
    )
    assert "Enrolled on <strong>2026-01-05</strong>" in response.get_data(as_text=True)
    assert "The session is signed." in sign(client, session.id).get_data(as_text=True)


def test_signed_session_is_amended_only_by_addenda(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    session = spravato_session(referral, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    signed_page = sign(client, session.id).get_data(as_text=True)
    assert "Sign session</button>" not in signed_page
    token = csrf_token(client, "/")
    db.session.expire_all()
    again = client.post(
        f"/treatment/sessions/{session.id}/sign",
        data={"version": str(referral.version), "csrf_token": token},
        follow_redirects=True,
    )
    assert "already signed; add an addendum instead" in again.get_data(as_text=True)
    empty = client.post(
        f"/treatment/sessions/{session.id}/addenda",
        data={"text": "  ", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Write the addendum before saving it." in empty.get_data(as_text=True)
    added = client.post(
        f"/treatment/sessions/{session.id}/addenda",
        data={"text": "Lot number corrected: EKT2420.", "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The addendum is added; the signed session is unchanged." in added
    assert "Lot number corrected: EKT2420." in added
    assert world.clinician.full_name in added
    stored = only_session()
    assert stored.lot_number == "LOT-77"  # the original stays as signed
    assert [(a.text, a.author_id) for a in stored.addenda] == [
        ("Lot number corrected: EKT2420.", world.clinician.id)
    ]
    assert stored.addenda[0].created_at is not None


def test_unsigned_session_takes_no_addendum(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    session = spravato_session(referral, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = client.post(
        f"/treatment/sessions/{session.id}/addenda",
        data={"text": "Early note", "csrf_token": csrf_token(client, "/")},
        follow_redirects=True,
    )
    assert "Only a signed session takes addenda" in response.get_data(as_text=True)


def test_coordinator_sees_but_cannot_sign(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    session = spravato_session(referral, world.clinician)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.coordinator)
    page = client.get(f"/treatment/sessions/{session.id}").get_data(as_text=True)
    assert "A clinician signs the session." in page
    response = client.post(
        f"/treatment/sessions/{session.id}/sign",
        data={"version": str(referral.version), "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/treatment/sessions/{s}",
        "/treatment/sessions/{s}/rems-form.pdf",
        "/treatment/referrals/{r}/course",
        "/treatment/referrals/{r}/sessions/new",
        "/treatment/referrals/{r}/scales/PHQ-9",
        "/treatment/rems",
    ],
)
def test_referrer_gets_404_on_session_documentation(app, world, path):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    session = spravato_session(referral, world.clinician)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.referrer)
    response = client.get(path.format(s=session.id, r=referral.id))
    assert response.status_code == 404
    assert "LOT-77" not in response.get_data(as_text=True)


def test_unsigned_session_is_corrected_then_signed_and_then_locked(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    session = spravato_session(referral, world.clinician, monitoring_minutes=100)
    db.session.commit()
    client = clinician_client(app, world)
    path = f"/treatment/sessions/{session.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="100"' in page  # the stored values fill the form
    assert 'value="LOT-77"' in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    form = spravato_form(monitoring_minutes="125", lot_number="LOT-78")
    response = client.post(
        path,
        data={"version": version, "csrf_token": csrf_token(client, path), **form},
        follow_redirects=True,
    )
    assert "The session is updated." in response.get_data(as_text=True)
    assert (only_session().monitoring_minutes, only_session().lot_number) == (125, "LOT-78")
    assert "The session is signed." in sign(client, session.id).get_data(as_text=True)
    locked = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "A signed session cannot be edited; add an addendum instead." in locked
