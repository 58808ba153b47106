"""A referrer's journey in a real browser: the whole intake with two prior trials and a PDF,
sent, then found on the dashboard with what the portal worked out."""

from __future__ import annotations

from playwright.sync_api import expect
from pypdf import PdfWriter

from tests.browser.conftest import sign_in


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
    for index, (drug, dose, weeks, outcome) in enumerate(
        [
            ("Sertraline", "200 mg", "10", "no_response"),
            ("Duloxetine", "60 mg", "8", "partial_response"),
        ]
    ):
        page.get_by_label(f"Trial {index + 1}: drug").fill(drug)
        page.get_by_label(f"Trial {index + 1}: dose").fill(dose)
        page.get_by_label(f"Trial {index + 1}: weeks").fill(weeks)
        page.get_by_label(f"Trial {index + 1}: outcome").select_option(outcome)
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
