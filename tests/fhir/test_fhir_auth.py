"""SMART Backend Services: signed assertions checked by PyJWT, tokens of 5 minutes, each jti
once, the scopes granted the intersection of asked and registered, refusals as the specs say."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import time_machine
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.extensions import db
from portal.fhir.models import FhirAccessToken, FhirAssertionId, FhirClient
from tests.fhir.helpers import ALL_SCOPES, Ehr, assert_valid, bearer, token


def ask(client, form):
    return client.post("/fhir/r4/auth/token", data=form)


def test_the_token_grants_what_was_asked_and_is_registered(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id, scopes="system/Task.rs system/ServiceRequest.cru")
    response = ask(
        client,
        ehr.token_form(
            "system/Task.read system/Patient.read system/ServiceRequest.* launch/patient"
        ),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "system/ServiceRequest.cru system/Task.rs"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_es384_key_works_too(client, world):
    ehr = Ehr("EC")
    ehr.register(world.practice.id)
    assert ask(client, ehr.token_form("system/Task.rs")).status_code == 200


def refused(response, error="invalid_client"):
    assert response.status_code == (401 if error == "invalid_client" else 400)
    assert response.get_json()["error"] == error
    return response.get_json()["error_description"]


def test_an_expired_assertion_is_refused(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    assert "expired" in refused(ask(client, ehr.token_form("system/Task.rs", lifetime=-60)))


def test_an_assertion_living_too_long_is_refused(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    assert "5 minutes" in refused(ask(client, ehr.token_form("system/Task.rs", lifetime=3600)))


def test_a_wrong_key_is_refused(client, world):
    ehr, stranger = Ehr(), Ehr()
    ehr.register(world.practice.id)
    form = ehr.token_form("system/Task.rs", key=stranger.private_key)
    assert "signature" in refused(ask(client, form))


def test_a_replayed_jti_is_refused(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    assert ask(client, ehr.token_form("system/Task.rs", jti="once-only")).status_code == 200
    assert "already used" in refused(ask(client, ehr.token_form("system/Task.rs", jti="once-only")))


def test_a_replaced_key_set_is_read_afresh(client, world):
    """The parsed keys are kept between requests, but never outlive the registered key set."""
    ehr, successor = Ehr(), Ehr()
    ehr.register(world.practice.id)
    assert ask(client, ehr.token_form("system/Task.rs")).status_code == 200
    row = db.session.scalar(select(FhirClient).where(FhirClient.client_id == ehr.client_id))
    row.jwks = successor.jwks
    db.session.commit()
    successor.client_id = ehr.client_id
    assert "kid" in refused(ask(client, ehr.token_form("system/Task.rs")))
    assert ask(client, successor.token_form("system/Task.rs")).status_code == 200


def test_expired_assertion_ids_and_tokens_are_purged(client, world, monkeypatch):
    from portal.fhir import auth

    ehr = Ehr()
    ehr.register(world.practice.id)
    assert ask(client, ehr.token_form("system/Task.rs", jti="old-one")).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        monkeypatch.setattr(auth, "_last_purge", {"token": 0.0, "jti": 0.0})
        assert ask(client, ehr.token_form("system/Task.rs", jti="new-one")).status_code == 200
    assert db.session.scalars(select(FhirAssertionId.jti)).all() == ["new-one"]
    assert db.session.scalar(select(func.count(FhirAccessToken.id))) == 1


def test_the_wrong_audience_an_unknown_client_and_hs256_are_refused(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    assert "aud" in refused(ask(client, ehr.token_form("system/Task.rs", aud="https://x.test/t")))
    ghost = Ehr()
    ghost.client_id = "nobody"
    refused(ask(client, ghost.token_form("system/Task.rs")))
    now = int(time.time())
    claims = {"iss": ehr.client_id, "sub": ehr.client_id, "aud": "x", "exp": now + 60, "jti": "j"}
    forged = jwt.encode(
        claims, "a-shared-secret-guessed-by-an-attacker-0123456789", algorithm="HS256"
    )
    form = {**ehr.token_form("system/Task.rs"), "client_assertion": forged}
    assert "RS384 or ES384" in refused(ask(client, form))


def test_no_registered_scope_asked_is_invalid_scope(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id, scopes="system/Task.rs")
    refused(ask(client, ehr.token_form("system/Binary.r")), "invalid_scope")


def test_calls_need_a_live_token(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    response = client.get("/fhir/r4/Task")
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert_valid(response.get_json())
    assert client.get("/fhir/r4/Task", headers=bearer("made-up")).status_code == 401
    access = token(client, ehr)
    assert client.get("/fhir/r4/Task", headers=bearer(access)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=5, seconds=1)):
        assert client.get("/fhir/r4/Task", headers=bearer(access)).status_code == 401


def test_a_missing_scope_is_403(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id, scopes="system/Task.rs")
    access = token(client, ehr, "system/Task.rs")
    response = client.get("/fhir/r4/Binary/1", headers=bearer(access))
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]
    assert response.get_json()["issue"][0]["code"] == "forbidden"
    response = client.post("/fhir/r4", json={}, headers=bearer(access))
    assert response.status_code == 403


def test_a_deactivated_client_stops_at_once(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    access = token(client, ehr, ALL_SCOPES)
    row = db.session.scalar(select(FhirClient).where(FhirClient.client_id == ehr.client_id))
    row.is_active = False
    db.session.commit()
    assert client.get("/fhir/r4/Task", headers=bearer(access)).status_code == 401
    refused(ask(client, ehr.token_form("system/Task.rs")))


def test_refused_token_requests_are_audited_with_the_client(client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    ask(client, ehr.token_form("system/Task.rs", lifetime=-60))
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.token")).all()
    assert [(e.outcome, e.actor_role, e.detail) for e in denied] == [
        ("denied", "api-client", f"client {ehr.client_id}: invalid_client")
    ]


def test_calls_are_rate_limited(app, client, world):
    ehr = Ehr()
    ehr.register(world.practice.id)
    access = token(client, ehr)
    app.config["FHIR_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [
            client.get("/fhir/r4/Task", headers=bearer(access)).status_code for _ in range(4)
        ]
        assert statuses[-1] == 429
        last = client.get("/fhir/r4/Task", headers=bearer(access))
        assert last.get_json()["issue"][0]["code"] == "throttled"
    finally:
        app.config.pop("FHIR_RATE_LIMIT")
