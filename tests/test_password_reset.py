"""Password reset by email, through the pages and a real SMTP server: the same answer and
timing whatever the address, a single-use link that expires in 30 minutes and dies when the
password changes, the password rules, two-step sign-in after a reset, audit, rate limits."""

from __future__ import annotations

import re
import time

import time_machine
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import PasswordReset
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import csrf_token, login, page_text
from tests.factories import PASSWORD, fresh_totp_code
from tests.notification_helpers import deliver_all

NEW_PASSWORD = "lantern orchard pebble 42"


def _ask(client, email: str):
    token = csrf_token(client, "/password-reset")
    return client.post("/password-reset", data={"email": email, "csrf_token": token})


def _link(mailbox, user) -> str:
    deliver_all()
    (message,) = mailbox.to(user.email)
    assert message.subject == "Reset your password for the referral portal"
    return re.search(r"http://127\.0\.0\.1:5000(/password-reset/\S+)", message.body).group(1)


def _set(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    token = csrf_token(client, path)
    return client.post(
        path,
        data={"new": password, "confirm": confirm or password, "csrf_token": token},
    )


def test_the_answer_is_the_same_whatever_the_address(app, world, client, mailbox):
    timings, pages = [], []
    for email in (world.referrer.email, "nobody@example.test"):
        started = time.monotonic()
        response = _ask(client, email)
        timings.append(time.monotonic() - started)
        assert response.status_code == 200
        pages.append(page_text(response.get_data(as_text=True)))
    assert pages[0] == pages[1]
    assert "If an account uses that address, an email with a link" in pages[0]
    assert abs(timings[0] - timings[1]) < 0.15
    assert min(timings) >= 0.4
    deliver_all()
    assert [m.to for m in mailbox.received] == [world.referrer.email]  # only a real account
    assert db.session.scalar(select(PasswordReset.token_hash)) not in mailbox.received[0].body


def test_reset_end_to_end_then_two_step_sign_in_is_still_asked(app, world, client, mailbox):
    _ask(client, world.clinician.email)  # clinic staff use two-step sign-in
    path = _link(mailbox, world.clinician)
    assert "Choose a new password" in client.get(path).get_data(as_text=True)
    weak = _set(client, path, "short")
    assert weak.status_code == 422
    assert "at least 12 characters" in weak.get_data(as_text=True).lower()
    done = _set(client, path)
    assert done.status_code == 302
    assert done.location.endswith("/login")
    response = login(client, world.clinician, PASSWORD)  # the old password no longer works
    assert response.status_code == 200
    token = csrf_token(client, "/login")
    signed = client.post(
        "/login",
        data={"email": world.clinician.email, "password": NEW_PASSWORD, "csrf_token": token},
    )
    assert signed.location.endswith("/two-step/code")  # the second step is still asked
    token = csrf_token(client, "/two-step/code")
    code = fresh_totp_code(world.clinician)
    assert (
        client.post("/two-step/code", data={"code": code, "csrf_token": token}).status_code == 302
    )
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {
        "auth.password_reset_request",
        "auth.password_reset_open",
        "auth.password_reset",
    } <= actions


def test_a_used_expired_tampered_or_superseded_link_is_refused_clearly(app, world, client, mailbox):
    _ask(client, world.referrer.email)
    path = _link(mailbox, world.referrer)
    tampered = client.get(path[:-3] + "abc")
    assert tampered.status_code == 400
    assert "not valid" in tampered.get_data(as_text=True)
    with time_machine.travel(utcnow().timestamp() + 31 * 60, tick=False):
        expired = client.get(path)
    assert expired.status_code == 400
    assert "expired: links work for 30 minutes" in expired.get_data(as_text=True)
    assert _set(client, path).status_code == 302
    used = client.get(path)
    assert used.status_code == 400
    assert "used already" in used.get_data(as_text=True)
    # A second link asked before the password changed dies with the change.
    mailbox.clear()
    _ask(client, world.referrer.email)
    second = _link(mailbox, world.referrer)
    mailbox.clear()
    _ask(client, world.referrer.email)
    third = _link(mailbox, world.referrer)
    assert _set(client, third, "another long passphrase 7").status_code == 302
    superseded = client.get(second)
    assert superseded.status_code == 400
    assert "the password was changed since" in superseded.get_data(as_text=True)
    denied = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "auth.password_reset_open", AuditEvent.outcome == "denied"
        )
    ).all()
    assert len(denied) == 4


def test_requests_are_limited_per_address(app, world, mailbox):
    app.config["RESET_RATE_LIMIT"] = "3 per 15 minutes"
    try:
        answers = []
        for n in range(4):
            client = app.test_client()  # another client each time: only the address is shared
            client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
            answers.append(_ask(client, world.referrer.email).status_code)
        assert answers == [200, 200, 200, 429]
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert _ask(other, world.colleague.email).status_code == 200
    finally:
        app.config["RESET_RATE_LIMIT"] = "5 per 15 minutes"
    deliver_all()
    assert len(mailbox.to(world.referrer.email)) == 3
