"""Provider accounts: the profile and its NPI check, invitations, and requests an admin
approves before anyone can sign in."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import AccountRequest, Invitation
from portal.accounts.npi import is_valid_npi
from portal.auth.models import User
from portal.extensions import db
from tests.conftest import csrf_token, force_login, login
from tests.factories import PASSWORD

LINK_RE = re.compile(r'value="(http[^"]+/invite/[^"]+)"')


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),
        ("1245319599", True),
        ("1234567890", False),  # wrong check digit
        ("123456789", False),
        ("12345678931", False),
        ("12345678a3", False),
        ("１２３４５６７８９３", False),  # full-width digits are not digits here
    ],
)
def test_npi_check_digit(npi, valid):
    assert is_valid_npi(npi) is valid


def _client(app, user=None):
    client = app.test_client()
    if user is not None:
        force_login(client, user)
    return client


def test_profile_refuses_a_wrong_npi_and_keeps_the_rest(app, world):
    client = _client(app, world.referrer)
    token = csrf_token(client, "/profile")
    data = {
        "csrf_token": token,
        "full_name": "Maya Chen",
        "credentials": "MD",
        "npi": "1234567890",
        "fax": "207-555-0199",
        "address_line1": "12 <b>Harbor</b> Rd",
    }
    response = client.post("/profile", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "check digit is wrong" in page
    # The field says it is invalid and points at its hint and its error, for screen readers.
    npi_input = re.search(r'<input[^>]*id="npi"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in npi_input
    assert 'aria-describedby="npi-hint npi-error"' in npi_input
    assert '<div id="npi-error"><p class="error">' in page
    assert 'value="207-555-0199"' in page
    assert "12 &lt;b&gt;Harbor&lt;/b&gt; Rd" in page
    response = client.post("/profile", data={**data, "npi": "1234567893"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (world.referrer.npi, world.referrer.fax) == ("1234567893", "207-555-0199")


def _invite(app, staff, email="new.provider@example.org"):
    client = _client(app, staff)
    token = csrf_token(client, "/invitations")
    response = client.post(
        "/invitations",
        data={"csrf_token": token, "email": email, "full_name": "Nia Provider",
              "practice_id": str(staff_practice_id())},
    )  # fmt: skip
    match = LINK_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1).split("/invite/")[1]


def staff_practice_id() -> int:
    from portal.clinics.models import Practice

    return db.session.scalar(select(Practice.id).order_by(Practice.id))


def _accept(app, token, **changes):
    client = _client(app)
    path = f"/invite/{token}"
    form = {
        "csrf_token": csrf_token(client, "/login"),
        "full_name": "Nia Provider",
        "credentials": "PMHNP",
        "npi": "1245319599",
        "password": "a long enough passphrase",
        "confirm": "a long enough passphrase",
    }
    return client, client.post(path, data={**form, **changes})


def test_invitation_creates_a_referrer_once(app, world):
    token = _invite(app, world.coordinator)
    stored = db.session.scalar(select(Invitation))
    assert token not in stored.token_hash  # only the hash is kept
    _, response = _accept(app, token, npi="1245319590")
    assert response.status_code == 422
    assert "check digit is wrong" in response.get_data(as_text=True)
    _, response = _accept(app, token)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.provider@example.org"))
    assert user.role == "referrer"
    assert user.npi == "1245319599"
    client = _client(app)
    assert login(client, user, "a long enough passphrase").status_code == 302
    _, again = _accept(app, token)
    assert again.status_code == 404
    assert "not valid or has already been used" in again.get_data(as_text=True)


def test_an_invitation_link_works_for_7_days_and_not_a_minute_more(app, world):
    with time_machine.travel("2026-03-01 12:00 +0000", tick=False):
        early = _invite(app, world.admin, "early@example.org")
        late = _invite(app, world.admin, "late@example.org")
    with time_machine.travel("2026-03-08 11:59 +0000", tick=False):  # 7 days less a minute
        page = _client(app).get(f"/invite/{early}")
        assert page.status_code == 200
        assert 'name="password"' in page.get_data(as_text=True)
        _, response = _accept(app, early)
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "early@example.org")) is not None
    with time_machine.travel("2026-03-08 12:01 +0000", tick=False):  # 7 days and a minute
        page = _client(app).get(f"/invite/{late}")
        _, response = _accept(app, late)
    for refused in (page, response):
        assert refused.status_code == 404
        assert "This invitation link has expired. Ask the clinic for a new one." in (
            refused.get_data(as_text=True)
        )
        assert 'name="password"' not in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "late@example.org")) is None


def test_invitation_expires_after_7_days_and_can_be_revoked(app, world):
    with time_machine.travel("2026-03-01 12:00 +0000", tick=False):
        token = _invite(app, world.admin)
    with time_machine.travel("2026-03-08 12:01 +0000", tick=False):
        _, response = _accept(app, token)
    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)
    token = _invite(app, world.coordinator, "second@example.org")
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.email == "second@example.org")
    )
    client = _client(app, world.coordinator)
    csrf = csrf_token(client, "/invitations")
    outsider = _client(app, world.other_staff)
    assert (
        outsider.post(
            f"/invitations/{invitation.id}/revoke", data={"csrf_token": csrf_token(outsider, "/")}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/invitations/{invitation.id}/revoke", data={"csrf_token": csrf}).status_code
        == 302
    )
    _, response = _accept(app, token)
    assert response.status_code == 404


def test_inviting_an_existing_account_says_so(app, world):
    client = _client(app, world.coordinator)
    token = csrf_token(client, "/invitations")
    response = client.post(
        "/invitations",
        data={
            "csrf_token": token,
            "email": world.referrer.email,
            "practice_id": str(staff_practice_id()),
        },
    )
    assert response.status_code == 422
    assert "already has an account" in response.get_data(as_text=True)


def _request(app, email="asking@example.org", npi="1234567893"):
    client = _client(app)
    data = {
        "csrf_token": csrf_token(client, "/request-account"),
        "full_name": "Petra Asking",
        "email": email,
        "credentials": "LCSW",
        "npi": npi,
        "practice_name": "Harbor Counseling",
        "password": "another long passphrase",
        "confirm": "another long passphrase",
    }
    return client.post("/request-account", data=data)


def test_account_request_waits_for_an_admin(app, world):
    response = _request(app, npi="1234567899")
    assert response.status_code == 422
    assert "check digit is wrong" in response.get_data(as_text=True)
    assert "Request received" in _request(app).get_data(as_text=True)
    # The same answer for an address that already has an account: nothing revealed.
    assert "Request received" in _request(app, email=world.referrer.email).get_data(as_text=True)
    assert db.session.scalar(select(AccountRequest.email)) == "asking@example.org"
    nobody = _client(app)
    token = csrf_token(nobody, "/login")
    denied = nobody.post(
        "/login",
        data={
            "csrf_token": token,
            "email": "asking@example.org",
            "password": "another long passphrase",
        },
    )
    assert denied.status_code == 200  # no account until approved
    request = db.session.scalar(select(AccountRequest))
    coordinator = _client(app, world.coordinator)
    url = f"/account-requests/{request.id}/approve"
    assert (
        coordinator.post(
            url, data={"csrf_token": csrf_token(coordinator, "/"), "practice_id": "0"}
        ).status_code
        == 404
    )
    admin = _client(app, world.admin)
    page = admin.get("/invitations").get_data(as_text=True)
    assert "Petra Asking" in page
    admin.post(url, data={"csrf_token": csrf_token(admin, "/"), "practice_id": "0"})
    user = db.session.scalar(select(User).where(User.email == "asking@example.org"))
    assert user.practice.name == "Harbor Counseling"
    assert login(_client(app), user, "another long passphrase").status_code == 302


def test_refused_request_creates_no_account(app, world):
    _request(app)
    request = db.session.scalar(select(AccountRequest))
    admin = _client(app, world.admin)
    admin.post(
        f"/account-requests/{request.id}/refuse",
        data={"csrf_token": csrf_token(admin, "/"), "practice_id": "0"},
    )
    db.session.expire_all()
    assert request.status == "refused"
    assert db.session.scalar(select(User).where(User.email == "asking@example.org")) is None
    assert PASSWORD  # the factories' password is not the requester's


def test_account_requests_are_rate_limited_per_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "3 per minute")
    statuses = [_request(app, email=f"r{i}@example.org").status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]
