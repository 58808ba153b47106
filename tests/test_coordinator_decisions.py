"""Screening, decisions, and the conflict when two coordinators act on the same referral."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.clock import local_time
from portal.extensions import db
from portal.referrals.models import Referral, ReferralEvent
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral

VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


def _staff(app, user):
    client = app.test_client()
    force_login(client, user)
    return client


def _open(client, referral) -> None:
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    client.post(
        f"/triage/{referral.id}/open",
        data={"version": VERSION.search(page).group(1), "csrf_token": csrf_token(client, "/")},
    )


def test_second_coordinator_is_told_who_changed_it_and_when(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    first, second = _staff(app, world.coordinator), _staff(app, world.coordinator2)
    _open(first, referral)
    path = f"/triage/{referral.id}/screening"
    seen_by_first = VERSION.search(first.get(path).get_data(as_text=True)).group(1)
    seen_by_second = VERSION.search(second.get(path).get_data(as_text=True)).group(1)
    first.post(
        f"/triage/{referral.id}/decide/declined",
        data={
            "version": seen_by_first,
            "reason_code": "trd_not_met",
            "reason": "Only one antidepressant trial so far.",
            "back": "screening",
            "csrf_token": csrf_token(first, "/"),
        },
    )
    response = second.post(
        f"/triage/{referral.id}/decide/needs_info",
        data={
            "version": seen_by_second,
            "reason": "Which doses?",
            "back": "screening",
            "csrf_token": csrf_token(second, "/"),
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    (message,) = re.findall(r'<div class="flash flash-error"[^>]*>(.*?)</div>', html, re.S)
    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    # The first coordinator's name is on the page anyway (assigned, in the list): read the
    # message itself.
    assert (
        f"changed by {world.coordinator.full_name} at {local_time(stored.updated_at)} " in message
    )
    assert world.coordinator2.full_name not in message
    assert "It is now declined; nothing was saved" in message
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "declined"
    last = db.session.scalars(select(ReferralEvent).order_by(ReferralEvent.id.desc())).first()
    assert last.reason.startswith("Does not meet the treatment-resistant depression criteria yet.")


def test_screening_shows_flags_trd_bp_and_notes_that_the_referrer_never_sees(app, world):
    referral = create_referral(world.referrer)
    referral.screening_flags = [
        {"code": "bp_high", "label": "Office BP above 140/90", "answer": "152/96 mmHg"},
        {"code": "psychosis", "label": "Active psychosis or mania", "answer": "Yes"},
    ]
    referral.trd_met = False
    db.session.commit()
    staff = _staff(app, world.coordinator)
    _open(staff, referral)
    path = f"/triage/{referral.id}/screening"
    html = staff.get(path).get_data(as_text=True)
    assert "Active psychosis or mania" in html
    assert "Answer: Yes" in html
    assert "<strong>Office BP above 140/90</strong> · 152/96 mmHg" in html
    assert "Does not meet the common TRD definition" in html
    assert "Assigned coordinator" in html
    note = "Called the practice; records coming by fax."
    staff.post(
        f"/triage/{referral.id}/notes",
        data={"body": note, "csrf_token": csrf_token(staff, path)},
    )
    review_version = re.search(
        r'id="checklist-h".*?name="version"[^>]*value="(\d+)"',
        staff.get(path).get_data(as_text=True),
        re.S,
    ).group(1)
    staff.post(
        f"/triage/{referral.id}/checklist",
        data={
            "version": review_version,
            "checked": ["identity", "blood_pressure"],
            "csrf_token": csrf_token(staff, path),
        },
    )
    html = staff.get(path).get_data(as_text=True)
    assert note in html
    assert "2 of 9 ticked" in html
    referrer = _staff(app, world.referrer)
    assert note not in referrer.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert referrer.get(path).status_code == 404


def test_stale_checklist_is_refused_with_who_saved_it(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    first, second = _staff(app, world.coordinator), _staff(app, world.coordinator2)
    path = f"/triage/{referral.id}/checklist"
    for client, checked in ((first, ["identity"]), (second, ["trd"])):
        response = client.post(
            path,
            data={"version": "0", "checked": checked, "csrf_token": csrf_token(client, "/")},
            follow_redirects=True,
        )
    html = response.get_data(as_text=True)
    assert "The checklist was changed by" in html
    assert world.coordinator.full_name in html


def test_reassign_to_another_coordinator(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    staff = _staff(app, world.coordinator)
    _open(staff, referral)
    db.session.expire_all()
    version = db.session.get(Referral, referral.id).version
    response = staff.post(
        f"/triage/{referral.id}/assign",
        data={
            "version": version,
            "coordinator_id": world.coordinator2.id,
            "csrf_token": csrf_token(staff, "/"),
        },
        follow_redirects=True,
    )
    assert "is assigned to Second Coordinator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).assigned_coordinator_id == world.coordinator2.id


def test_a_referrer_gets_404_on_every_coordinator_page(app, world):
    """Every triage and scheduling route, with the referrer's own referral: 404, never 403."""
    from flask import url_for

    from tests.factories import accepted_referral, book, next_weekday

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    (appointment,) = book(referral, world.coordinator, [next_weekday(0)])
    db.session.commit()
    values = {
        "referral_id": referral.id,
        "appointment_id": appointment.id,
        "decision": "declined",
        "protocol_id": 1,
        "closed_id": 1,
        "clinician_id": world.clinician.id,
    }
    client = _staff(app, world.referrer)
    token = csrf_token(client, "/")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("triage.", "scheduling.")):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (rule.endpoint, method)
            assert "Testpatient" not in response.get_data(as_text=True)
            checked += 1
    assert checked >= 25


def test_screening_says_when_there_is_nothing_to_screen_and_when_nothing_was_flagged(app, world):
    bare = create_referral(world.referrer)
    bare.intake, bare.screening_flags, bare.trd_met = {}, [], None  # e.g. an imported referral
    clean = create_referral(world.referrer, first_name="Clara")
    clean.intake = {"vitals": {"bp": "118/76"}}
    clean.trd_met = True
    db.session.commit()
    staff = _staff(app, world.coordinator)
    html = staff.get(f"/triage/{bare.id}/screening").get_data(as_text=True)
    assert "has no screening answers" in html
    assert "Not assessed" in html
    html = staff.get(f"/triage/{clean.id}/screening").get_data(as_text=True)
    assert "No screening flag was raised" in html
    assert "No blood-pressure flag" in html
