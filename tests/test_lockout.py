"""Throttling: generic messages; 10 failures block one address for one account with growing
delays, 30 from anywhere put the account under attack (a soft lock the second step passes);
release by time or by an administrator; 429 from the rate limiter."""

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
from tests.conftest import login, page_text
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


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER_ELSEWHERE = {"REMOTE_ADDR": "198.51.100.7"}


def _client(app, environ: dict | None = None):
    client = app.test_client()
    if environ:
        client.environ_base.update(environ)
    return client


def test_ten_failures_block_that_address_for_that_account_only(app, world):
    attacker = _client(app, ATTACKER)
    _fail(attacker, world.referrer.email, 9)
    _fail(attacker, world.referrer.email, 1)
    other_account = password_step(_client(app, ATTACKER), world.other_referrer.email)
    assert other_account.status_code == 302  # other accounts from that address: unaffected
    user = _user(world.referrer.id)
    assert user.failed_logins == 10
    assert user.locked_until is None  # one address alone does not put the account under attack
    # From that address, even the right password is refused now, in the very same words as an
    # unknown email.
    blocked = password_step(attacker, world.referrer.email).get_data(as_text=True)
    unknown = password_step(attacker, "nobody@example.test").get_data(as_text=True)
    assert GENERIC in blocked
    assert GENERIC in unknown
    assert "locked" not in blocked.split("<main")[1].lower().replace("sign-in is paused", "")
    # The owner, elsewhere, signs in as ever, and is told.
    owner = _client(app, OWNER_ELSEWHERE)
    response = password_step(owner, world.referrer.email)
    assert response.status_code == 302
    page = owner.get(response.location, follow_redirects=True).get_data(as_text=True)
    assert "10 attempts to sign in to your account failed from 1 other address" in page
    # ...while the attacker's address stays blocked.
    assert GENERIC in password_step(attacker, world.referrer.email).get_data(as_text=True)
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id))
    assert "auth.lockout" in list(events)


def test_staff_cannot_be_locked_out_by_failures_from_many_addresses(app, world):
    """Thirty failures from three addresses put the account under attack: a soft lock that
    the right password plus the second step still passes."""
    for n in range(3):
        _fail(_client(app, {"REMOTE_ADDR": f"203.0.113.{n + 1}"}), world.clinician.email, 10)
    user = _user(world.clinician.id)
    assert user.locked_until is not None
    assert GENERIC in password_step(
        _client(app, {"REMOTE_ADDR": "203.0.113.1"}), world.clinician.email
    ).get_data(as_text=True)
    owner = _client(app, OWNER_ELSEWHERE)
    response = login(owner, world.clinician)
    assert response.status_code == 302
    page = owner.get(response.location, follow_redirects=True).get_data(as_text=True)
    assert "30 attempts to sign in to your account failed from 3 other addresses" in page
    assert _user(world.clinician.id).locked_until is None


def test_under_attack_a_password_alone_passes_only_from_a_known_address(app, world):
    home = _client(app, OWNER_ELSEWHERE)
    assert password_step(home, world.referrer.email).status_code == 302  # known from now on
    for n in range(3):
        _fail(_client(app, {"REMOTE_ADDR": f"203.0.113.{n + 1}"}), world.referrer.email, 10)
    assert _user(world.referrer.id).locked_until is not None
    # A new address with the right password: refused (no second step to prove it is them).
    cafe = _client(app, {"REMOTE_ADDR": "192.0.2.44"})
    assert GENERIC in password_step(cafe, world.referrer.email).get_data(as_text=True)
    # The address the owner signed in from before: let in.
    assert password_step(_client(app, OWNER_ELSEWHERE), world.referrer.email).status_code == 302


def test_admin_sees_accounts_under_attack(app, world):
    for n in range(3):
        _fail(_client(app, {"REMOTE_ADDR": f"203.0.113.{n + 1}"}), world.coordinator.email, 10)
    _fail(_client(app, ATTACKER), world.referrer.email, 2)
    admin = app.test_client()
    login(admin, world.admin)
    page = page_text(admin.get("/admin/accounts/sign-in-attempts").get_data(as_text=True))
    assert f"{world.coordinator.display_name} {world.coordinator.email}" in page
    assert "under attack 30" in page
    assert "203.0.113.2 : 10 blocked until" in page
    assert "throttled 2 203.0.113.66 : 2" in page
    assert "under attack" in page_text(admin.get("/admin/accounts").get_data(as_text=True))


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
        assert password_step(client, world.referrer.email).status_code == 200  # still blocked
        traveller.shift(timedelta(minutes=1, seconds=1))
        _fail(client, world.referrer.email, 1)  # the 11th failure: blocked for 10 minutes
        traveller.shift(timedelta(minutes=9))
        assert password_step(client, world.referrer.email).status_code == 200
        traveller.shift(timedelta(minutes=1, seconds=1))
        response = password_step(client, world.referrer.email)
        assert response.status_code == 302  # released: signed in
    assert _user(world.referrer.id).failed_logins == 0


def test_wrong_codes_count_toward_the_block(app, world):
    client = app.test_client()
    for _ in range(5):  # a password and a wrong code: two attempts each time
        password_step(client, world.clinician.email)
        post(client, "/two-step/code", {"code": "123456"})
    response = password_step(client, world.clinician.email)
    assert response.status_code == 200  # no second step offered to a blocked address
    assert GENERIC in response.get_data(as_text=True)


def test_admin_unlocks_after_confirming_it_is_them(app, world):
    client = app.test_client()
    _fail(client, world.referrer.email, 10)
    admin = _client(app, OWNER_ELSEWHERE)
    login(admin, world.admin)
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "10 failed sign-ins" in page
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
