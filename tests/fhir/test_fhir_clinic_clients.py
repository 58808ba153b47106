"""Clinic-wide clients: a system registered for the clinic (not one practice) sees every sent
referral of that clinic, whichever practice sent it, and only that clinic's (another clinic's
ids answer 404); it reads and follows, but sending, answering and cancelling stay the referring
practice's own system's; its calls are audited as the client. Registered on the admin's page
or with `fhir-client create --clinic`."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.fhir.models import FhirClient, FhirHookDelivery
from portal.referrals.service import change_state
from portal.referrals.states import State
from tests.conftest import force_login, page_text, post_form
from tests.factories import create_referral
from tests.fhir.helpers import ALL_SCOPES, Ehr, assert_valid, bearer, referral_bundle, token
from tests.fhir.receiver import run_queue


def _clinic_ehr(world, scopes: str | None = None) -> Ehr:
    system = Ehr()
    system.register(clinic_id=world.clinic.id, scopes=scopes)
    return system


def _referrals(world):
    """One of the referrer's practice, one of another practice, one sent to another clinic."""
    ours = create_referral(world.referrer)
    theirs = create_referral(world.other_referrer)
    elsewhere = create_referral(world.other_referrer)
    elsewhere.clinic_id = world.other_clinic.id
    db.session.commit()
    return ours, theirs, elsewhere


def test_a_clinic_wide_client_sees_every_referral_of_its_clinic_and_no_other(client, world):
    ours, theirs, elsewhere = _referrals(world)
    access = token(client, _clinic_ehr(world))

    tasks = client.get("/fhir/r4/Task?_count=50", headers=bearer(access)).get_json()
    assert_valid(tasks)
    assert sorted(int(e["resource"]["id"]) for e in tasks["entry"]) == sorted([ours.id, theirs.id])
    for referral in (ours, theirs):
        response = client.get(f"/fhir/r4/ServiceRequest/{referral.id}", headers=bearer(access))
        assert response.status_code == 200
        assert_valid(response.get_json())
    for kind in ("Task", "ServiceRequest", "Patient"):
        response = client.get(f"/fhir/r4/{kind}/{elsewhere.id}", headers=bearer(access))
        assert response.status_code == 404
        assert response.get_json()["resourceType"] == "OperationOutcome"

    # The referring providers and practices of its clinic's referrals, nobody else's.
    practitioner = client.get(f"/fhir/r4/Practitioner/{world.other_referrer.id}",
                              headers=bearer(access))  # fmt: skip
    assert practitioner.status_code == 200
    assert client.get(f"/fhir/r4/Practitioner/{world.colleague.id}",
                      headers=bearer(access)).status_code == 404  # fmt: skip
    organization = f"/fhir/r4/Organization/practice-{world.other_practice.id}"
    assert client.get(organization, headers=bearer(access)).status_code == 200

    # A practice's client still sees only its practice's referral.
    practice_ehr = Ehr()
    practice_ehr.register(world.practice.id)
    mine = client.get("/fhir/r4/Task", headers=bearer(token(client, practice_ehr))).get_json()
    assert [int(e["resource"]["id"]) for e in mine["entry"]] == [ours.id]
    response = client.get(f"/fhir/r4/Task/{theirs.id}", headers=bearer(token(client, practice_ehr)))
    assert response.status_code == 404


def test_its_calls_are_audited_as_the_client(client, world):
    _ours, theirs, elsewhere = _referrals(world)
    ehr = _clinic_ehr(world)
    access = token(client, ehr)
    client.get(f"/fhir/r4/ServiceRequest/{theirs.id}", headers=bearer(access))
    client.get(f"/fhir/r4/ServiceRequest/{elsewhere.id}", headers=bearer(access))
    views = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "referral.view").order_by(AuditEvent.id)
    ).all()
    assert [(e.object_id, e.outcome) for e in views] == [(theirs.id, "ok"),
                                                         (elsewhere.id, "denied")]  # fmt: skip
    for event in views:
        assert (event.actor_id, event.actor_role) == (None, "api-client")
        assert event.detail.startswith(f"client {ehr.client_id}")
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fhir_client.create"))
    assert created.detail == f"{ehr.client_id} for clinic {world.clinic.id}"


def test_it_reads_and_follows_but_never_acts_for_a_referrer(client, world):
    world.referrer.npi = "1234567893"
    ours, _theirs, _elsewhere = _referrals(world)
    access = token(client, _clinic_ehr(world))
    headers = {**bearer(access), "Content-Type": "application/fhir+json"}
    sent = client.post("/fhir/r4", json=referral_bundle(), headers=headers)
    assert sent.status_code == 403
    assert "clinic-wide client reads and follows referrals" in json.dumps(sent.get_json())
    cancel = {"resourceType": "Task", "id": str(ours.id), "status": "cancelled",
              "intent": "order", "statusReason": {"text": "Patient moved."}}  # fmt: skip
    response = client.put(f"/fhir/r4/Task/{ours.id}", json=cancel,
                          headers={**headers, "If-Match": f'W/"{ours.version}"'})  # fmt: skip
    assert response.status_code == 403
    db.session.refresh(ours)
    assert ours.state == State.SUBMITTED
    denied = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "fhir.scope", AuditEvent.outcome == "denied")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.detail.split(": ")[-1] for e in denied] == ["sending a referral",
                                                         "cancelling a referral"]  # fmt: skip


def test_its_subscription_is_told_of_every_practices_referrals(client, world, receiver, jobs):
    ours, theirs, elsewhere = _referrals(world)
    ehr = _clinic_ehr(world, f"{ALL_SCOPES} system/Subscription.crds")
    access = token(client, ehr, f"{ALL_SCOPES} system/Subscription.crds")
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Our clinic",
        "criteria": "Task",
        "channel": {"type": "rest-hook", "endpoint": receiver.url},
    }
    response = client.post("/fhir/r4/Subscription", json=body, headers=bearer(access))
    assert response.status_code == 201, response.get_data(as_text=True)
    for referral in (ours, theirs, elsewhere):
        change_state(referral, State.IN_REVIEW, actor=world.coordinator,
                     expected_version=referral.version)  # fmt: skip
    db.session.commit()
    run_queue(jobs)
    told = db.session.scalars(select(FhirHookDelivery.referral_id)).all()
    assert sorted(told) == sorted([ours.id, theirs.id])
    assert len(receiver.posts) == 2


def test_the_admin_registers_a_clinic_wide_system(app, world):
    admin = app.test_client()
    force_login(admin, world.admin)
    ehr = Ehr()
    form = {
        "name": "Clinic EHR",
        "practice_id": "0",
        "clinic_id": str(world.clinic.id),
        "scopes": "system/Task.rs system/ServiceRequest.r",
        "jwks": json.dumps(ehr.jwks),
    }
    both = post_form(admin, "/admin/fhir-clients/", {**form, "practice_id": str(world.practice.id)})
    assert both.status_code == 422
    assert "Choose the practice or the clinic the system acts for (one of them)." in page_text(
        both.get_data(as_text=True)
    )
    response = post_form(admin, "/admin/fhir-clients/", form, follow_redirects=True)
    text = page_text(response.get_data(as_text=True))
    row = db.session.scalar(select(FhirClient))
    assert f"Registered Clinic EHR. Its client id: {row.client_id}" in text
    assert f"{world.clinic.name} (clinic-wide)" in text
    assert (row.clinic_id, row.practice_id) == (world.clinic.id, None)


def test_the_command_registers_a_clinic_wide_system(app, world, tmp_path):
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(Ehr().jwks))
    runner = app.test_cli_runner()
    args = ["fhir-client", "create", "--name", "Clinic EHR", "--jwks", str(keys)]
    result = runner.invoke(args=[*args, "--clinic", str(world.clinic.id)])
    assert result.exit_code == 0, result.output
    assert f"Registered Clinic EHR for clinic {world.clinic.id}" in result.output
    row = db.session.scalar(
        select(FhirClient).where(FhirClient.client_id == result.output.strip().splitlines()[-1])
    )
    assert (row.clinic_id, row.practice_id) == (world.clinic.id, None)
    both = runner.invoke(args=[*args, "--clinic", "1", "--practice", str(world.practice.id)])
    neither = runner.invoke(args=args)
    for refused in (both, neither):
        assert refused.exit_code != 0
        assert "Give --practice PRACTICE_ID or --clinic CLINIC_ID (one of them)." in refused.output
    unknown = runner.invoke(args=[*args, "--clinic", "999999"])
    assert "Choose a clinic." in unknown.output


def test_another_clinics_client_is_told_nothing_of_a_referral_without_a_practice(client, world):
    scopes = f"{ALL_SCOPES} system/Subscription.crds"
    elsewhere = Ehr()
    elsewhere.register(clinic_id=world.other_clinic.id, scopes=scopes)
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Their clinic",
        "criteria": "Task",
        "channel": {"type": "rest-hook", "endpoint": "https://ehr.example/hook"},
    }
    access = token(client, elsewhere, scopes)
    assert (
        client.post("/fhir/r4/Subscription", json=body, headers=bearer(access)).status_code == 201
    )
    referral = create_referral(world.referrer)
    referral.practice_id = None
    db.session.commit()
    change_state(referral, State.IN_REVIEW, actor=world.coordinator,
                 expected_version=referral.version)  # fmt: skip
    db.session.commit()
    assert db.session.scalars(select(FhirHookDelivery)).all() == []


def test_the_referrals_of_a_client_and_the_clients_of_a_referral_are_one_rule(client, world):
    """acts_for (what a client reads) and clients_of (whose subscriptions a change notifies)
    are the same rule read from each side, for practice and clinic-wide clients alike."""
    from portal.fhir.access import acts_for, clients_of
    from portal.referrals.models import Referral

    for practice_id, clinic_id in (
        (world.practice.id, None),
        (world.other_practice.id, None),
        (None, world.clinic.id),
        (None, world.other_clinic.id),
    ):
        Ehr().register(practice_id, clinic_id=clinic_id)
    ours, theirs, elsewhere = _referrals(world)
    orphan = create_referral(world.referrer)
    orphan.practice_id = None
    db.session.commit()
    clients = db.session.scalars(select(FhirClient)).all()
    referrals = [ours, theirs, elsewhere, orphan]
    pairs = {
        (c.id, r.id)
        for c in clients
        for r in db.session.scalars(select(Referral).where(acts_for(c)))
        if r in referrals
    }
    assert pairs == {
        (c.id, r.id)
        for r in referrals
        for c in db.session.scalars(select(FhirClient).where(clients_of(r)))
    }
    by_holder = {(c.practice_id, c.clinic_id): c.id for c in clients}
    assert {r for c, r in pairs if c == by_holder[(None, world.clinic.id)]} == {
        ours.id,
        theirs.id,
        orphan.id,
    }
    assert {r for c, r in pairs if c == by_holder[(world.practice.id, None)]} == {ours.id}
    assert {r for c, r in pairs if c == by_holder[(None, world.other_clinic.id)]} == {elsewhere.id}
