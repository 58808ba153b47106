"""Behaviour every page shares, in a real browser: a destructive action asks first, a form
being sent shows its button busy and ignores a second press, and a page prints without the
navigation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import png_bytes


def test_removing_a_file_from_a_draft_asks_first(page, live_server, world, tmp_path, shot):
    scan = tmp_path / "letter-scan.png"
    scan.write_bytes(png_bytes(40, 40))
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/new")
    page.get_by_label("Last name").fill("Quill")
    page.get_by_label("Add files").set_input_files(str(scan))
    page.get_by_role("button", name="Save draft").last.click()
    expect(page.locator(".flash-success")).to_contain_text("saved")
    remove = page.get_by_role("button", name="Remove letter-scan.png")

    # Declined: the file stays, nothing was sent.
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    remove.click()
    assert questions == ["Remove letter-scan.png from this draft?"]
    expect(remove).to_be_visible()

    # Accepted: the file goes, and the name typed before is still there.
    page.once("dialog", lambda d: d.accept())
    remove.click()
    expect(page.get_by_role("button", name="Remove letter-scan.png")).to_have_count(0)
    expect(page.get_by_label("Last name")).to_have_value("Quill")
    shot("interface-file-removed")


def test_a_form_being_sent_shows_busy_and_ignores_a_second_press(page, live_server, world):
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/new")
    page.get_by_label("Last name").fill("Once")
    # Count the submissions that get through the portal's script, and keep the page here (as
    # if the server were slow) by stopping each one after the portal's own handler has run.
    page.evaluate(
        """window.sent = 0; document.addEventListener("submit", (e) => {
             if (!e.defaultPrevented) { window.sent += 1; } e.preventDefault(); });"""
    )
    button = page.get_by_role("button", name="Save draft").last
    button.click()
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_be_disabled()
    page.evaluate("document.querySelector('form.intake').requestSubmit()")  # a second press
    assert page.evaluate("window.sent") == 1


def test_pages_print_without_navigation(page, live_server, world):
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(page.get_by_role("heading", name="My referrals")).to_be_visible()
