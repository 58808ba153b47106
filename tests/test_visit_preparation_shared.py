"""Issue 18 item 3: the escort and the pre-visit instructions confirmed on the appointment or
on the session documented from it are the same fact. The instructions are stored once (on the
visit); both are shown and changed from either side."""

from __future__ import annotations

import re
from datetime import time

import pytest

from portal.clock import clinic_today
from portal.db import utcnow
from portal.errors import Conflict
from portal.extensions import db
from portal.scheduling.models import Appointment
from portal.scheduling.service import set_preparation
from portal.treatment.models import TreatmentSession
from tests.conftest import csrf_token, force_login, page_text
from tests.session_helpers import clinician_client, iv_form, page_version
from tests.test_scheduling_times import _accepted, _book, _open_every_day, _start_session_from


def _checked(html: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    return tag is not None and "checked" in tag.group(0)


@pytest.fixture
def visit(app, world):
    _open_every_day(world.clinic.id)
    referral = _accepted(world)
    (booked,) = _book(referral, world, [clinic_today()], preferred=time(8, 0))
    db.session.commit()
    return booked


def _prepare_on_the_schedule(app, world, visit, **checked):
    client = app.test_client()
    force_login(client, world.coordinator)
    page = f"/scheduling/referrals/{visit.referral_id}"
    response = client.post(
        f"/scheduling/appointments/{visit.id}/preparation",
        data={"csrf_token": csrf_token(client, page), "version": str(visit.version), **checked},
    )
    assert response.status_code == 302
    return client, page


def _session_of(visit_id: int) -> tuple[Appointment, TreatmentSession]:
    db.session.expire_all()
    visit = db.session.get(Appointment, visit_id)
    return visit, db.session.get(TreatmentSession, visit.session_id)


def test_instructions_given_on_the_appointment_show_on_the_session(app, world, visit):
    _prepare_on_the_schedule(app, world, visit, escort_confirmed="y", instructions_given="y")
    client = clinician_client(app, world)
    start = f"/treatment/referrals/{visit.referral_id}/sessions/new?appointment={visit.id}"
    form = client.get(start).get_data(as_text=True)
    assert _checked(form, "escort_confirmed")
    assert _checked(form, "instructions_given")
    assert "a change here shows on the schedule too" in page_text(form)
    _, response = _start_session_from(client, visit.referral, visit, instructions_given="y")
    assert response.status_code == 302
    visit, session = _session_of(visit.id)
    assert visit.instructions_given
    assert visit.escort_confirmed
    assert session.escort_confirmed
    shown = page_text(client.get(f"/treatment/sessions/{session.id}").get_data(as_text=True))
    assert "Escort confirmed Yes" in shown
    assert "Pre-visit instructions given Yes" in shown


def test_instructions_given_on_the_session_show_on_the_appointment(app, world, visit):
    client = clinician_client(app, world)
    day = page_text(client.get(f"/scheduling/day?date={visit.day}").get_data(as_text=True))
    assert "Pre-visit instructions not given" in day
    _, response = _start_session_from(client, visit.referral, visit, instructions_given="y")
    assert response.status_code == 302
    visit, session = _session_of(visit.id)
    assert visit.instructions_given
    schedule = client.get(f"/scheduling/referrals/{visit.referral_id}").get_data(as_text=True)
    assert "Escort confirmed · instructions given" in page_text(schedule)
    # Corrected on the session (instructions, then escort, unticked): the visit follows.
    edit = f"/treatment/sessions/{session.id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert _checked(form, "instructions_given")
    data = iv_form(session_date=visit.day.isoformat())
    del data["escort_confirmed"]
    token = csrf_token(client, edit)
    response = client.post(
        edit, data={"version": page_version(client, edit), "csrf_token": token, **data}
    )
    assert response.status_code == 302
    visit, session = _session_of(visit.id)
    assert not visit.instructions_given
    assert not visit.escort_confirmed
    assert not session.escort_confirmed
    schedule = client.get(f"/scheduling/referrals/{visit.referral_id}").get_data(as_text=True)
    assert "Escort not confirmed · instructions not given" in page_text(schedule)
    shown = page_text(client.get(f"/treatment/sessions/{session.id}").get_data(as_text=True))
    assert "Pre-visit instructions given No" in shown


def test_the_appointment_side_changes_the_unsigned_session_never_a_signed_one(app, world, visit):
    client = clinician_client(app, world)
    _, response = _start_session_from(client, visit.referral, visit)
    assert response.status_code == 302
    visit, session = _session_of(visit.id)
    assert session.escort_confirmed  # iv_form ticks it
    set_preparation(
        visit,
        escort_confirmed=False,
        instructions_given=True,
        actor=world.coordinator,
        expected_version=visit.version,
    )
    db.session.commit()
    visit, session = _session_of(visit.id)
    assert not session.escort_confirmed
    assert visit.instructions_given
    session.signed_at = utcnow()  # signed (as the signing page would): the record is final
    session.signed_by_id = world.clinician.id
    db.session.commit()
    with pytest.raises(Conflict, match="signed"):
        set_preparation(
            visit,
            escort_confirmed=True,
            instructions_given=False,
            actor=world.coordinator,
            expected_version=visit.version,
        )
    db.session.rollback()
    visit, session = _session_of(visit.id)
    assert not session.escort_confirmed
    assert visit.instructions_given


def test_a_session_without_a_visit_does_not_offer_the_instructions(app, world):
    referral = _accepted(world)
    db.session.commit()
    client = clinician_client(app, world)
    form = client.get(f"/treatment/referrals/{referral.id}/sessions/new").get_data(as_text=True)
    assert 'name="instructions_given"' not in form
    assert 'name="escort_confirmed"' in form
