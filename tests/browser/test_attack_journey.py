"""An account under attack, as its owner and an administrator see it: failures from three
other addresses, then the owner signs in with password and code and is told; the admin's
Sign-in attempts page lists the account, its addresses and their blocks."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import _violations
from tests.security_helpers import password_step


def _attack(app, email: str) -> None:
    for n in range(3):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        for _ in range(10):
            password_step(client, email, password="a wrong guess entirely")


def test_the_owner_is_told_and_the_admin_sees_the_attack(page, live_server, world, app, shot):
    _attack(app, world.coordinator.email)
    sign_in(page, live_server, world.coordinator.email)
    notice = page.get_by_text("30 attempts to sign in to your account failed from 3 other")
    expect(notice).to_be_visible()
    shot("attack-owner-notice")
    page.get_by_role("button", name="Sign out").click()
    _attack(app, world.referrer.email)
    sign_in(page, live_server, world.admin.email)
    page.get_by_role("link", name="Sign-in attempts").click()
    expect(page.get_by_role("heading", name="Failed sign-in attempts")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=world.referrer.email)
    expect(row).to_contain_text("under attack")
    expect(row).to_contain_text("203.0.113.2")
    expect(row).to_contain_text("blocked until")
    shot("attack-admin-sign-in-attempts")
    assert _violations(page) == []  # axe-core, as on every other page
