"""Issue 17's journeys in Chromium: a session signed across the re-authentication step with
its reason kept; a letter's preview and its signed PDF paginated alike; the queue's Needs
action tab and bulk assignment; a prior authorization running short."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import time_machine
from playwright.sync_api import expect
from pypdf import PdfReader

from portal.clock import clinic_today
from portal.db import utcnow
from portal.extensions import db
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import (
    PASSWORD,
    accepted_referral,
    create_referral,
    create_user,
    document_sessions,
    draft_letter,
    fresh_totp_code,
    next_weekday,
    spravato_referral,
)
from tests.factories.scheduling import book


def test_a_session_signed_across_reauthentication_keeps_its_reason(page, live_server, world, shot):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    session = referral.course.sessions[0]
    session.bp_pre_systolic, session.bp_pre_diastolic = 150, 95
    db.session.commit()
    sign_in(page, live_server, world.clinician.email)
    reason = "Repeat reading 138/88 after 10 minutes of rest; benefit outweighs the risk."
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=True):
        page.goto(f"{live_server}/treatment/sessions/{session.id}")
        page.get_by_label("Why the session went ahead").fill(reason)
        page.get_by_role("button", name="Sign session").click()
        expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        expect(page.get_by_text("Sign the session is sent as you asked")).to_be_visible()
        shot("daily-reauth-keeps-the-form")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(fresh_totp_code(world.clinician))
        page.get_by_role("button", name="Confirm").click()
        # Confirmed: the kept form goes by itself and the session is signed, reason kept.
        expect(page.get_by_text("The session is signed.")).to_be_visible()
        expect(page.get_by_text(f"Went ahead because: {reason}")).to_be_visible()
        shot("daily-reauth-signed")


def _pdf(page, url: str) -> bytes:
    response = page.request.get(url)
    assert response.ok, response.status
    return response.body()


def _pngs(data: bytes, name: str) -> int:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(ARTIFACTS / name)], check=True)
    return len(PdfReader(io.BytesIO(data)).pages)


def test_the_preview_is_the_letter_that_is_signed(page, live_server, world, shot):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 3)
    letter = draft_letter(referral, world.clinician)
    db.session.commit()
    sign_in(page, live_server, world.clinician.email)
    page.goto(f"{live_server}/letters/{letter.id}/edit")
    items = "\n".join(
        f"{n}. A recommendation long enough to fill most of a printed line of the letter."
        for n in range(1, 28)
    )
    page.locator("textarea").nth(1).fill(items)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    preview_pages = _pngs(
        _pdf(page, f"{live_server}/letters/{letter.id}/preview"), "daily-letter-preview"
    )
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign and send letter").click()
    expect(page.get_by_text("It is visible to the referring provider.")).to_be_visible()
    signed = _pdf(page, f"{live_server}/letters/{letter.id}/download")
    assert _pngs(signed, "daily-letter-signed") == preview_pages
    last = PdfReader(io.BytesIO(signed)).pages[-1].extract_text().strip()
    assert not last.startswith("Sincerely")
    assert "27. A recommendation" in PdfReader(io.BytesIO(signed)).pages[-1].extract_text()


def test_the_queue_opens_on_needs_action_and_assigns_selected_rows(page, live_server, world, shot):
    colleague = create_user("coordinator", clinic=world.clinic, full_name="Kim Colleague")
    new = [create_referral(world.referrer, first_name=n) for n in ("Ada", "Ben", "Cy")]
    scheduled = accepted_referral(
        world.referrer, world.coordinator, world.clinician, first_name="Dora"
    )
    book(scheduled, world.coordinator, [next_weekday(0)])
    db.session.commit()
    sign_in(page, live_server, world.coordinator.email)
    expect(page.locator('.filters a[aria-current="page"]')).to_contain_text("Needs action 3")
    expect(page.get_by_role("row").filter(has_text="Dora")).to_have_count(0)
    page.get_by_label(f"Select {new[0].number}").check()
    page.get_by_label(f"Select {new[2].number}").check()
    page.get_by_label("Assign the selected referrals to").select_option(str(colleague.id))
    shot("daily-queue-needs-action")
    page.get_by_role("button", name="Assign selected").click()
    expect(page.get_by_text("2 referrals assigned to Kim Colleague")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Ada")).to_contain_text("Kim Colleague")
    page.get_by_role("link", name="Scheduled 1").click()
    expect(page.get_by_role("row").filter(has_text="Dora")).to_be_visible()


def test_a_prior_authorization_running_short_warns(page, live_server, world, shot):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    first = next_weekday(0)
    book(
        referral,
        world.coordinator,
        [first + timedelta(days=n) for n in (0, 3, 7, 10)],
        code="spravato_induction",
    )
    db.session.commit()
    sign_in(page, live_server, world.coordinator.email)
    page.goto(f"{live_server}/authorizations/referrals/{referral.id}")
    expect(
        page.get_by_text("4 session(s) booked and no prior authorization recorded")
    ).to_be_visible()
    page.get_by_label("Status").select_option("approved")
    page.get_by_label("Authorization number").fill("PA-2026-7781")
    page.get_by_label("Approved units of S0013 (1 unit = 1 mg)").fill("112")
    page.get_by_label("First covered day").fill(clinic_today().isoformat())
    page.get_by_label("Last covered day").fill((clinic_today() + timedelta(days=12)).isoformat())
    page.get_by_label("Documents sent").fill("Prior-authorization summary\nPHQ-9 baseline")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The authorization is saved.")).to_be_visible()
    expect(page.get_by_text("in 12 days: ask for a re-authorization")).to_be_visible()
    expect(page.get_by_text("the 4 booked sessions at 56 mg need 224")).to_be_visible()
    shot("daily-authorization")
    summary = _pdf(page, f"{live_server}/authorizations/referrals/{referral.id}/summary.pdf")
    _pngs(summary, "daily-authorization-summary")
    text = " ".join(PdfReader(io.BytesIO(summary)).pages[0].extract_text().split())
    assert "PA-2026-7781" in text
    page.goto(f"{live_server}/triage/?state=scheduled")
    row = page.get_by_role("row").filter(has_text=referral.number)
    expect(row.get_by_role("link", name="Authorization")).to_be_visible()
    shot("daily-queue-authorization-tag")


def test_the_screening_details_boxes_are_wide_enough_to_type_in(page, live_server, world, shot):
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/new")
    for width in (1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        boxes = page.locator("table.screening td.details input")
        assert boxes.count() >= 8
        for n in range(boxes.count()):
            assert boxes.nth(n).bounding_box()["width"] >= 200, (width, n)
    page.locator("table.screening").scroll_into_view_if_needed()
    shot("daily-intake-screening-details")
