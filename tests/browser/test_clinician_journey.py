"""A clinician documents an IV and a SPRAVATO session with scales in a real browser, meets each
safety prompt, signs, adds an addendum and sees the course's outcome chart."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import accepted_referral, document_sessions, spravato_referral


def _answer_phq9(page, answers):
    for number, answer in enumerate(answers, start=1):
        group = page.get_by_role("group", name=f"{number}. ", exact=False).nth(0)
        page.locator(f'input[name="phq9_{number}"][value="{answer}"]').check()
        assert group is not None


def test_clinician_documents_signs_and_sees_outcomes(page, live_server, world, shot):
    iv = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(iv, world.clinician, 2, phq9=[[2, 2, 2, 1, 1, 1, 1, 1, 0]] * 2)
    spravato = spravato_referral(world.referrer, world.coordinator, world.clinician, enrolled=False)
    db.session.commit()
    sign_in(page, live_server, world.clinician.email)

    # IV session: a dose outside 0.1-0.75 mg/kg and a pre-dose BP above 140/90.
    page.goto(f"{live_server}/treatment/referrals/{iv.id}/sessions/new")
    page.get_by_label("Weight (kg)").fill("80")
    page.get_by_label("Dose (mg/kg)").fill("0.8")
    expect(page.locator("#dose-mg")).to_contain_text("64 mg")
    expect(page.locator("#dose-mg")).to_contain_text("asked to confirm")
    page.get_by_label("Infusion (minutes)").fill("40")
    page.get_by_label("Infusion started at").fill("09:00")
    page.get_by_label("Lot number").fill("KET-2211")
    page.get_by_label("Before dosing: systolic").fill("150")
    page.get_by_label("Before dosing: diastolic").fill("92")
    page.get_by_label("About 40 minutes after: systolic").fill("146")
    page.get_by_label("About 40 minutes after: diastolic").fill("90")
    expect(page.locator("tr.vital-row")).to_have_count(6)
    page.get_by_role("button", name="Add a row").click()
    expect(page.locator("tr.vital-row")).to_have_count(7)
    # Blood pressure is typed once: the first row is the pre-dose one, its BP the one above.
    first = page.locator("tr.vital-row").first
    expect(first).to_contain_text("Before")
    expect(first).to_contain_text("The pre-dose blood pressure typed above")
    expect(page.get_by_label("Row 1 phase")).to_have_count(0)
    expect(page.get_by_label("Row 1 Systolic")).to_have_count(0)
    page.get_by_label("Row 1 time").fill("09:00")
    page.get_by_label("Row 1 Heart rate").fill("76")
    page.get_by_label("Row 1 SpO2").fill("97")
    for row, (at, phase, sys, dia) in enumerate(
        [("09:10", "during", 148, 90), ("10:30", "after", 132, 84)]
        + [("10:45", "after", 128, 80)] * 4,
        start=1,
    ):
        page.get_by_label(f"Row {row + 1} time").fill(at)
        page.get_by_label(f"Row {row + 1} phase").select_option(phase)
        page.get_by_label(f"Row {row + 1} Systolic").fill(str(sys))
        page.get_by_label(f"Row {row + 1} Diastolic").fill(str(dia))
        page.get_by_label(f"Row {row + 1} Heart rate").fill("76")
        page.get_by_label(f"Row {row + 1} SpO2").fill("97")
    page.get_by_label("Dissociation", exact=True).check()
    for n in range(1, 7):
        page.locator(f'input[name="cadss_{n}"][value="1"]').check()
    page.get_by_label("Escort home confirmed").check()
    page.get_by_label("Discharge time").fill("11:05")
    _answer_phq9(page, [1, 1, 1, 1, 0, 0, 0, 0, 1])  # item 9 above 0
    shot("clinician-iv-session-form")
    page.get_by_role("button", name="Save session").click()
    confirm = page.get_by_label("I confirm this dose outside 0.1-0.75 mg/kg is intended")
    expect(page.get_by_text("0.8 mg/kg is outside the published range")).to_be_visible()
    expect(page.get_by_label("Weight (kg)")).to_have_value("80")  # nothing typed is lost
    confirm.check()
    page.get_by_role("button", name="Save session").click()

    expect(page.get_by_role("heading", name="Session 3", exact=False)).to_be_visible()
    expect(page.get_by_text("150/92 mmHg, above 140/90")).to_be_visible()
    expect(page.get_by_text("40 minutes, started 09:00 · lot KET-2211")).to_be_visible()
    # The vitals table's pre-dose row carries the blood pressure typed once.
    expect(page.locator("table.data tr", has_text="09:00")).to_contain_text("150/92")
    page.get_by_role("button", name="Sign session").click()
    expect(page.get_by_text("The session was not signed.")).to_be_visible()
    page.get_by_label("Why the session went ahead").fill(
        "Repeat reading 138/88 after 10 minutes of rest; benefit outweighs the risk."
    )
    shot("clinician-iv-session-sign")
    page.get_by_role("button", name="Sign session").click()
    expect(page.get_by_text("The session is signed.")).to_be_visible()
    page.get_by_label("Addendum").fill("Patient called next day: mild headache, resolved.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_text("The addendum is added")).to_be_visible()
    expect(page.get_by_text("mild headache, resolved.")).to_be_visible()
    shot("clinician-iv-session-signed")

    # The PHQ-9 item 9 answer raised a safety alert on the course.
    page.goto(f"{live_server}/treatment/referrals/{iv.id}/course")
    expect(
        page.get_by_role("heading", name="Safety alert: PHQ-9 item 9 answered 1")
    ).to_be_visible()
    page.get_by_label("What was done").fill("Called the patient: passive thoughts, safety plan.")
    page.get_by_role("button", name="Record that it was reviewed").click()
    expect(page.get_by_text("recorded as reviewed")).to_be_visible()

    # A GAD-7 on its own date.
    page.get_by_role("link", name="GAD-7").click()
    for n in range(1, 8):
        page.locator(f'input[name="item_{n}"][value="2"]').check()
    page.get_by_role("button", name="Save GAD-7").click()
    expect(page.get_by_text("GAD-7 recorded: 14, moderate.")).to_be_visible()
    expect(page.locator("svg.trend-chart")).to_have_count(3)  # PHQ-9, GAD-7, CADSS-6
    shot("clinician-outcome-chart")

    # SPRAVATO: the patient is not enrolled and monitoring is short: it cannot be signed.
    page.goto(f"{live_server}/treatment/referrals/{spravato.id}/sessions/new")
    page.get_by_label("56 mg").check()
    page.get_by_label("Devices used").fill("2")
    page.get_by_label("Lot number").fill("EKT2419")
    for label, (sys, dia) in {
        "Before dosing": (128, 82),
        "About 40 minutes after": (138, 86),
        "Before leaving": (124, 80),
    }.items():
        page.get_by_label(f"{label}: systolic").fill(str(sys))
        page.get_by_label(f"{label}: diastolic").fill(str(dia))
    page.get_by_label("Total monitoring time (minutes)").fill("110")
    page.get_by_label("Ready to leave at (without the 2-hour rule)").fill("11:15")
    for name, answer in [
        ("vitals_ok_before", "yes"),
        ("vitals_ok_leaving", "yes"),
        ("sedation", "no"),
        ("dissociation", "no"),
        ("respiratory_depression", "no"),
        ("serious_adverse_events", "no"),
    ]:
        page.locator(f'input[name="{name}"][value="{answer}"]').check()
    page.get_by_label("Benzodiazepines").check()
    _answer_phq9(page, [1, 1, 1, 0, 0, 0, 0, 0, 0])
    shot("clinician-spravato-session-form")
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text("Total monitoring time is 110 minutes.")).to_be_visible()
    expect(page.get_by_text("REMS enrolment is not recorded")).to_be_visible()
    expect(page.get_by_text("This session cannot be signed yet.")).to_be_visible()
    shot("clinician-spravato-blocked")

    page.get_by_role("link", name="Correct the documentation").click()
    page.get_by_label("Total monitoring time (minutes)").fill("125")
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text("The session is updated.")).to_be_visible()
    page.get_by_role("link", name="course page").click()
    page.get_by_label("REMS enrolment date").fill("2026-01-05")
    page.get_by_role("button", name="Save enrolment").click()
    expect(page.get_by_text("Enrolled on")).to_be_visible()
    page.get_by_role("link", name="Session 1").click()
    page.get_by_role("button", name="Sign session").click()
    expect(page.get_by_text("The session is signed.")).to_be_visible()

    # The REMS form is due; its PDF renders.
    page.goto(f"{live_server}/treatment/rems")
    expect(page.get_by_text("7 days left")).to_be_visible()
    shot("clinician-rems-list")
    href = page.get_by_role("link", name="PDF").get_attribute("href")
    pdf = page.request.get(f"{live_server}{href}")
    assert pdf.headers["content-type"] == "application/pdf"
    for old in ARTIFACTS.glob("rems-form-*.png"):
        old.unlink()
    out = ARTIFACTS / "rems-form.pdf"
    Path(out).write_bytes(pdf.body())
    subprocess.run(  # noqa: S603 - fixed arguments
        ["/usr/bin/pdftoppm", "-png", "-r", "60", str(out), str(ARTIFACTS / "rems-form")],
        check=True,
    )

    # The referrer sees a read-only summary on the referral's page.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/{iv.id}")
    expect(page.get_by_role("heading", name="Treatment outcomes")).to_be_visible()
    expect(page.get_by_text("Safety alert")).to_have_count(0)
    shot("referrer-outcome-summary")
    assert page.request.get(f"{live_server}/treatment/referrals/{iv.id}/course").status == 404
