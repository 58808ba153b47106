"""The browser harness itself: a user signs in through the real page and lands home."""

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_referrer_signs_in_and_sees_dashboard(page, live_server, world, shot):
    sign_in(page, live_server, world.referrer.email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/login" not in page.url
    shot("smoke-dashboard")
