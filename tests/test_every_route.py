# ruff: noqa: F811 - test functions take the imported `objects` fixture as an argument
"""Properties every route must have, built from app.url_map through the access MATRIX:
security headers on every page, an audit event for every page that shows patient data,
CSRF refused when missing or from another session, and error pages that give nothing away."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.conftest import csrf_token, force_login

# The matrix's own objects fixture, so routes others add with new placeholders work here too.
from tests.test_access_matrix import MATRIX, objects, shared_setup, world  # noqa: F401

# The patient of the matrix's objects (tests.factories.referral_data defaults).
FIRST, LAST, DOB = "Alexis", "Testpatient", "1980-05-17"
CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
ROUTES = sorted(MATRIX)
GET_ROUTES = [r for r in ROUTES if r[1] == "GET"]
# The FHIR API takes no cookie (bearer tokens only: a signed-in session gets 401, see the
# access matrix's API_STATUS), so a forged cross-site form has nothing to ride on: no CSRF token.
POST_ROUTES = [r for r in ROUTES if r[1] == "POST" and not r[0].startswith("fhir.")]


def _who(allowed: set[str]) -> str:
    for name in ("clinician", "admin", "coordinator", "referrer", "colleague", "other_referrer"):
        if name in allowed:
            return name
    return "anonymous"


def _url(app, endpoint, objects) -> str:
    args, _ = MATRIX[endpoint]
    with app.test_request_context():
        return url_for(endpoint[0], **{k: objects.get(v, v) for k, v in args.items()})


def _client(app, world, name):
    client = app.test_client()
    if name != "anonymous":
        force_login(client, getattr(world, name))
    return client


@pytest.mark.parametrize("route", GET_ROUTES)
def test_every_page_has_the_security_headers(app, world, objects, route):
    name = _who(MATRIX[route][1])
    client = _client(app, world, name)
    response = client.get(_url(app, route, objects))
    response.close()
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    if route[0] == "attachments.view":
        # A file opened in place: nothing may load or run from it (its viewer's own styles).
        policy = headers["Content-Security-Policy"]
        assert policy.startswith("default-src 'none';")
        assert "script" not in policy
        assert headers["Cache-Control"] == "no-store"
    elif route[0] != "static":
        assert headers["Content-Security-Policy"].startswith(CSP)
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store"  # signed-in pages never cached
    assert "Strict-Transport-Security" not in headers  # only in production (test_config)


@pytest.mark.parametrize("route", GET_ROUTES)
def test_a_page_that_shows_patient_data_writes_an_audit_event(app, world, objects, route):
    """Fails for any route (present or future) that returns PHI without auditing the read."""
    allowed = MATRIX[route][1]
    for name in sorted(allowed - {"anonymous"}):
        client = _client(app, world, name)
        user_id = getattr(world, name).id
        before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        response = client.get(_url(app, route, objects))
        body = response.get_data()
        response.close()
        shows_phi = any(v.encode() in body for v in (FIRST, LAST, DOB)) or (
            response.mimetype == "application/pdf"
        )
        if not shows_phi:
            continue
        db.session.expire_all()
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.id > before, AuditEvent.actor_id == user_id, AuditEvent.outcome == "ok"
            )
        ).all()
        assert events, f"{route} showed patient data to {name} without an audit event"


@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("token", ["missing", "other session"])
def test_post_without_a_valid_csrf_token_is_refused(app, world, objects, route, token):
    name = _who(MATRIX[route][1])
    client = _client(app, world, name)
    data = {}
    if token == "other session":
        other = _client(app, world, "referrer")
        data["csrf_token"] = csrf_token(other, "/account/security")
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post(_url(app, route, objects), data=data)
    assert response.status_code == 400, route
    assert "nothing was saved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before


def test_error_pages_show_an_id_and_no_internals(app, world, objects, monkeypatch, caplog):
    client = _client(app, world, "clinician")
    missing = client.get("/referrals/999999")
    assert missing.status_code == 404
    assert "There is nothing here" in missing.get_data(as_text=True)
    assert "give them the error id" in missing.get_data(as_text=True)
    wrong_method = client.delete("/referrals/")
    assert wrong_method.status_code == 405
    assert "could not be completed" in wrong_method.get_data(as_text=True)
    assert "give them the error id" in wrong_method.get_data(as_text=True)

    def explode(**kwargs):
        raise RuntimeError(f"SELECT * FROM patient WHERE last_name = '{LAST}' /srv/portal/x.py")  # noqa: S608

    monkeypatch.setitem(app.view_functions, "referrals.detail", explode)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get(f"/referrals/{objects['R']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "give them the error id" in page
    for secret in ("Traceback", "SELECT", "/srv/portal", LAST, "RuntimeError", ".py"):
        assert secret not in page
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("route", "name"),
    [
        (("referrals.detail", "GET"), "referrer"),
        (("referrals.patient", "GET"), "coordinator"),
        (("triage.screening", "GET"), "coordinator"),
        (("letters.edit", "GET"), "clinician"),
    ],
)
def test_the_phi_detector_sees_patient_data(app, world, objects, route, name):
    """Guards the test above against passing vacuously."""
    body = _client(app, world, name).get(_url(app, route, objects)).get_data(as_text=True)
    assert FIRST in body
