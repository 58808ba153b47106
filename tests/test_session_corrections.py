"""Correcting an unsigned session: a CADSS-6 not yet recorded is asked for as when the session
was first documented; one already recorded is kept. A signed session takes no scale."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.scales.scoring import InvalidAnswers
from portal.treatment.assessments import add_assessment
from portal.treatment.errors import AlreadyRecorded
from portal.treatment.models import Assessment
from portal.treatment.service import SessionRecord, update_session
from portal.treatment.signing import sign_session
from tests.conftest import csrf_token
from tests.factories import accepted_referral, document_sessions
from tests.session_helpers import (
    all_sessions,
    checked,
    clinician_client,
    iv_form,
    only_session,
    page_version,
    post_edit,
    post_session,
)

CADSS_12 = {f"cadss_{n}": "2" for n in range(1, 7)}


def radio_group(page: str, name: str) -> str:
    """The HTML of the radio group whose inputs are named `name`."""
    groups = [g.split("</fieldset>")[0] for g in page.split('<fieldset class="radio-group')]
    (group,) = [g for g in groups if f'name="{name}"' in g]
    return group


def _documented_iv_session(app, world, **overrides):
    """A clinician's client and an IV session documented without dissociation or CADSS-6."""
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = clinician_client(app, world)
    assert post_session(client, referral.id, iv_form(**overrides)).status_code == 302
    return client, only_session()


def _cadss6() -> list[Assessment]:
    db.session.expire_all()
    return db.session.scalars(select(Assessment).where(Assessment.scale == "CADSS-6")).all()


def test_edit_asks_for_cadss6_when_the_session_has_none(app, world):
    client, session = _documented_iv_session(app, world)
    page = client.get(f"/treatment/sessions/{session.id}/edit").get_data(as_text=True)
    assert "CADSS-6 (required when dissociation is ticked)" in page
    assert 'name="cadss_6"' in page
    assert 'name="phq9_1"' not in page  # PHQ-9 is not asked when editing


def test_edit_ticking_dissociation_without_cadss6_is_refused_and_keeps_input(app, world):
    client, session = _documented_iv_session(app, world, notes="Calm infusion.")
    form = iv_form(
        adverse_events=["dissociation"], weight_kg="82", notes="Felt detached at 20 min."
    )
    response = post_edit(client, session.id, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The session was not saved" in page
    for n in range(1, 7):  # the error is shown at each CADSS-6 item
        group = radio_group(page, f"cadss_{n}")
        assert "has-error" in group
        assert "Dissociation needs a CADSS-6 score." in group
    assert 'value="82"' in page  # what was typed stays
    assert "Felt detached at 20 min." in page
    assert checked(page, "adverse_events", "dissociation")
    stored = only_session()  # nothing saved
    assert (stored.weight_kg, stored.adverse_events, stored.notes) == (80, [], "Calm infusion.")
    assert _cadss6() == []
    edits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session.edit"))
    assert edits.first() is None


def test_edit_with_partial_cadss6_answers_is_refused(app, world):
    client, session = _documented_iv_session(app, world)
    response = post_edit(client, session.id, iv_form(cadss_1="3", cadss_2="1"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Answer all six CADSS-6 items." in radio_group(page, "cadss_3")
    assert "Answer all six CADSS-6 items." not in radio_group(page, "cadss_1")
    assert checked(page, "cadss_1", "3")  # the answers given stay
    assert not checked(page, "cadss_1", "2")
    assert _cadss6() == []


def test_edit_adds_the_cadss6_and_the_session_page_shows_its_total(app, world):
    client, session = _documented_iv_session(app, world)
    form = iv_form(adverse_events=["dissociation"], **CADSS_12)
    response = post_edit(client, session.id, form)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "The session is updated." in page
    assert "CADSS-6 12" in page
    (cadss,) = _cadss6()
    assert (cadss.session_id, cadss.total, cadss.answers) == (session.id, 12, [2] * 6)
    assert cadss.taken_on == only_session().session_date
    assert only_session().adverse_events == ["dissociation"]
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"session.edit", "assessment.create"} <= set(actions)


def test_edit_keeps_a_cadss6_already_recorded(app, world):
    client, session = _documented_iv_session(
        app, world, adverse_events=["dissociation"], **CADSS_12
    )
    path = f"/treatment/sessions/{session.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert "CADSS-6 recorded with this session: total 12." in page
    assert "not edited here" in page
    assert 'name="cadss_1"' not in page
    # Dissociation stays ticked without new answers; answers posted anyway change nothing.
    form = iv_form(adverse_events=["dissociation"], notes="Corrected note.", cadss_1="4")
    response = post_edit(client, session.id, form, follow_redirects=True)
    assert "The session is updated." in response.get_data(as_text=True)
    assert only_session().notes == "Corrected note."
    assert [(a.total, a.answers) for a in _cadss6()] == [(12, [2] * 6)]


def test_correcting_the_session_date_moves_the_scales_taken_with_it(app, world):
    client, session = _documented_iv_session(
        app, world, adverse_events=["dissociation"], **CADSS_12
    )
    earlier = session.session_date - timedelta(days=2)
    form = iv_form(session_date=earlier.isoformat(), adverse_events=["dissociation"])
    assert post_edit(client, session.id, form).status_code == 302
    assert only_session().session_date == earlier
    assert [a.taken_on for a in _cadss6()] == [earlier]


def _stored_as_record(session) -> SessionRecord:
    return SessionRecord(
        session_date=session.session_date,
        modality="iv_ketamine",
        dose_mg=Decimal("35"),
        bp_pre=(120, 80),
        bp_post=(138, 88),
        phq9_answers=None,
        notes="Changed.",
    )


@pytest.mark.parametrize("answers", [[5, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
def test_update_session_scores_cadss6_answers_before_writing_anything(world, answers):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    db.session.commit()
    session, version = only_session(), referral.version
    data = replace(_stored_as_record(session), cadss6_answers=answers)
    with pytest.raises(InvalidAnswers):
        update_session(session, data, actor=world.clinician, expected_version=version)
    assert (session.notes, referral.version) == ("", version)  # nothing was applied
    assert _cadss6() == []


def test_update_session_refuses_a_second_cadss6(world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    db.session.commit()
    session = only_session()
    first = replace(_stored_as_record(session), cadss6_answers=[1] * 6)
    update_session(session, first, actor=world.clinician, expected_version=referral.version)
    db.session.commit()
    second = replace(first, cadss6_answers=[3] * 6, notes="Again.")
    with pytest.raises(AlreadyRecorded, match="already has a CADSS-6"):
        update_session(session, second, actor=world.clinician, expected_version=referral.version)
    assert session.notes == "Changed."
    assert [a.total for a in _cadss6()] == [6]


SIGNED = "That session is signed; record the scale on its own date or in an addendum."


def _course_with_signed_first_session(world):
    """An IV course with two sessions, the first of them signed."""
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    first = referral.course.sessions[0]
    sign_session(first, actor=world.clinician, expected_version=referral.version)
    db.session.commit()
    return referral, referral.course.sessions[0], referral.course.sessions[1]


def _post_madrs(client, referral_id: int, session_id: str):
    path = f"/treatment/referrals/{referral_id}/scales/MADRS"
    version = page_version(client, path)
    data = {f"item_{n}": "1" for n in range(1, 11)}
    return client.post(
        path,
        data={
            **data,
            "version": version,
            "csrf_token": csrf_token(client, path),
            "taken_on": all_sessions()[0].session_date.isoformat(),
            "session_id": session_id,
        },
    )


def test_scale_page_offers_only_unsigned_sessions(app, world):
    referral, signed, unsigned = _course_with_signed_first_session(world)
    client = clinician_client(app, world)
    page = client.get(f"/treatment/referrals/{referral.id}/scales/MADRS").get_data(as_text=True)
    assert f'<option value="{unsigned.id}">Session 2 on' in page
    assert f'<option value="{signed.id}"' not in page
    assert "Session 1 on" not in page
    assert "Only unsigned sessions are listed" in page


def test_scale_naming_a_signed_session_is_refused_and_nothing_stored(app, world):
    referral, signed, _unsigned = _course_with_signed_first_session(world)
    client = clinician_client(app, world)
    response = _post_madrs(client, referral.id, str(signed.id))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The MADRS was not saved" in page
    error = page.split('id="session_id-error"')[1].split("</div>")[0]
    assert SIGNED in error
    assert checked(page, "item_1", "1")  # the answers given stay
    db.session.expire_all()
    assert db.session.scalars(select(Assessment).where(Assessment.scale == "MADRS")).all() == []
    assert [a.scale for a in all_sessions()[0].assessments] == ["PHQ-9"]  # as it was signed


def test_scale_naming_a_session_not_offered_is_refused(app, world):
    referral, _signed, _unsigned = _course_with_signed_first_session(world)
    response = _post_madrs(clinician_client(app, world), referral.id, "999999")
    assert response.status_code == 422
    assert "Choose one of the sessions listed, or none." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Assessment).where(Assessment.scale == "MADRS")).all() == []


def test_scale_with_an_unsigned_session_is_recorded_with_it(app, world):
    referral, _signed, unsigned = _course_with_signed_first_session(world)
    client = clinician_client(app, world)
    response = _post_madrs(client, referral.id, str(unsigned.id))
    assert response.status_code == 302
    stored = db.session.scalars(select(Assessment).where(Assessment.scale == "MADRS")).one()
    assert (stored.session_id, stored.total) == (unsigned.id, 10)


def test_add_assessment_refuses_a_signed_session(world):
    referral, signed, _unsigned = _course_with_signed_first_session(world)
    with pytest.raises(AlreadyRecorded, match="That session is signed"):
        add_assessment(
            referral,
            "GAD-7",
            [1] * 7,
            taken_on=signed.session_date,
            actor=world.clinician,
            session=signed,
        )
    assert [a.scale for a in signed.assessments] == ["PHQ-9"]
