"""The session form asks for each value once: the vitals grid's first row is the pre-dose row
and its blood pressure is the one typed above; IV records the infusion's start and the drug's
lot number; the course page lists the next appointments and the phone for the safety call."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.clock import clinic_today
from portal.extensions import db
from tests.conftest import page_text
from tests.factories import accepted_referral
from tests.factories.scheduling import book, next_weekday
from tests.session_helpers import BP_OK, clinician_client, iv_form, only_session, post_session


def test_blood_pressure_is_typed_once_and_iv_records_start_and_lot(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    path = f"/treatment/referrals/{referral.id}/sessions/new"
    html = client.get(path).get_data(as_text=True)
    first_row = re.search(r'<tr class="vital-row">(.*?)</tr>', html, re.S)[1]
    assert '<input type="hidden" name="vitals-0-phase" value="before">Before' in first_row
    assert "The pre-dose blood pressure typed above" in first_row
    assert "vitals-0-bp_systolic" not in first_row
    assert 'name="infusion_started_at"' in html

    missing = post_session(client, referral.id, iv_form(infusion_started_at="", lot_number=""))
    assert missing.status_code == 422
    text = page_text(missing.get_data(as_text=True))
    assert text.count("Required for this modality.") == 2

    form = {**iv_form(), **BP_OK, "bp_pre_systolic": "131", "bp_pre_diastolic": "83"}
    form.pop("vitals-0-bp_systolic")
    form.pop("vitals-0-bp_diastolic")
    assert post_session(client, referral.id, form).status_code == 302
    session = only_session()
    before = session.vitals[0]
    assert (before["phase"], before["bp_systolic"], before["bp_diastolic"]) == ("before", 131, 83)
    assert session.infusion_started_at.strftime("%H:%M") == "09:00"
    assert session.lot_number == "KET-2211"
    page = page_text(client.get(f"/treatment/sessions/{session.id}").get_data(as_text=True))
    assert "40 minutes, started 09:00 · lot KET-2211" in page


def test_the_course_page_shows_the_next_appointments_and_the_phone(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    first = next_weekday(0)
    days = [first + timedelta(days=n) for n in (0, 2, 4, 7)]
    book(referral, world.coordinator, days)
    db.session.commit()
    client = clinician_client(app, world)
    page = page_text(
        client.get(f"/treatment/referrals/{referral.id}/course").get_data(as_text=True)
    )
    assert "Next appointments and the safety call" in page
    for day in days[:3]:
        assert day.isoformat() in page
    assert days[3].isoformat() not in page.split("safety call")[1].split("Patient's phone")[0]
    assert "Patient's phone for the safety call: 555-0100" in page
    assert clinic_today() <= first
