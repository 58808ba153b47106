"""Server-side sessions: fresh id at sign-in, revocation, idle and absolute timeouts."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from portal.auth.models import UserSession
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import csrf_token, force_login, login
from tests.factories import PASSWORD
from tests.security_helpers import post
from tests.statement_count import statements


def _rows(user_id: int) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(
        select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
    ).all()


def test_sign_in_starts_a_new_session_record(client, world):
    csrf_token(client, "/login")
    with client.session_transaction() as before:
        planted = dict(before)
    login(client, world.clinician)
    with client.session_transaction() as after:
        assert after["sid"]
        assert after.get("csrf_token") != planted.get("csrf_token")
    (row,) = _rows(world.clinician.id)
    assert row.mfa_verified
    assert row.revoked_at is None
    assert after["sid"] not in row.token_hash  # only the hash is stored


def test_a_cookie_replayed_after_sign_out_is_refused(app, world):
    client = app.test_client()
    login(client, world.referrer)
    stolen = client.get_cookie("session").value
    assert client.get("/referrals/").status_code == 200
    post(client, "/logout", {}, token_from="/referrals/")
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    response = attacker.get("/referrals/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    (row,) = _rows(world.referrer.id)
    assert row.revoked_reason == "sign-out"


def test_idle_session_is_signed_out_after_15_minutes(app, world):
    client = app.test_client()
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        force_login(client, world.referrer)
        page = client.get("/referrals/").get_data(as_text=True)
        assert 'data-session-seconds="900"' in page
        assert 'data-session-warning="60"' in page
        assert "/static/js/session-timer.js" in page
        assert 'id="session-warning"' in page
        traveller.shift(timedelta(minutes=14))
        assert client.get("/referrals/").status_code == 200  # activity restarts the clock
        traveller.shift(timedelta(minutes=14))
        # Asking how long is left does not count as activity.
        assert client.get("/account/session").json == {"seconds_left": 60}
        traveller.shift(timedelta(minutes=1, seconds=1))
        response = client.get("/referrals/")
        assert response.status_code == 302
        assert response.location == "/login?next=/referrals/"
        page = client.get(response.location).get_data(as_text=True)
    assert "signed out after a period without activity" in page
    assert _rows(world.referrer.id)[0].revoked_reason == "idle"


def test_a_signed_in_page_checks_its_session_in_one_statement_and_writes_activity_once_a_minute(
    app, world
):
    client = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        force_login(client, world.referrer)
        assert client.get("/referrals/").status_code == 200
        seen = _rows(world.referrer.id)[0].last_seen_at
        traveller.shift(timedelta(seconds=59))
        with statements() as sent:
            assert client.get("/referrals/").status_code == 200
        touching = [s for s in sent if "user_session" in s]
        assert len(touching) == 1, touching  # the session, its user and clinic: one SELECT
        assert touching[0].startswith("SELECT")
        assert _rows(world.referrer.id)[0].last_seen_at == seen
        traveller.shift(timedelta(seconds=2))
        with statements() as sent:
            assert client.get("/referrals/").status_code == 200
        assert sum(s.startswith("UPDATE user_session") for s in sent) == 1
        assert _rows(world.referrer.id)[0].last_seen_at == utcnow()


def test_stay_signed_in_button_extends_the_session(app, world):
    client = app.test_client()
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        force_login(client, world.referrer)
        token = csrf_token(client, "/referrals/")
        traveller.shift(timedelta(minutes=14, seconds=10))
        response = client.post("/account/session", headers={"X-CSRFToken": token})
        assert response.json == {"seconds_left": 900}
        traveller.shift(timedelta(minutes=10))
        assert client.get("/referrals/").status_code == 200


def test_idle_timeout_is_configurable(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    client = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        force_login(client, world.referrer)
        assert 'data-session-seconds="300"' in client.get("/referrals/").get_data(as_text=True)
        traveller.shift(timedelta(minutes=5, seconds=1))
        assert client.get("/referrals/").status_code == 302


def test_absolute_timeout_after_12_hours_whatever_the_activity(app, world):
    client = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        force_login(client, world.coordinator)
        for _ in range(12 * 6):  # a request every 10 minutes for 12 hours
            traveller.shift(timedelta(minutes=10))
            assert client.get("/triage/").status_code == 200
        traveller.shift(timedelta(minutes=1))
        response = client.get("/triage/")
        assert response.status_code == 302
        assert "reached its time limit" in client.get("/login").get_data(as_text=True)
    assert _rows(world.coordinator.id)[0].revoked_reason == "absolute"


def test_password_change_signs_out_the_other_sessions(app, world):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, world.referrer)
    login(phone, world.referrer)
    new = "violet harbour lantern 1987"
    response = post(laptop, "/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.location == "/account/security"
    page = laptop.get("/account/security").get_data(as_text=True)
    assert "Your password is changed. 1 other session(s) were signed out." in page
    assert phone.get("/referrals/").status_code == 302
    assert laptop.get("/referrals/").status_code == 200
    rows = _rows(world.referrer.id)
    assert [r.revoked_reason for r in rows] == ["password change", "password change", ""]
    assert login(app.test_client(), world.referrer, password=new).status_code == 302


def test_deactivated_account_loses_its_open_sessions(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    admin = app.test_client()
    login(admin, world.admin)
    url = f"/admin/accounts/{world.referrer.id}/deactivate"
    assert "Deactivate" in admin.get(url).get_data(as_text=True)
    assert post(admin, url, {}).location == "/admin/accounts"
    assert client.get("/referrals/").status_code == 302
