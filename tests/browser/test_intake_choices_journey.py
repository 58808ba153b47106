"""Issue 17 item 13 in Chromium: the intake's *None of these*, the pregnancy question that
follows the sex chosen, and the other diagnosis box; with JavaScript and without it, axe clean,
looked at in screenshots at 1024 and 1440 px."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_accessibility import review

WIDTHS = (1024, 1440)


def _sections(page, name: str) -> None:
    """The diagnoses and screening sections at each width, for looking at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.locator("fieldset.section").nth(1).screenshot(
            path=str(ARTIFACTS / f"{name}-diagnoses-{width}.png")
        )
        page.locator("fieldset.section").nth(3).screenshot(
            path=str(ARTIFACTS / f"{name}-screening-{width}.png")
        )
    page.set_viewport_size({"width": 1280, "height": 900})


def _send(page) -> None:
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Send referral to the clinic").click()


def test_the_new_intake_fields_with_javascript(page, live_server, world):
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/new")
    pregnancy = page.locator("tr#pregnancy")
    expect(pregnancy).to_be_visible()  # no sex chosen yet: asked
    page.get_by_label("Sex").select_option("male")
    expect(pregnancy).to_be_hidden()
    page.get_by_label("Sex").select_option("female")
    expect(pregnancy).to_be_visible()

    none = page.get_by_label("None of these: the answer to every question above is No")
    none.check()
    for key in ("aneurysm", "ich", "psychosis", "sud", "pregnancy"):
        expect(page.locator(f"#{key}-0")).to_be_checked()  # No
    page.locator("#psychosis-1").check()  # a Yes unticks "None of these"
    expect(none).not_to_be_checked()

    page.get_by_label("Other diagnosis (ICD-10-CM code)").fill("32.1")
    page.get_by_label("Other diagnosis: description").fill("Adjustment disorder")
    _send(page)
    expect(page.locator("ul.error-summary")).to_contain_text("Other diagnosis (ICD-10-CM code)")
    expect(page.locator(".field.has-error").filter(has_text="Other diagnosis")).to_contain_text(
        "enter an ICD-10-CM code, such as F32.A or F43.12"
    )
    expect(page.get_by_label("Other diagnosis (ICD-10-CM code)")).to_have_value("32.1")
    expect(page.locator("#psychosis-1")).to_be_checked()  # kept through the refusal
    expect(pregnancy).to_be_visible()
    assert review(page, "referrer-intake-new-fields-js") == []
    _sections(page, "intake-new-fields-js")

    # The contradiction a browser without JavaScript can send (set here without the script's
    # handler): "None of these" with a Yes, refused with its own error, axe clean too.
    page.locator("#screening_none").evaluate("box => { box.checked = true; }")
    _send(page)
    expect(page.locator("#screening_none-field")).to_contain_text(
        "“None of these” is ticked, but “Active psychosis or mania, or a psychotic disorder?” "
        "is answered Yes."
    )
    assert review(page, "referrer-intake-none-of-these-refused") == []
    _sections(page, "intake-none-of-these-refused")


def test_the_new_intake_fields_without_javascript(browser, live_server, world):
    viewport = {"width": 1280, "height": 900}
    context = browser.new_context(java_script_enabled=False, viewport=viewport)
    page = context.new_page()
    try:
        sign_in(page, live_server, world.referrer.email)
        page.goto(f"{live_server}/referrals/new")
        page.get_by_label("Sex").select_option("male")
        page.locator("#pregnancy-0").check()  # answered No, then the sex is male
        page.get_by_label("None of these: the answer to every question above is No").check()
        page.locator("#sud-1").check()  # and a Yes: a contradiction the server explains
        page.get_by_label("Other diagnosis (ICD-10-CM code)").fill("f43.12")
        _send(page)
        summary = page.locator("ul.error-summary")
        expect(summary).to_contain_text("None of these")
        expect(page.locator("#screening_none-field")).to_contain_text(
            "“None of these” is ticked, but “Active substance use disorder?” is answered Yes."
        )
        expect(summary).not_to_contain_text("Other diagnosis")  # f43.12 is a valid code
        expect(page.locator("tr#pregnancy")).to_be_hidden()  # male: the server left it out
        expect(page.locator("#pregnancy-0")).to_be_checked()  # but kept what was typed
        # (axe runs in the page's own JavaScript: checked on the same page with it, above.)
        _sections(page, "intake-new-fields-nojs")
    finally:
        context.close()
