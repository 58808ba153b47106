"""REMS monitoring forms: the PDF carries every field, the list orders by the 7-day deadline."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import time_machine
from pypdf import PdfReader

from portal.extensions import db
from portal.treatment.signing import sign_session
from tests.conftest import csrf_token, force_login
from tests.factories import spravato_referral, spravato_session


def _signed(world, referral, day):
    session = spravato_session(referral, world.clinician, day)
    sign_session(session, actor=world.clinician, expected_version=referral.version)
    return session


def _staff(app, user):
    client = app.test_client()
    force_login(client, user)
    return client


def test_rems_pdf_has_every_field(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    session = spravato_session(
        referral,
        world.clinician,
        lowest_spo2=None,
        ready_to_leave_at=datetime(2026, 1, 1, 11, 15).time(),
    )
    client = _staff(app, world.clinician)
    db.session.commit()
    page = client.get(f"/treatment/sessions/{session.id}/rems-form.pdf", follow_redirects=True)
    assert "Only a signed SPRAVATO session has a REMS monitoring form." in page.get_data(
        as_text=True
    )
    sign_session(session, actor=world.clinician, expected_version=referral.version)
    db.session.commit()
    response = _staff(app, world.coordinator).get(f"/treatment/sessions/{session.id}/rems-form.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1  # one form, one page
    text = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    for expected in [
        "Alexis Testpatient",
        "1980-05-17",
        "Female",
        "REMS patient enrolment confirmed Yes, enrolled",
        "First treatment Yes",
        "Benzodiazepines Yes",
        "Non-benzodiazepine sedative hypnotics No",
        "Psychostimulants No",
        "Monoamine oxidase inhibitors (MAOIs) No",
        "Opioids No",
        "Monitoring provider Samuel Ortiz",
        "207-555-0100",
        "clinician@example.test",
        "Test Ketamine Clinic",
        "1 Main St, Portland, ME 04101",
        f"Treatment date {session.session_date.isoformat()}",
        "56 mg (2 devices)",
        "Lot number LOT-77",
        "125 minutes",
        "11:15",
        "acceptable range before dosing Yes",
        "acceptable range before leaving Yes",
        "Blood pressure before dosing 128/82 mmHg",
        "about 40 minutes after dosing 138/86 mmHg",
        "before leaving 124/80 mmHg",
        "Sedation No",
        "Dissociation Yes",
        "Respiratory depression (pulse oximetry) No",
        "Serious adverse events No",
    ]:
        assert expected in text, expected


def test_second_form_is_not_a_first_treatment(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    _signed(world, referral, date(2026, 3, 2))
    second = _signed(world, referral, date(2026, 3, 5))
    db.session.commit()
    response = _staff(app, world.clinician).get(f"/treatment/sessions/{second.id}/rems-form.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "First treatment No" in re.sub(r"\s+", " ", text)


def test_list_shows_days_left_overdue_first(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    with time_machine.travel(datetime(2026, 3, 20, 12), tick=False):
        _signed(world, referral, date(2026, 3, 18))  # 5 days left
        _signed(world, referral, date(2026, 3, 10))  # 3 days overdue
        _signed(world, referral, date(2026, 3, 13))  # due today
        _signed(world, referral, date(2026, 3, 12))  # 1 day overdue
        db.session.commit()
        page = _staff(app, world.coordinator).get("/treatment/rems").get_data(as_text=True)
    dues = re.findall(r"(Overdue \d+ days?|Due today|\d+ days? left)", page)
    assert dues == ["Overdue 3 days", "Overdue 1 day", "Due today", "5 days left"]


def test_recording_submission_removes_the_form_from_the_list(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    with time_machine.travel(datetime(2026, 3, 20, 12), tick=False):
        session = _signed(world, referral, date(2026, 3, 18))
        db.session.commit()
        client = _staff(app, world.coordinator)
        token = csrf_token(client, "/treatment/rems")
        future = client.post(
            f"/treatment/sessions/{session.id}/rems-submitted",
            data={"submitted_on": "2026-03-21", "csrf_token": token},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert "cannot be in the future" in future
        done = client.post(
            f"/treatment/sessions/{session.id}/rems-submitted",
            data={"submitted_on": "2026-03-19", "csrf_token": token},
            follow_redirects=True,
        ).get_data(as_text=True)
    assert "recorded as submitted on 2026-03-19" in done
    assert "Every REMS form is submitted." in done
    db.session.expire_all()
    assert session.rems_submitted_on == date(2026, 3, 19)
    assert session.rems_submitted_by_id == world.coordinator.id


def test_unsigned_session_is_listed_without_a_form(app, world):
    referral = spravato_referral(world.referrer, world.coordinator, world.clinician)
    spravato_session(referral, world.clinician)
    db.session.commit()
    page = _staff(app, world.coordinator).get("/treatment/rems").get_data(as_text=True)
    assert "sign the session first" in page
    assert "7 days left" in page
