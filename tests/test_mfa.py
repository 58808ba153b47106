"""Two-step sign-in: enrolment, TOTP reuse and drift, recovery codes, who must use it."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import RecoveryCode, User
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import csrf_token, force_login, login
from tests.factories import PASSWORD, TOTP_SECRET, fresh_totp_code
from tests.security_helpers import enrol, password_step, post, reauth


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_staff_sign_in_asks_for_a_code(client, world):
    response = password_step(client, world.coordinator.email)
    assert response.location == "/two-step/code"
    assert client.get("/triage/").status_code == 302  # not signed in yet
    page = client.get("/two-step/code").get_data(as_text=True)
    assert "Enter your code" in page
    response = post(client, "/two-step/code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.location == "/"
    assert "Referral queue" in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_a_code_is_accepted_only_once(app, world):
    code = pyotp.TOTP(TOTP_SECRET).now()
    with time_machine.travel(utcnow(), tick=False):
        first = app.test_client()
        password_step(first, world.clinician.email)
        assert post(first, "/two-step/code", {"code": code}).location == "/"
        second = app.test_client()  # someone who saw the code over the shoulder
        password_step(second, world.clinician.email)
        replay = post(second, "/two-step/code", {"code": code})
    assert replay.status_code == 422
    assert "not valid, or was already used" in replay.get_data(as_text=True)
    assert second.get("/treatment/").status_code == 302


def test_one_step_of_clock_drift_is_accepted_two_are_not(app, world):
    totp = pyotp.TOTP(TOTP_SECRET)
    now = utcnow()
    with time_machine.travel(now, tick=False):
        for offset, accepted in ((-60, False), (60, False), (-30, True), (30, True)):
            client = app.test_client()
            password_step(client, world.clinician.email)
            code = totp.at(now + timedelta(seconds=offset))
            response = post(client, "/two-step/code", {"code": code})
            assert (response.status_code == 302) is accepted, offset


def test_recovery_codes_are_single_use_and_stored_hashed(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    _secret, codes = enrol(client)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == world.referrer.id)
    ).all()
    assert len(stored) == 10
    assert not any(c.replace("-", "") in h for c in codes for h in stored)

    first = app.test_client()
    password_step(first, world.referrer.email)
    response = post(first, "/two-step/code", {"code": codes[0].upper()})
    assert response.location == "/"
    assert "9 left" in first.get("/", follow_redirects=True).get_data(as_text=True)
    again = app.test_client()
    password_step(again, world.referrer.email)
    assert post(again, "/two-step/code", {"code": codes[0]}).status_code == 422


def test_referrer_enrols_voluntarily_from_account_security(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Off." in page
    assert "Set up two-step sign-in" in page
    setup = client.get("/two-step/setup").get_data(as_text=True)
    assert 'src="/two-step/setup/qr.svg"' in setup
    qr = client.get("/two-step/setup/qr.svg")
    assert qr.mimetype == "image/svg+xml"
    assert qr.data.lstrip().startswith(b"<svg")
    assert qr.headers["Cache-Control"] == "no-store"
    wrong = post(client, "/two-step/setup", {"code": "000000"})
    assert wrong.status_code == 422
    assert "does not match" in wrong.get_data(as_text=True)
    secret, _codes = enrol(client)
    user = _user(world.referrer.id)
    assert user.has_mfa
    assert secret.encode() not in user.totp_secret_enc  # encrypted at rest
    assert "On" in client.get("/account/security").get_data(as_text=True)
    # From now on the referrer's sign-in asks for a code.
    other = app.test_client()
    assert password_step(other, world.referrer.email).location == "/two-step/code"


def test_staff_without_authenticator_must_enrol_at_first_sign_in(app, world):
    db.session.get(User, world.coordinator.id).totp_secret_enc = None
    db.session.commit()
    client = app.test_client()
    assert password_step(client, world.coordinator.email).location == "/two-step/setup"
    page = client.get("/two-step/setup").get_data(as_text=True)
    assert "Your account protects patient records" in page
    assert client.get("/triage/").status_code == 302
    _secret, codes = enrol(client)
    assert len(codes) == 10
    assert client.get("/triage/").status_code == 200
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == world.coordinator.id)
    ).all()
    assert "account.mfa_enrol" in actions


def test_admin_setting_requires_two_step_for_referrers(app, world):
    admin = app.test_client()
    login(admin, world.admin)
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert 'it is\n    <span class="status-warn">optional</span>' in page
    assert post(admin, "/admin/accounts/referrer-mfa", {}).location == "/admin/accounts"
    assert 'status-ok">required' in admin.get("/admin/accounts").get_data(as_text=True)
    client = app.test_client()
    assert password_step(client, world.referrer.email).location == "/two-step/setup"


def test_replacing_the_authenticator_needs_a_fresh_password_check(app, world):
    client = app.test_client()
    login(client, world.clinician)
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = client.get("/two-step/setup")
        assert response.location.startswith("/account/confirm?next=/two-step/setup")
        code = pyotp.TOTP(TOTP_SECRET).now()
        assert reauth(client, response.location, code=code).location == "/two-step/setup"
        assert "Set up two-step sign-in" in client.get("/two-step/setup").get_data(as_text=True)


def test_half_finished_sign_in_expires(app, world):
    client = app.test_client()
    password_step(client, world.clinician.email)
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        code = pyotp.TOTP(TOTP_SECRET).now()
        response = post(client, "/two-step/code", {"code": code}, token_from="/login")
    assert response.location == "/login"
    assert client.get("/treatment/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_to_another_site_is_refused_through_the_second_step(app, world, target):
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": world.coordinator.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.location == "/two-step/code"
    response = post(client, "/two-step/code", {"code": fresh_totp_code(world.coordinator)})
    assert response.location == "/"


def test_next_to_a_local_path_survives_the_second_step(app, world):
    client = app.test_client()
    client.post(
        "/login?next=/treatment/",
        data={
            "email": world.clinician.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    response = post(client, "/two-step/code", {"code": fresh_totp_code(world.clinician)})
    assert response.location == "/treatment/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_next_to_another_site_is_refused_after_confirming(app, world, target):
    client = app.test_client()
    force_login(client, world.referrer)
    path = f"/account/confirm?next={target}"
    assert reauth(client, path).location == "/"
