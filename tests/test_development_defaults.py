"""Development defaults are safe if deployed by mistake (issue 15, item 5): the half-finished
sign-in lives on the server (a forged cookie skips nothing), and a development portal answers
only this computer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.auth.models import PendingSignIn
from portal.auth.signin import PENDING_KEY
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import page_text
from tests.factories import PASSWORD, fresh_totp_code
from tests.security_helpers import password_step, post
from tests.test_config import _development


@pytest.mark.parametrize(
    "forged",
    [
        lambda user_id: {"uid": user_id, "at": utcnow().isoformat(), "next": ""},  # the old form
        lambda user_id: "a-token-made-up-by-the-attacker",
    ],
    ids=["old dict", "made-up token"],
)
def test_a_forged_half_sign_in_cookie_does_not_skip_the_password(app, world, forged):
    """Whoever knows the cookie-signing key can write any cookie: it must not be enough to
    reach the second step (or to set one up) for somebody else's account."""
    client = app.test_client()
    with client.session_transaction() as session:
        session[PENDING_KEY] = forged(world.referrer.id)
    for path in ("/two-step/setup", "/two-step/code"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.startswith("/login")
    assert client.get("/").location.startswith("/login")


def test_the_half_sign_in_is_kept_on_the_server_and_used_once(app, world):
    client = app.test_client()
    response = password_step(client, world.clinician.email)
    assert response.location.endswith("/two-step/code")
    with client.session_transaction() as session:
        token = session[PENDING_KEY]
    assert isinstance(token, str)
    assert len(token) >= 40  # a random token, nothing about the user
    assert client.get("/two-step/code").status_code == 200
    # Another browser half-way at the same time keeps its own.
    other = app.test_client()
    password_step(other, world.clinician.email)
    assert other.get("/two-step/code").status_code == 200
    # Used once: after the second step, the token is gone.
    code = fresh_totp_code(world.clinician)
    assert post(client, "/two-step/code", {"code": code}).location == "/"
    replay = app.test_client()
    with replay.session_transaction() as session:
        session[PENDING_KEY] = token
    assert replay.get("/two-step/code").location.startswith("/login")
    assert db.session.scalar(select(func.count(PendingSignIn.id))) == 1  # the other browser's


def _dev_app(monkeypatch, tmp_path):
    app = create_app(_development(monkeypatch, tmp_path))
    return app


@pytest.mark.parametrize(
    ("base_url", "remote", "served"),
    [
        ("http://127.0.0.1:5000", "127.0.0.1", True),
        ("http://localhost:5000", "127.0.0.1", True),
        ("http://[::1]:5000", "::1", True),
        ("http://portal.example.org", "203.0.113.9", False),
        ("http://localhost:5000", "203.0.113.9", False),  # a spoofed Host from elsewhere
        ("http://192.168.1.20:5000", "127.0.0.1", False),  # served on all interfaces
    ],
)
def test_development_answers_this_computer_only(monkeypatch, tmp_path, base_url, remote, served):
    app = _dev_app(monkeypatch, tmp_path)
    client = app.test_client()
    response = client.get(
        "/static/css/portal.css", base_url=base_url, environ_base={"REMOTE_ADDR": remote}
    )
    response.close()
    if served:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        text = page_text(response.get_data(as_text=True))
        assert "PORTAL_ENV=production with SECRET_KEY, DATABASE_URL and PORTAL_DATA_KEYS" in text


def test_testing_and_production_are_not_held_to_localhost(app):
    assert app.test_client().get("/login", base_url="http://portal.example.org").status_code == 200
    assert PASSWORD  # the suite's own app (testing) serves any host name
