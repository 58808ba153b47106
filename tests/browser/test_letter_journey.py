"""In a real browser: a clinician drafts, previews, signs and corrects a treatment summary; the
referrer downloads both versions and verifies one by its code. Every PDF is read back and
rendered to PNG pages under test-artifacts/letters/."""

from __future__ import annotations

import re
import subprocess
from datetime import date

from playwright.sync_api import expect

from portal.extensions import db
from portal.treatment.service import complete_course
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD, accepted_referral, document_sessions

LETTERS = ARTIFACTS.parent / "letters"


def _pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _png(path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(path), str(path.with_suffix(""))], check=True
    )


def _download(page, link, name: str):
    with page.expect_download() as info:
        link.click()
    path = LETTERS / name
    info.value.save_as(str(path))
    _png(path)
    return path


def test_clinician_signs_and_corrects_the_referrer_downloads_and_verifies(
    page, live_server, world, shot
):
    LETTERS.mkdir(parents=True, exist_ok=True)
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    phq9 = [[2, 2, 2, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0, 0, 0]]
    document_sessions(referral, world.clinician, 3, phq9=phq9)
    complete_course(
        referral.course,
        actor=world.clinician,
        expected_version=referral.version,
        ended_on=date.today(),
    )
    db.session.commit()
    detail = f"{live_server}/referrals/{referral.id}"

    # The clinician starts the treatment summary from the referral's Letters card.
    sign_in(page, live_server, world.clinician.email)
    page.goto(detail)
    page.get_by_label("Write a letter").select_option(label="Treatment summary")
    page.get_by_role("button", name="Start draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Treatment summary, version 1")
    page.get_by_label("Summary for the referring provider").fill(
        "The induction series was well tolerated.\n\nMood improved from the third session."
    )
    page.get_by_label("Recommendations").fill("Maintenance every three weeks.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("Draft saved.")
    shot("letter-01-draft")

    # The preview is the real PDF, marked DRAFT.
    letter_id = re.search(r"/letters/(\d+)/edit", page.url).group(1)
    preview = page.request.get(f"{live_server}/letters/{letter_id}/preview")
    assert preview.headers["content-type"] == "application/pdf"
    draft_path = LETTERS / "journey-draft-preview.pdf"
    draft_path.write_bytes(preview.body())
    _png(draft_path)
    assert "DRAFT" in _pdf_text(draft_path)

    # Signing asks for the password again; a wrong one signs nothing.
    page.get_by_label("Your password").fill("wrong password")
    page.get_by_role("button", name="Sign and send letter").click()
    expect(page.locator(".flash-error")).to_contain_text("That password is not right")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and send letter").click()
    expect(page.locator(".flash-success")).to_contain_text("version 1 is signed")
    first_code = re.search(r"Verification code (\w{5}-\w{5})", page.content()).group(1)
    shot("letter-02-signed")

    # A correction: version 2 supersedes version 1.
    page.get_by_role("button", name="Correct…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 2")
    expect(page.locator(".flash-info").last).to_contain_text("Version 1 stays the current")
    page.get_by_label("Recommendations").fill("Maintenance every four weeks, then review.")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and send letter").click()
    expect(page.locator(".flash-success")).to_contain_text("version 2 is signed")
    second_code = re.search(r"Verification code (\w{5}-\w{5})", page.content()).group(1)
    card = page.locator("section.letter-card")
    expect(card).to_contain_text("superseded")
    shot("letter-03-corrected")
    page.get_by_role("button", name="Sign out").click()

    # The referrer sees the new letter on the dashboard and downloads both versions.
    sign_in(page, live_server, world.referrer.email)
    expect(page.locator(".new-mark", has_text="Letter")).to_be_visible()
    page.goto(detail)
    rows = page.locator("section.letter-card tbody tr")
    current = rows.filter(has_text="Treatment summary").filter(has_not_text="superseded")
    old = rows.filter(has_text="superseded")
    v2 = _download(page, current.get_by_role("link", name="Download PDF"), "journey-summary-v2.pdf")
    v1 = _download(page, old.get_by_role("link", name="Download PDF"), "journey-summary-v1.pdf")
    v2_text, v1_text = _pdf_text(v2), _pdf_text(v1)
    assert "Maintenance every four weeks, then review." in v2_text
    assert second_code in v2_text
    assert "SUPERSEDED" not in v2_text
    assert "SUPERSEDED" in v1_text
    assert "replaced by version 2" in v1_text
    assert first_code in v1_text
    shot("letter-04-referrer-letters")

    # Anyone holding the letter checks it by its code: the current one, then the old one.
    page.goto(f"{live_server}/verify/")
    page.get_by_label("Verification code").fill(second_code.lower().replace("-", " "))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".flash-success")).to_contain_text("Genuine and current")
    expect(page.locator("body")).not_to_contain_text(referral.patient.last_name)
    shot("letter-05-verified-current")
    page.goto(f"{live_server}/verify/{first_code}")
    expect(page.locator(".flash-error")).to_contain_text("Genuine but SUPERSEDED")
    shot("letter-06-verified-superseded")
