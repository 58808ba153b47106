"""Provider accounts: the password rules wherever a provider chooses a password (an account
request, an invitation), and the fresh confirmation an admin gives before deciding a request."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.accounts.models import AccountRequest
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import csrf_token, post_form, signed_in
from tests.factories import PASSWORD, fresh_totp_code, pending_account_request


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


def test_a_good_password_makes_a_request(app, world):
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
        assert response.status_code == 200
        assert "Confirm it is you" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(AccountRequest, request.id).status == "pending"
        assert db.session.scalar(select(User).where(User.email == request.email)) is None
        # Confirmed: the kept post is sent again and creates the account.
        confirmed = admin.post(
            "/account/confirm?next=/invitations",
            data={
                "csrf_token": token,
                "password": PASSWORD,
                "code": fresh_totp_code(world.admin),
                "resend_to": url,
                "resend_action": "Approve",
                "carry-practice_id": "0",
            },
        )
        page = confirmed.get_data(as_text=True)
        assert f'action="{url}" data-autosubmit' in page
        assert '<input type="hidden" name="practice_id" value="0">' in page
        fresh = admin.post(url, data={"csrf_token": token, "practice_id": "0"})
    assert fresh.location.startswith("/invitations")
    db.session.expire_all()
    assert db.session.get(AccountRequest, request.id).status == "approved"
