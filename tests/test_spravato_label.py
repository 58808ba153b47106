"""SPRAVATO label indication (DOMAIN.md): adults with major depressive disorder. A request
outside the label, and psychosis or mania for either treatment, raise a screening flag that a
clinician acknowledges with a reason before acceptance: warned, never decided silently."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clock import clinic_today
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.screening import spravato_label_concerns
from portal.referrals.states import State
from portal.triage.models import FlagAcknowledgement
from portal.triage.service import open_for_review
from tests.conftest import csrf_token, page_text, signed_in
from tests.factories import create_referral
from tests.factories.referrals import referral_data


@pytest.mark.parametrize(
    ("code", "born", "expected"),
    [
        ("F33.2", date(1990, 1, 1), []),
        ("F32.1", date(2008, 6, 2), []),  # 18 on 2026-06-02: an adult that day
        ("F32.1", date(2008, 6, 3), ["patient is 17"]),
        ("F31.30", date(1990, 1, 1), ["bipolar depression, not labelled"]),
        ("F31.4", date(1990, 1, 1), ["bipolar depression, not labelled"]),
        ("F41.1", date(1990, 1, 1), ["F41.1 is not major depressive disorder"]),
        ("F53.0", date(1990, 1, 1), ["F53.0 is not major depressive disorder"]),
        ("F31.30", date(2010, 1, 1), ["patient is 16", "bipolar depression"]),
    ],
)
def test_label_concerns(code, born, expected):
    concerns = spravato_label_concerns(code, born, date(2026, 6, 2))
    assert len(concerns) == len(expected)
    for concern, words in zip(concerns, expected, strict=True):
        assert words in concern


def _in_review(world, **overrides):
    referral = create_referral(world.referrer, **overrides)
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    db.session.commit()
    return referral


def _teen() -> date:
    today = clinic_today()
    return date(today.year - 16, 1, 1)


def _accept(client, referral, modality="spravato", **extra):
    path = f"/triage/{referral.id}/accept"
    page = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    clinician = re.search(r'<option (?:selected )?value="(\d+)">Samuel', page).group(1)
    return client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "version": version,
            "modality": modality,
            "clinician_id": clinician,
            "protocol_id": "0",
            **extra,
        },
    )


def test_a_spravato_request_for_a_teenager_with_bipolar_depression_waits_for_a_clinician(
    app, world
):
    referral = _in_review(
        world, requested_modality="spravato", diagnosis_code="F31.30", date_of_birth=_teen()
    )
    coordinator = signed_in(app, world.coordinator)
    screening = page_text(
        coordinator.get(f"/triage/{referral.id}/screening").get_data(as_text=True)
    )
    assert "Outside the SPRAVATO label" in screening
    assert "Patient is 16" in screening
    assert "bipolar depression, not labelled" in screening
    assert "Waiting for a clinician's acknowledgement." in screening
    # The coordinator's acceptance is refused in words, nothing changes.
    refused = _accept(coordinator, referral)
    assert refused.status_code == 422
    text = page_text(refused.get_data(as_text=True))
    assert "A clinician must acknowledge, with a reason, before this referral is accepted" in text
    assert "Not acknowledged yet." in text
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == State.IN_REVIEW

    # A clinician acknowledges on the screening page; a one-word reason is not enough.
    clinician = signed_in(app, world.clinician)
    path = f"/triage/{referral.id}/screening"
    short = clinician.post(
        f"/triage/{referral.id}/acknowledge",
        data={
            "csrf_token": csrf_token(clinician, path),
            "flag": "spravato_off_label",
            "reason": "ok",
        },
        follow_redirects=True,
    )
    assert "Write why you judge it right to go ahead" in page_text(short.get_data(as_text=True))
    reason = "Discussed with the family and the referring psychiatrist; benefit outweighs risk."
    done = clinician.post(
        f"/triage/{referral.id}/acknowledge",
        data={
            "csrf_token": csrf_token(clinician, path),
            "flag": "spravato_off_label",
            "reason": reason,
        },
        follow_redirects=True,
    )
    text = page_text(done.get_data(as_text=True))
    assert "Your acknowledgement is recorded with your reason." in text
    assert f"Acknowledged by {world.clinician.display_name}" in text
    assert reason in text

    accepted = _accept(coordinator, referral)
    assert accepted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == State.ACCEPTED
    actions = db.session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.object_id == referral.id,
            AuditEvent.action.in_(["referral.flag_acknowledge", "referral.accept"]),
        )
    ).all()
    assert "spravato_off_label" in actions
    assert "flags acknowledged: spravato_off_label" in actions


def test_within_the_label_nothing_is_asked(app, world):
    referral = _in_review(world, requested_modality="spravato", diagnosis_code="F33.2")
    coordinator = signed_in(app, world.coordinator)
    page = page_text(coordinator.get(f"/triage/{referral.id}/accept").get_data(as_text=True))
    assert "A clinician's judgement is needed" not in page
    assert _accept(coordinator, referral).status_code == 302


def test_bipolar_accepted_as_iv_ketamine_is_not_a_spravato_label_question(app, world):
    referral = _in_review(world, requested_modality="clinic_choice", diagnosis_code="F31.30")
    coordinator = signed_in(app, world.coordinator)
    page = page_text(coordinator.get(f"/triage/{referral.id}/screening").get_data(as_text=True))
    assert "If SPRAVATO is chosen: outside the SPRAVATO label" in page
    assert _accept(coordinator, referral, modality="spravato").status_code == 422
    assert _accept(coordinator, referral, modality="iv_ketamine").status_code == 302


def test_psychosis_needs_the_acknowledgement_for_iv_ketamine_too(app, world):
    data = referral_data()
    screening = {"psychosis": True, "psychosis_details": "Brief psychotic episode in 2019"}
    referral = create_referral(
        world.referrer,
        intake={"screening": {**dict.fromkeys(_questions(), False), **screening}},
    )
    assert data.requested_modality == "iv_ketamine"
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    db.session.commit()
    clinician = signed_in(app, world.clinician)
    refused = _accept(clinician, referral, modality="iv_ketamine")
    assert refused.status_code == 422
    text = page_text(refused.get_data(as_text=True))
    assert "Psychosis or mania: a clinician must acknowledge it with a reason" in text
    assert "Your reason for going ahead (clinicians)" in text
    reason = "Single episode five years ago, stable since; reviewed with the referrer."
    accepted = _accept(clinician, referral, modality="iv_ketamine", acknowledgement=reason)
    assert accepted.status_code == 302
    row = db.session.scalar(
        select(FlagAcknowledgement).where(FlagAcknowledgement.referral_id == referral.id)
    )
    assert (row.flag_code, row.reason, row.acknowledged_by_id) == (
        "psychosis",
        reason,
        world.clinician.id,
    )


def _questions():
    from portal.referrals.screening import SCREENING_QUESTIONS

    return [key for key, _, _ in SCREENING_QUESTIONS]
