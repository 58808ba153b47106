"""The scheduling journey in a real browser: a coordinator books a SPRAVATO series into a day
that already has four patients, looks at the day as a grid at 1440 and 1024 px, prints it for
the front desk, and a clinician starts a session from the day view."""

from __future__ import annotations

import re
from datetime import time

from playwright.sync_api import expect

from portal.clock import clinic_today
from portal.extensions import db
from portal.scheduling.models import Appointment
from portal.scheduling.service import book_series
from portal.scheduling.settings import clinic_schedule
from tests.browser.conftest import sign_in
from tests.factories import accepted_referral, protocol

NAMES = [("Ada", "Brook"), ("Ben", "Cole"), ("Cara", "Dunn"), ("Dev", "Ellis")]


def _busy_day(world):
    """Today, open every day 08:00-17:00, with four IV patients booked from 08:00."""
    settings = clinic_schedule(world.clinic.id)
    settings.treatment_weekdays = list(range(7))
    settings.opening_hours = {str(d): ["08:00", "17:00"] for d in range(7)}
    today = clinic_today()
    booked = []
    for first, last in NAMES:
        referral = accepted_referral(
            world.referrer, world.coordinator, world.clinician, first_name=first, last_name=last
        )
        booked += book_series(
            referral,
            [today],
            protocol=protocol("iv_induction"),
            actor=world.coordinator,
            expected_version=referral.version,
            preferred=time(8, 0),
        )
    spravato = accepted_referral(
        world.referrer, world.coordinator, world.clinician, first_name="Sol", last_name="Arden"
    )
    spravato.requested_modality = spravato.course.modality = "spravato"
    spravato.course.planned_sessions = 16
    # The label's protocol prefers two weekdays; today is one of them, so that the series
    # starts on the busy day whatever day of the week the test runs.
    protocol("spravato_label").preferred_weekdays = sorted(
        {today.weekday(), (today.weekday() + 3) % 7}
    )
    db.session.commit()
    return today, booked, spravato


def test_book_a_spravato_series_into_a_busy_day_print_it_and_start_a_session(
    page, live_server, world, shot
):
    today, booked, spravato = _busy_day(world)
    sign_in(page, live_server, world.coordinator.email)

    # Propose the label's series from today, the patient preferring 09:00.
    page.goto(f"{live_server}/scheduling/referrals/{spravato.id}")
    page.get_by_label("First appointment on or after").fill(today.isoformat())
    page.get_by_label("Patient prefers from").fill("09:00")
    page.get_by_role("button", name="Propose").click()
    rows = page.locator(".proposal tbody tr")
    expect(rows).to_have_count(16)
    first_day = rows.nth(0).locator("input[name=day]").input_value()
    first_time = rows.nth(0).locator("input[name=time]").input_value()
    assert first_day == today.isoformat()
    assert first_time >= "09:00"
    shot("scheduling-proposal")
    page.get_by_role("button", name="Book these 16 appointments").click()
    expect(page.get_by_text("16 appointments booked")).to_be_visible()

    # The day: five patients in the grid, by chair and time, at 1440 and 1024 px.
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/scheduling/day?date={today.isoformat()}")
        expect(page.locator("table.day-grid td.visit")).to_have_count(5)
        expect(page.locator("table.day-grid td.visit", has_text=spravato.number)).to_contain_text(
            f"{first_time}–"
        )
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"the day view scrolls sideways at {width} px"
        shot(f"scheduling-day-grid-{width}")

    # Print for the front desk: initials and referral numbers, never names.
    page.get_by_role("link", name="Print the day").click()
    page.emulate_media(media="print")
    sheet = page.locator(".print-sheet")
    expect(sheet.locator("tbody tr")).to_have_count(5)
    expect(sheet).to_contain_text("S.A.")
    expect(sheet).to_contain_text(spravato.number)
    for first, last in [*NAMES, ("Sol", "Arden")]:
        expect(sheet).not_to_contain_text(first)
        expect(sheet).not_to_contain_text(last)
    expect(page.locator(".site-header")).to_be_hidden()
    shot("scheduling-day-print")
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")

    # A clinician starts Ada's session from the day view: saving marks the visit attended.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, world.clinician.email)
    page.goto(f"{live_server}/scheduling/day?date={today.isoformat()}")
    ada = page.locator("#list-h ~ table tr", has_text="Ada Brook")
    ada.get_by_role("link", name="Start session").click()
    expect(page.get_by_role("heading", name=re.compile("Document session 1 of 6"))).to_be_visible()
    expect(page.get_by_text("saving marks it attended")).to_be_visible()
    page.get_by_label("Weight (kg)").fill("80")
    page.get_by_label("Dose (mg/kg)").fill("0.5")
    page.get_by_label("Infusion (minutes)").fill("40")
    page.get_by_label("Infusion started at").fill("09:00")
    page.get_by_label("Lot number").fill("KET-2211")
    page.get_by_label("Before dosing: systolic").fill("124")
    page.get_by_label("Before dosing: diastolic").fill("80")
    page.get_by_label("About 40 minutes after: systolic").fill("134")
    page.get_by_label("About 40 minutes after: diastolic").fill("84")
    page.get_by_label("Escort home confirmed").check()
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text("Session 1 of 6 is saved")).to_be_visible()
    page.goto(f"{live_server}/scheduling/day?date={today.isoformat()}")
    ada = page.locator("#list-h ~ table tr", has_text="Ada Brook")
    expect(ada).to_contain_text("Attended")
    expect(ada.get_by_role("link", name="Open the session")).to_be_visible()
    shot("scheduling-day-after-session")
    db.session.expire_all()
    visit = db.session.get(Appointment, booked[0].id)
    assert visit.status == "attended"
    assert visit.escort_confirmed
