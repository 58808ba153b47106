"""Sign-in, sign-out, CSRF, safe redirects and password storage."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD


def test_sign_in_and_out(client, world):
    response = login(client, world.referrer)
    assert response.status_code == 302
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "My referrals" in page
    assert "Maya Chen" in page
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/referrals/")})
    assert response.status_code == 302
    assert client.get("/referrals/").status_code == 302  # back to the sign-in page


def test_wrong_password_says_nothing_about_the_account(client, world, db):
    bad = login(client, world.referrer, password="not the password at all")
    unknown = client.post(
        "/login",
        data={
            "email": "nobody@example.test",
            "password": "x" * 12,
            "csrf_token": csrf_token(client),
        },
    )
    for response in (bad, unknown):
        assert response.status_code == 200
        assert "do not match an active account" in response.get_data(as_text=True)
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "failed")).all()
    assert len(failed) == 2


def test_disabled_account_cannot_sign_in(client, world, db):
    db.session.get(User, world.referrer.id).is_enabled = False
    db.session.commit()
    assert "do not match" in login(client, world.referrer).get_data(as_text=True)


def test_password_is_stored_as_argon2id(world):
    assert world.referrer.password_hash.startswith("$argon2id$")
    assert PASSWORD not in world.referrer.password_hash


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_to_another_site_is_refused(client, world, target):
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": world.referrer.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.location == "/"


def test_next_to_a_local_path_is_followed(client, world):
    token = csrf_token(client)
    response = client.post(
        "/login?next=/referrals/new",
        data={"email": world.referrer.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.location == "/referrals/new"


def test_post_without_csrf_is_refused(client, world):
    login(client, world.referrer)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "nothing was saved" in response.get_data(as_text=True)
    assert client.get("/referrals/").status_code == 200  # still signed in


def test_security_headers(client, world):
    login(client, world.referrer)
    response = client.get("/referrals/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
