"""A coordinator's journey in a real browser: triage, a question and its answer, acceptance,
an IV series and a SPRAVATO series, and the patients in the day view."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import accepted_referral, create_referral, protocol


def _first_monday_from(day: date) -> date:
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


def test_coordinator_triages_accepts_schedules_and_sees_the_day(page, live_server, world, shot):
    referral = create_referral(
        world.referrer, first_name="Iris", last_name="Valdez", requested_modality="iv_ketamine"
    )
    referral.screening_flags = [
        {"code": "bp_high", "label": "Office blood pressure above 140/90", "answer": "148/94"},
        {"code": "benzodiazepine", "label": "Takes a benzodiazepine", "answer": "Clonazepam"},
    ]
    referral.trd_met = True
    spravato = accepted_referral(
        world.referrer, world.coordinator, world.clinician, first_name="Sol", last_name="Arden"
    )
    spravato.requested_modality = spravato.course.modality = "spravato"
    spravato.course.planned_sessions = 16  # the label's schedule, as proposed
    create_referral(world.referrer, first_name="Una", last_name="Urgent", urgency="urgent")
    protocol("iv_induction")
    db.session.commit()

    # The queue: urgent first; the new referral is there.
    sign_in(page, live_server, world.coordinator.email)
    expect(page.get_by_role("heading", name="Referral queue")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Iris Valdez")).to_be_visible()
    shot("coordinator-queue")

    # Search by name: POSTed, so the name stays out of the address bar and the history.
    page.locator("#q").fill("valdez")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row").filter(has_text="Iris Valdez")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Una Urgent")).to_have_count(0)
    assert "search=" in page.url
    assert "valdez" not in page.url.lower()

    # Screening: opening it from the queue puts it in review, assigned to the coordinator.
    page.get_by_role("row").filter(has_text="Iris Valdez").get_by_role("button").first.click()
    expect(page.get_by_text("is in review and assigned to you")).to_be_visible()
    expect(page.get_by_text("Office blood pressure above 140/90")).to_have_count(2)
    expect(page.get_by_text("Meets the common TRD definition")).to_be_visible()
    page.get_by_label("Patient identity, date of birth and contact details checked").check()
    page.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    shot("coordinator-screening")
    page.locator("summary", has_text="Ask the referrer a question").click()
    page.locator("#reason-needs_info").fill("What was the clonazepam dose, and is it taken daily?")
    page.get_by_role("button", name="Ask the referrer a question").click()
    expect(page.get_by_text("Your question was sent to the referrer.")).to_be_visible()

    # The referrer answers.
    page.context.clear_cookies()
    sign_in(page, live_server, world.referrer.email)
    page.goto(f"{live_server}/referrals/{referral.id}")
    page.locator("#reason-answer").fill("0.5 mg at night only, for two years.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("Your answer was sent")).to_be_visible()

    # The coordinator sees the answer and accepts into an IV induction.
    page.context.clear_cookies()
    sign_in(page, live_server, world.coordinator.email)
    page.goto(f"{live_server}/triage/{referral.id}/screening")
    # The answer is on the screening page's own card (and on the timeline).
    latest = page.get_by_role("region", name="The referrer's latest answer")
    expect(latest).to_contain_text("0.5 mg at night only, for two years.")
    page.get_by_role("link", name="Accept…").click()
    page.get_by_label("Assigned clinician").select_option(label=world.clinician.display_name)
    expect(page.get_by_label("Protocol")).to_have_value(str(protocol("iv_induction").id))
    page.get_by_role("button", name="Accept referral").click()
    expect(page.get_by_text("Now schedule the series")).to_be_visible()

    # Propose the IV series and book it.
    start = date.today() + timedelta(days=1)
    page.get_by_label("First appointment on or after").fill(start.isoformat())
    page.get_by_role("button", name="Propose").click()
    expect(page.locator(".proposal input[name=day]")).to_have_count(6)
    shot("coordinator-schedule-proposal")
    page.get_by_role("button", name="Book these 6 appointments").click()
    expect(page.get_by_text("6 appointments booked")).to_be_visible()

    # The SPRAVATO series for the other patient.
    page.goto(f"{live_server}/scheduling/referrals/{spravato.id}")
    expect(page.get_by_label("Protocol")).to_have_value(str(protocol("spravato_label").id))
    page.get_by_label("First appointment on or after").fill(start.isoformat())
    page.get_by_role("button", name="Propose").click()
    expect(page.locator(".proposal input[name=day]")).to_have_count(16)
    page.get_by_role("button", name="Book these 16 appointments").click()
    expect(page.get_by_text("16 appointments booked")).to_be_visible()

    # Both patients on the Monday of the first week, with what is still missing.
    monday = _first_monday_from(start)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Day view").click()
    page.get_by_label("Day", exact=True).fill(monday.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("2 visits on 6 chairs")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Iris Valdez")).to_be_visible()
    expect(page.locator("table.day-grid td.visit")).to_have_count(2)
    sol = page.get_by_role("row").filter(has_text="Sol Arden")
    expect(sol).to_contain_text("REMS enrolment missing")
    sol.get_by_label("Escort").check()
    sol.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Preparation saved.")).to_be_visible()
    shot("coordinator-day-view")
