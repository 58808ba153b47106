"""A referrer's journey in a real browser: the whole intake with two prior trials and a PDF,
sent, then found on the dashboard with what the portal worked out."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from pypdf import PdfWriter
from sqlalchemy import select

from portal.auth.models import UserSession
from portal.extensions import db
from portal.referrals.models import Referral
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD


def _pdf(path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=300, height=300)
    with open(path, "wb") as handle:
        writer.write(handle)


def test_referrer_fills_the_whole_intake_and_sees_the_flags(
    page, live_server, world, shot, tmp_path
):
    sign_in(page, live_server, world.referrer.email)
    page.get_by_role("link", name="New referral").first.click()
    expect(page.get_by_role("heading", name="New referral")).to_be_visible()

    # 1. Patient
    page.get_by_label("First name").fill("Imogen")
    page.get_by_label("Last name").fill("Fairweather")
    page.get_by_label("Date of birth").fill("1984-06-02")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Phone", exact=True).fill("207-555-0111")
    page.get_by_label("Email").fill("imogen@example.org")
    page.get_by_label("Street address").fill("9 Lantern Lane")
    page.get_by_label("City").fill("Portland")
    page.get_by_label("Emergency contact (name and phone)").fill("Ada Fairweather 207-555-0112")
    page.get_by_label("Insurance payer").fill("Anthem")
    page.get_by_label("Member ID").fill("ANT-443322")
    # 2. Diagnoses, episode, two prior trials
    page.get_by_label("F33.2 Major depressive disorder, recurrent, severe").check()
    page.get_by_label("Current episode duration (months)").fill("18")
    # Three trials (the third row added in place), then the second, a mistake, removed in
    # place by the script: the page is not reloaded and the other rows keep what was typed.
    page.get_by_role("button", name="Add a trial").click()
    expect(page.get_by_label("Trial 3: drug")).to_be_visible()
    for number, (drug, dose, weeks, outcome) in enumerate(
        [
            ("Sertraline", "200 mg", "10", "no_response"),
            ("Wrong patient's drug", "5 mg", "2", "response"),
            ("Duloxetine", "60 mg", "8", "partial_response"),
        ],
        start=1,
    ):
        page.get_by_label(f"Trial {number}: drug").fill(drug)
        page.get_by_label(f"Trial {number}: dose").fill(dose)
        page.get_by_label(f"Trial {number}: weeks").fill(weeks)
        page.get_by_label(f"Trial {number}: outcome").select_option(outcome)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Remove trial 2").click()
    expect(page.get_by_label("Trial 2: drug")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage === true")  # removed without a round trip
    expect(page.locator("table[data-rows=trials] tbody tr.row-entry")).to_have_count(2)
    expect(page.get_by_label("Trial 1: drug")).to_have_value("Sertraline")
    expect(page.get_by_label("Trial 3: drug")).to_have_value("Duloxetine")
    expect(page.get_by_label("Trial 3: outcome")).to_have_value("partial_response")
    page.get_by_label("Psychotherapy history").fill("CBT 2022-2023, 24 sessions")
    page.get_by_label("ECT history").fill("None")
    page.get_by_label("TMS history").fill("None")
    # 3. Medications: a third row added in place by the script
    page.get_by_role("button", name="Add a medication").click()
    expect(page.get_by_label("Medication 3: name")).to_be_visible()
    page.get_by_label("Medication 1: name").fill("Clonazepam")
    page.get_by_label("Medication 1: dose").fill("0.5 mg twice daily")
    page.get_by_label("Medication 1: class").select_option("benzodiazepine")
    page.get_by_label("Medication 3: name").fill("Lisinopril")
    page.get_by_label("Medication 3: dose").fill("10 mg daily")
    # 4. Screening
    rows = page.locator("table.screening tbody tr")
    for i in range(rows.count()):
        rows.nth(i).get_by_label("No", exact=True).check()
    page.locator("#bp_systolic").fill("146")
    page.locator("#bp_diastolic").fill("92")
    page.get_by_label("Pulse (beats per minute)").fill("78")
    # 5. Suicidality
    page.locator(
        "fieldset.radio-group", has_text="Suicidal ideation in the past month?"
    ).get_by_label("No", exact=True).check()
    page.locator("fieldset.radio-group", has_text="Suicide attempt in the past year?").get_by_label(
        "No"
    ).check()
    # 6. PHQ-9
    for item in range(1, 10):
        answer = "Not at all" if item == 9 else "More than half the days"
        page.locator(f"fieldset.radio-group:has(input[name='phq9_{item}'])").get_by_label(
            answer
        ).check()
    # 8. Request, 9. Attachment, 10. Attestations
    page.get_by_label("Requested treatment").select_option("spravato")
    page.get_by_label("Reason for referral and goals of treatment").fill(
        "Recurrent severe depression after two adequate trials; interested in SPRAVATO."
    )
    pdf = tmp_path / "prior-records.pdf"
    _pdf(pdf)
    page.get_by_label("Add files").set_input_files(str(pdf))
    page.get_by_label("The patient consented to this referral.").check()
    page.get_by_label("I will continue the patient's ongoing mental-health care").check()
    shot("referrer-intake-filled")

    page.get_by_role("button", name="Send referral to the clinic").click()
    expect(page.get_by_text("was sent to the clinic")).to_be_visible()
    expect(page.get_by_role("heading", name="Screening results")).to_be_visible()
    expect(page.get_by_text("Office blood pressure above 140/90")).to_be_visible()
    expect(page.get_by_text("Current medication: benzodiazepine")).to_be_visible()
    expect(page.locator("dd", has_text="Met: two or more failed adequate")).to_be_visible()
    expect(page.get_by_role("link", name="prior-records.pdf")).to_be_visible()
    expect(page.get_by_text("16 moderately severe").first).to_be_visible()
    trials = page.locator("section.intake-view table").first.locator("tbody tr")
    expect(trials).to_have_count(2)
    expect(trials.nth(0).locator("td")).to_have_text(["Sertraline", "200 mg", "10", "No response"])
    expect(trials.nth(1).locator("td")).to_have_text(
        ["Duloxetine", "60 mg", "8", "Partial response"]
    )
    referral = db.session.scalar(select(Referral))
    assert [(t["drug"], t["weeks"]) for t in referral.intake["trials"]] == [
        ("Sertraline", 10),
        ("Duloxetine", 8),
    ]
    shot("referrer-referral-page")

    page.get_by_role("link", name="All my referrals").click()
    row = page.locator("table.dashboard tbody tr", has_text="Imogen Fairweather")
    expect(row).to_contain_text("Submitted")
    expect(row).to_contain_text("TRD met")
    expect(row).to_contain_text("2 flags")
    expect(row).to_contain_text("16 baseline")
    shot("referrer-dashboard")


def test_intake_rows_work_without_javascript(browser, live_server, world):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, world.referrer.email)
        page.goto(f"{live_server}/referrals/new")
        page.get_by_label("First name").fill("Noscript")
        page.get_by_role("button", name="Add a trial").click()
        expect(page.get_by_label("Trial 3: drug")).to_be_visible()
        expect(page.get_by_label("First name")).to_have_value("Noscript")
        page.get_by_role("button", name="Remove trial 1").click()
        expect(page.get_by_label("Trial 3: drug")).to_have_count(0)
    finally:
        context.close()


def test_typing_survives_the_automatic_sign_out(page, live_server, world, shot, monkeypatch, app):
    """Idle on the intake with unsaved typing: the draft is saved just before the deadline,
    then the sign-in page; signing in again brings the draft back. An unchanged form is not
    saved again: the sign-in page only."""
    # 12 seconds idle, warned at once: the timer saves 5 seconds before the deadline, which
    # leaves the typing below 7 seconds (it takes about one).
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 0.2)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 12)
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/new")
    page.get_by_label("First name").fill("Unsaved")
    page.get_by_label("Last name").fill("Typing")
    page.get_by_label("Psychotherapy history").fill("Typed, never saved by hand")
    page.get_by_role("button", name="Add a trial").click()
    page.get_by_label("Trial 3: drug").fill("Vortioxetine")
    expect(page.locator("#session-warning")).to_be_visible(timeout=15_000)
    page.wait_for_url(re.compile(r"/login\?next="), timeout=30_000)
    expect(page.get_by_text("What you had typed was saved in the draft first.")).to_be_visible()
    shot("referrer-signed-out-draft-saved")
    draft = db.session.scalar(select(Referral))
    assert draft.state == "draft"
    assert draft.form_data["first_name"] == ["Unsaved"]
    assert draft.form_data["psychotherapy"] == ["Typed, never saved by hand"]
    assert draft.form_data["trials-2-drug"] == ["Vortioxetine"]
    assert db.session.scalar(select(UserSession.revoked_reason)) == "idle"

    # Signing in again (the page says where to go back to) opens the draft as it was typed;
    # this session may idle for 6 seconds only, as nothing is typed in it.
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 0.1)
    page.get_by_label("Email").fill(world.referrer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/referrals/{draft.id}/edit")
    expect(page.get_by_label("First name")).to_have_value("Unsaved")
    expect(page.get_by_label("Psychotherapy history")).to_have_value("Typed, never saved by hand")
    expect(page.get_by_label("Trial 3: drug")).to_have_value("Vortioxetine")
    version = draft.version

    # Nothing changed since the page loaded: no save, the sign-in page at the deadline.
    page.wait_for_url(re.compile(r"/login\?next="), timeout=35_000)
    expect(page.get_by_text("signed out after a period without activity")).to_be_visible()
    expect(page.get_by_text("saved in the draft first")).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(Referral, draft.id).version == version
