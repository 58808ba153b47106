"""The coordinator records a patient's opt-out of reminder emails on the schedule page."""

from __future__ import annotations

from portal.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import accepted_referral


def test_coordinator_stops_reminders_for_a_patient(page, live_server, world, shot):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    intake = dict(referral.intake)
    intake["patient"] = {**intake["patient"], "email": "pat.example@mail.test"}
    referral.intake = intake
    db.session.commit()

    sign_in(page, live_server, world.coordinator.email)
    page.goto(f"{live_server}/scheduling/referrals/{referral.id}")
    section = page.get_by_role("region", name="Reminders to the patient")
    box = section.get_by_label("The patient asked for no reminder emails")
    assert not box.is_checked()
    box.check()
    section.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Reminders stopped." in page.content()
    assert page.get_by_label("The patient asked for no reminder emails").is_checked()
    page.get_by_role("region", name="Reminders to the patient").scroll_into_view_if_needed()
    shot("patient-reminders-opt-out")
