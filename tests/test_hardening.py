"""Gaps closed after the security review: the password rules on every path that sets one,
re-authentication before deciding account requests, the letter-signing password counted
toward the lockout, an error id on every error page, the remaining parameters fed SQL
metacharacters, far-off dates refused instead of overflowing, and the verification page's
rate limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import AccountRequest
from portal.auth.models import User
from portal.clock import clinic_today
from portal.db import utcnow
from portal.extensions import db
from portal.letters.models import Letter
from portal.referrals.models import Referral
from tests.conftest import csrf_token, post_form, signed_in
from tests.factories import (
    PASSWORD,
    accepted_referral,
    document_sessions,
    draft_letter,
    fresh_totp_code,
    pending_account_request,
    stored_letter,
)
from tests.security_helpers import reauth
from tests.test_injection import PAYLOADS, assert_harmless

ERROR_ID = re.compile(r"error id <strong>([0-9a-f]{12})</strong>")


def _request_account(app, password: str, name: str = "Petra Asking"):
    client = signed_in(app)
    return post_form(
        client,
        "/request-account",
        {
            "full_name": name,
            "email": "petra.asking@example.org",
            "credentials": "LCSW",
            "npi": "1234567893",
            "practice_name": "Harbor Counseling",
            "note": "Referrals for two patients this month.",
            "password": password,
            "confirm": password,
        },
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "commonly used passwords"),
        ("petra.asking@example.org", "your email address or your name"),
        ("Petra Asking 2026!", "your email address or your name"),
        ("short one", "at least 12 characters"),
    ],
)
def test_requesting_an_account_applies_the_password_rules(app, world, password, message):
    response = _request_account(app, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    # Nothing typed is lost but the password, and no request is stored.
    assert 'value="Harbor Counseling"' in page
    assert "Referrals for two patients this month." in page
    assert db.session.scalar(select(func.count(AccountRequest.id))) == 0


def test_a_good_password_still_makes_a_request(app, world):
    response = _request_account(app, "tidal lantern orchard velvet")
    assert response.status_code == 200
    assert "Request received" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AccountRequest.id))) == 1


def test_an_invited_provider_cannot_choose_their_own_email_as_password(app, world):
    from tests.test_accounts import _invite

    token = _invite(app, world.coordinator, "dana.invited@example.org")
    visitor = signed_in(app)
    response = post_form(
        visitor,
        f"/invite/{token}",
        {
            "full_name": "Dana Invited",
            "npi": "1245319599",
            "password": "dana.invited@example.org",
            "confirm": "dana.invited@example.org",
        },
        token_from="/login",
    )
    assert response.status_code == 422
    assert "your email address or your name" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "dana.invited@example.org")) is None


def test_deciding_an_account_request_needs_a_recent_confirmation(app, world):
    request = pending_account_request()
    db.session.commit()
    admin = signed_in(app, world.admin)
    url = f"/account-requests/{request.id}/approve"
    token = csrf_token(admin, "/invitations")
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = admin.post(url, data={"csrf_token": token, "practice_id": "0"})
        assert response.status_code == 302
        assert response.location == "/account/confirm?next=/invitations"
        db.session.expire_all()
        assert db.session.get(AccountRequest, request.id).status == "pending"
        assert db.session.scalar(select(User).where(User.email == request.email)) is None
        # Confirmed: the same post now creates the account.
        confirmed = reauth(admin, response.location, code=fresh_totp_code(world.admin))
        assert confirmed.location == "/invitations"
        fresh = admin.post(url, data={"csrf_token": token, "practice_id": "0"})
    assert fresh.location.startswith("/invitations")
    db.session.expire_all()
    assert db.session.get(AccountRequest, request.id).status == "approved"


def test_wrong_passwords_at_letter_signing_count_toward_the_lockout(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    letter = draft_letter(referral, world.clinician)
    db.session.commit()
    client = signed_in(app, world.clinician)
    edit, sign = f"/letters/{letter.id}/edit", f"/letters/{letter.id}/sign"
    threshold = app.config["LOCKOUT_THRESHOLD"]
    for _ in range(threshold):
        response = post_form(client, sign, {"password": "not the password"}, token_from=edit)
        assert response.location == edit
    db.session.expire_all()
    clinician = db.session.get(User, world.clinician.id)
    assert clinician.failed_logins == threshold
    assert clinician.locked_until is not None
    # Locked: even the right password does not sign, and the page says why.
    locked = post_form(client, sign, {"password": PASSWORD}, token_from=edit)
    assert "Your account is locked" in client.get(locked.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).status == "draft"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/referrals/999999", 404), ("/verify/", 200), ("/login", 200)],
)
def test_every_error_page_carries_an_error_id(app, world, path, status):
    client = signed_in(app, world.referrer)
    page = client.get(path).get_data(as_text=True)
    if status == 404:
        assert ERROR_ID.search(page), page
    csrf = client.post("/account/password", data={}).get_data(as_text=True)
    assert ERROR_ID.search(csrf)
    assert "Traceback" not in csrf


def test_the_verification_page_is_rate_limited(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "3 per minute")
    letter = stored_letter(
        accepted_referral(world.referrer, world.coordinator, world.clinician), world.clinician
    )
    db.session.commit()
    client = signed_in(app)
    responses = [client.get(f"/verify/{letter.verify_code}") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1].get_data(as_text=True)
    assert "Too many attempts from your address" in refused
    assert ERROR_ID.search(refused)
    assert letter.verify_code not in refused


# Parameters the first injection test did not reach: (path template, parameter, who).
MORE_PARAMETERS = [
    ("/referrals/", "show", "referrer"),
    ("/letters/unopened", "days", "clinician"),
    ("/triage/", "per_page", "coordinator"),
    ("/triage/", "sort", "coordinator"),
    ("/scheduling/day", "date", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "start", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "weeks", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "per_week", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "protocol_id", "coordinator"),
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(("path", "param", "who"), MORE_PARAMETERS)
def test_sql_metacharacters_in_the_other_parameters(app, world, path, param, who, payload):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = signed_in(app, getattr(world, who))
    query = {param: payload}
    if "{id}" in path and param != "protocol_id":
        query["protocol_id"] = "1"
    response = client.get(path.format(id=referral.id), query_string=query)
    assert_harmless(response, payload, (200, 302, 422))


@pytest.mark.parametrize("far", ["9999-12-31", "0001-01-01", "2200-06-01"])
def test_far_off_days_are_refused_not_crashed(app, world, far):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = signed_in(app, world.coordinator)
    day = client.get("/scheduling/day", query_string={"date": far})
    assert day.status_code == 200
    page = day.get_data(as_text=True)
    assert "within 5 years of today" in page
    assert f"{clinic_today():%d %B %Y}".lstrip("0") in page or clinic_today().isoformat() in page
    proposal = client.get(
        f"/scheduling/referrals/{referral.id}/propose",
        query_string={"protocol_id": 1, "start": far},
    )
    assert proposal.status_code in (200, 422)
    assert "within 5 years of today" in proposal.get_data(as_text=True)
    url = f"/scheduling/referrals/{referral.id}"
    added = post_form(
        client, f"{url}/add", {"day": far, "version": referral.version}, token_from=url
    )
    assert "within 5 years of today" in client.get(added.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "accepted"
