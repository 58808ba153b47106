"""Throttling and lockout: generic messages, 10 failures lock with growing delays, release by
time or by an administrator, and 429 from the rate limiter."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import time_machine
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.lockout import lock_duration
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import login
from tests.factories import TOTP_SECRET
from tests.security_helpers import password_step, post, reauth

GENERIC = "That email and password do not match an active account."


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _fail(client, email: str, times: int) -> None:
    for _ in range(times):
        response = password_step(client, email, password="wrong password entirely")
        assert GENERIC in response.get_data(as_text=True)


def test_ten_failures_lock_the_account_and_the_message_stays_the_same(app, world):
    client = app.test_client()
    _fail(client, world.referrer.email, 9)
    assert _user(world.referrer.id).locked_until is None
    _fail(client, world.referrer.email, 1)
    user = _user(world.referrer.id)
    assert user.failed_logins == 10
    assert user.locked_until is not None
    # The right password is refused now, with the very same words as for an unknown email.
    locked = password_step(client, world.referrer.email).get_data(as_text=True)
    unknown = password_step(client, "nobody@example.test").get_data(as_text=True)
    assert GENERIC in locked
    assert GENERIC in unknown
    assert "locked" not in locked.split("<main")[1].lower().replace("sign-in is paused", "")
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id))
    assert "auth.lockout" in list(events)


def test_lock_releases_after_its_delay_and_delays_grow(app, world):
    assert [lock_duration(n, 10) for n in (10, 11, 12)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert lock_duration(30, 10) == timedelta(hours=24)
    client = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        _fail(client, world.referrer.email, 10)
        traveller.shift(timedelta(minutes=4))
        assert password_step(client, world.referrer.email).status_code == 200  # still locked
        traveller.shift(timedelta(minutes=1, seconds=1))
        _fail(client, world.referrer.email, 1)  # the 11th failure: locked for 10 minutes
        traveller.shift(timedelta(minutes=9))
        assert password_step(client, world.referrer.email).status_code == 200
        traveller.shift(timedelta(minutes=1, seconds=1))
        response = password_step(client, world.referrer.email)
        assert response.status_code == 302  # released: signed in
    assert _user(world.referrer.id).failed_logins == 0


def test_wrong_codes_count_toward_the_lockout(app, world):
    client = app.test_client()
    for _ in range(10):
        password_step(client, world.clinician.email)
        post(client, "/two-step/code", {"code": "123456"})
    assert _user(world.clinician.id).locked_until is not None
    response = password_step(client, world.clinician.email)
    assert response.status_code == 200  # no second step offered to a locked account
    assert GENERIC in response.get_data(as_text=True)


def test_admin_unlocks_after_confirming_it_is_them(app, world):
    client = app.test_client()
    _fail(client, world.referrer.email, 10)
    admin = app.test_client()
    login(admin, world.admin)
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "locked" in page
    url = f"/admin/accounts/{world.referrer.id}/unlock"
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        response = admin.get(url)
        assert response.location == f"/account/confirm?next={url}"
        code = pyotp.TOTP(TOTP_SECRET).now()
        assert reauth(admin, response.location, code="000000").status_code == 422
        assert reauth(admin, response.location, code=code).location == url
        assert "Failed sign-ins are forgotten" in admin.get(url).get_data(as_text=True)
        assert post(admin, url, {}).location == "/admin/accounts"
        assert "is unlocked" in admin.get("/admin/accounts").get_data(as_text=True)
    assert password_step(app.test_client(), world.referrer.email).status_code == 302
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == world.admin.id)
    ).all()
    assert {"auth.reauth", "account.unlock"} <= set(actions)


def test_sign_in_is_rate_limited_per_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "10 per minute")
    client = app.test_client()
    for _ in range(10):
        assert password_step(client, "nobody@example.test").status_code == 200
    response = password_step(client, "nobody@example.test")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts from your address" in page
    assert "Retry-After" in response.headers
    # Another address is not affected.
    other = client.post("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 400  # reached the view: refused only for the missing token


def test_two_step_code_is_rate_limited(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "5 per minute")
    client = app.test_client()
    password_step(client, world.clinician.email)
    statuses = [post(client, "/two-step/code", {"code": "000000"}).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
