"""The safety prompts at their edges (DOMAIN.md numbers), through the pages: pre-dose blood
pressure above 140/90, the IV dose range 0.1-0.75 mg/kg, SPRAVATO monitoring of 120 minutes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.treatment.models import TreatmentSession
from tests.conftest import csrf_token
from tests.factories import accepted_referral, spravato_referral
from tests.session_helpers import (
    clinician_client,
    facts,
    field_errors,
    iv_form,
    only_session,
    post_session,
    sign,
    spravato_form,
)

BP_REASON = "Repeat reading lower after rest; benefit outweighs the risk."


def _audit_actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action)).all()


@pytest.mark.parametrize(
    ("systolic", "diastolic", "warns"),
    [("140", "90", False), ("141", "90", True), ("138", "92", True)],
)
def test_pre_dose_bp_above_140_90_warns_and_needs_a_reason(app, world, systolic, diastolic, warns):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    bp = {"bp_pre_systolic": systolic, "bp_pre_diastolic": diastolic}
    warning = f"Blood pressure before dosing was {systolic}/{diastolic} mmHg, above 140/90."

    # The form, shown again for another reason, already warns (or does not).
    form_page = post_session(client, referral.id, iv_form(infusion_minutes="", **bp))
    assert form_page.status_code == 422
    assert (warning in form_page.get_data(as_text=True)) is warns

    saved = post_session(client, referral.id, iv_form(**bp))
    assert saved.status_code == 302
    session_id = only_session().id
    page = client.get(saved.location).get_data(as_text=True)
    assert (warning in page) is warns
    assert ("Why the session went ahead" in page) is warns
    assert facts(page)["Blood pressure"].startswith(f"before {systolic}/{diastolic} ")

    if warns:  # signing needs the written reason
        refused = sign(client, session_id).get_data(as_text=True)
        assert "The session was not signed." in refused
        assert warning in refused
        assert only_session().signed_at is None
    signed = sign(client, session_id, bp_reason=BP_REASON if warns else "")
    assert "The session is signed." in signed.get_data(as_text=True)
    session = only_session()
    assert session.signed_at is not None
    assert (session.bp_pre_systolic, session.bp_pre_diastolic) == (int(systolic), int(diastolic))
    assert session.bp_acknowledgement == (BP_REASON if warns else "")
    assert ("session.bp_acknowledged" in _audit_actions()) is warns
    shown = facts(signed.get_data(as_text=True))
    assert (shown.get("Above 140/90") == f"Went ahead because: {BP_REASON}") is warns


@pytest.mark.parametrize(
    ("mg_per_kg", "dose_mg", "shown"),
    [("0.1", Decimal("8.0"), "8 mg (0.1 mg/kg)"), ("0.75", Decimal("60.0"), "60 mg (0.75 mg/kg)")],
)
def test_iv_dose_at_the_range_edges_saves_without_confirmation(
    app, world, mg_per_kg, dose_mg, shown
):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    response = post_session(client, referral.id, iv_form(dose_mg_per_kg=mg_per_kg))
    assert response.status_code == 302
    session = only_session()
    assert (session.dose_mg, session.dose_mg_per_kg) == (dose_mg, Decimal(mg_per_kg))
    assert session.dose_outside_range_confirmed is False
    page = client.get(response.location).get_data(as_text=True)
    assert facts(page)["Dose"] == shown
    assert "outside the published range" not in page
    assert "session.dose_confirmed" not in _audit_actions()


@pytest.mark.parametrize(
    ("mg_per_kg", "dose_mg", "shown"),
    [
        ("0.099", Decimal("7.9"), "7.9 mg (0.099 mg/kg)"),
        ("0.751", Decimal("60.1"), "60.1 mg (0.751 mg/kg)"),
    ],
)
def test_iv_dose_just_outside_the_range_is_saved_only_once_confirmed(
    app, world, mg_per_kg, dose_mg, shown
):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    asked = post_session(client, referral.id, iv_form(dose_mg_per_kg=mg_per_kg, notes="Typed."))
    assert asked.status_code == 422
    page = asked.get_data(as_text=True)
    prompt = f"{mg_per_kg} mg/kg is outside the published range of 0.1-0.75 mg/kg."
    assert prompt in page
    assert "I confirm this dose outside 0.1-0.75 mg/kg is intended" in page
    assert f'value="{mg_per_kg}"' in page  # nothing typed is lost
    assert "Typed." in page
    assert db.session.scalars(select(TreatmentSession)).first() is None

    confirmed = post_session(
        client, referral.id, iv_form(dose_mg_per_kg=mg_per_kg, dose_confirmed="y")
    )
    assert confirmed.status_code == 302
    session = only_session()
    assert (session.dose_mg, session.dose_mg_per_kg) == (dose_mg, Decimal(mg_per_kg))
    assert session.dose_outside_range_confirmed is True
    assert facts(client.get(confirmed.location).get_data(as_text=True))["Dose"] == (
        f"{shown} · outside 0.1-0.75 mg/kg, confirmed by the clinician"
    )
    assert "session.dose_confirmed" in _audit_actions()


def test_iv_dose_confirmation_error_sits_at_the_confirmation_box(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    page = post_session(
        clinician_client(app, world), referral.id, iv_form(dose_mg_per_kg="0.099")
    ).get_data(as_text=True)
    box = page.split('role="alert"><div class="field has-error">')[1].split("</div>")[0]
    assert 'name="dose_confirmed"' in box
    assert "0.099 mg/kg is outside the published range" in box
    assert field_errors(page, "dose_mg_per_kg") == ""  # the dose itself is allowed


@pytest.mark.parametrize(("minutes", "signable"), [(119, False), (120, True)])
def test_spravato_monitoring_of_120_minutes_is_needed_to_sign(app, world, minutes, signable):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    saved = post_session(client, referral.id, spravato_form(monitoring_minutes=str(minutes)))
    assert saved.status_code == 302
    assert only_session().monitoring_minutes == minutes
    page = client.get(saved.location).get_data(as_text=True)
    short = f"Total monitoring time is {minutes} minutes."
    assert (short in page) is not signable
    assert ("This session cannot be signed yet." in page) is not signable
    assert ("Sign session</button>" in page) is signable
    session_id = only_session().id
    db.session.refresh(referral)
    response = client.post(
        f"/treatment/sessions/{session_id}/sign",
        data={"version": str(referral.version), "csrf_token": csrf_token(client, "/")},
        follow_redirects=True,
    ).get_data(as_text=True)
    if signable:
        assert "The session is signed." in response
        assert only_session().signed_by_id == world.clinician.id
    else:
        assert "The session was not signed." in response
        assert short in response
        assert only_session().signed_at is None
