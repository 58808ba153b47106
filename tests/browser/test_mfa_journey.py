"""A referrer, a coordinator and an admin each set up two-step sign-in and then sign in with
it, in a real browser; plus the idle warning and the admin's accounts and audit pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.auth.models import User
from portal.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, fresh_totp_code


def _without_authenticator(*users: User) -> None:
    for user in users:
        db.session.get(User, user.id).totp_secret_enc = None
    db.session.commit()


def _enrol_on_page(page, user: User, shot, name: str) -> str:
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    qr = page.get_by_role("img", name="QR code to add the portal to an authenticator app")
    expect(qr).to_be_visible()
    # Visible comes before loaded: wait for the image itself, then check it is a real QR code.
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 100
    secret = page.locator("[data-secret]").inner_text().replace(" ", "")
    shot(f"mfa-{name}-1-setup")
    page.get_by_label("Code from the app").fill(fresh_totp_code(user, secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    assert page.locator("[data-recovery-codes] li").count() == 10
    shot(f"mfa-{name}-2-recovery-codes")
    page.get_by_role("link", name="I have saved them, continue").click()
    return secret


def _sign_out_and_in_with_code(page, base_url, user: User, secret: str, shot, name: str):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not valid")).to_be_visible()
    shot(f"mfa-{name}-3-code-refused")
    page.get_by_label("Code").fill(fresh_totp_code(user, secret))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "/login" not in page.url
    assert "/two-step" not in page.url


def test_referrer_sets_up_two_step_from_account_security(page, live_server, world, shot):
    sign_in(page, live_server, world.referrer.email)
    page.locator("a.account-link").click()  # the name in the header
    expect(page.get_by_role("heading", name="Account security")).to_be_visible()
    expect(page.get_by_text("Off.")).to_be_visible()
    shot("mfa-referrer-0-account-security")
    page.get_by_role("link", name="Set up two-step sign-in").click()
    secret = _enrol_on_page(page, world.referrer, shot, "referrer")
    expect(page.get_by_text("On", exact=True)).to_be_visible()
    _sign_out_and_in_with_code(page, live_server, world.referrer, secret, shot, "referrer")
    expect(page.get_by_role("heading", name="My referrals")).to_be_visible()
    shot("mfa-referrer-4-signed-in")


@pytest.mark.parametrize(
    ("who", "lands_on"), [("coordinator", "Referral queue"), ("admin", "Audit log")]
)
def test_staff_must_set_up_two_step_at_first_sign_in(page, live_server, world, shot, who, lands_on):
    user = getattr(world, who)
    _without_authenticator(user)
    sign_in(page, live_server, user.email)
    expect(page.get_by_text("Your account protects patient records")).to_be_visible()
    secret = _enrol_on_page(page, user, shot, who)
    expect(page.get_by_role("heading", name=lands_on)).to_be_visible()
    _sign_out_and_in_with_code(page, live_server, user, secret, shot, who)
    expect(page.get_by_role("heading", name=lands_on)).to_be_visible()
    shot(f"mfa-{who}-4-signed-in")
    if who == "admin":
        page.get_by_role("link", name="Accounts").click()
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
        shot("admin-accounts")
        page.get_by_role("link", name="Audit log").click()
        page.get_by_label("Action").select_option("auth.login")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_role("cell", name="auth.login").first).to_be_visible()
        shot("admin-audit-filtered")


def test_idle_warning_offers_to_stay_signed_in(page, live_server, world, shot, app, monkeypatch):
    # Two minutes idle, warned 118 seconds before: the banner shows after about 2 seconds.
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 2)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 118)
    sign_in(page, live_server, world.referrer.email)
    banner = page.locator("#session-warning")
    expect(banner).to_be_hidden()
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text("you will be signed out in")
    shot("session-idle-warning")
    page.get_by_role("button", name="Stay signed in").click()
    expect(banner).to_be_hidden()


def test_sign_in_helper_answers_the_second_step_for_factory_staff(page, live_server, world):
    """Other journeys sign staff in with tests.browser.conftest.sign_in: it must keep working."""
    for _ in range(2):  # twice in a row: the helper never reuses a code
        sign_in(page, live_server, world.clinician.email)
        expect(page.get_by_role("heading", name="Treatment courses")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
