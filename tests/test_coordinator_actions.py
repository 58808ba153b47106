"""A coordinator's actions through the real pages and routes: what the user sees afterwards
and what is stored. The queue's status filter, the service levels an admin sets, opening
for review, asking a question, cancelling, and accepting with a protocol."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.extensions import db
from portal.referrals.models import Referral, ReferralEvent
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.scheduling.generation import parse_phases, session_count
from portal.scheduling.models import ClinicSchedule
from portal.triage.service import open_for_review
from tests.conftest import csrf_token, signed_in
from tests.factories import accepted_referral, create_referral, protocol
from tests.factories.scheduling import settings_payload

ROW = re.compile(r'(?:<a href="/triage/(\d+)/screening">|form="open-(\d+)"[^>]*>)KR-')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
FLASH = re.compile(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', re.S)


def rows(html: str) -> list[int]:
    return [int(a or b) for a, b in ROW.findall(html)]


def flashes(html: str, category: str) -> list[str]:
    return [unescape(text) for kind, text in FLASH.findall(html) if kind == category]


def version_on(client, path: str) -> str:
    return VERSION.search(client.get(path).get_data(as_text=True)).group(1)


def stored(referral_id: int) -> tuple[Referral, list[ReferralEvent]]:
    db.session.expire_all()
    referral = db.session.get(Referral, referral_id)
    events = db.session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(ReferralEvent.id)
    ).all()
    return referral, list(events)


@pytest.fixture
def coordinator(app, world):
    return signed_in(app, world.coordinator)


# The queue's status filter.


def test_the_status_filter_shows_only_referrals_in_that_state(coordinator, world):
    submitted = create_referral(world.referrer, first_name="Sub")
    reviewing = create_referral(world.referrer, first_name="Rev")
    asked = create_referral(world.referrer, first_name="Ask")
    declined = create_referral(world.referrer, first_name="Dec")
    accepted = accepted_referral(world.referrer, world.coordinator, world.clinician)
    for referral in (reviewing, asked, declined):
        open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    for referral, target in ((asked, "needs_info"), (declined, "declined")):
        change_state(
            referral, target, actor=world.coordinator, expected_version=referral.version, reason="x"
        )
    db.session.commit()

    expected = {
        "submitted": [submitted.id],
        "in_review": [reviewing.id],
        "needs_info": [asked.id],
        "declined": [declined.id],
        "accepted": [accepted.id],
        "completed": [],
    }
    for state, ids in expected.items():
        html = coordinator.get(f"/triage/?state={state}").get_data(as_text=True)
        assert sorted(rows(html)) == ids, state
        # The filter's own link is marked as the current one, with its count.
        current = re.findall(r'aria-current="page">([^<]+) <span class="count">(\d+)<', html)
        assert current == [(State(state).label, str(len(ids)))], state
        if not ids:
            assert "No referrals in this status" in html
    # "Open" leaves out the closed ones (declined, completed, cancelled); "All" has them.
    open_html = coordinator.get("/triage/?state=open").get_data(as_text=True)
    assert declined.id not in rows(open_html)
    assert set(rows(open_html)) == {submitted.id, reviewing.id, asked.id, accepted.id}
    all_html = coordinator.get("/triage/?state=all").get_data(as_text=True)
    assert set(rows(all_html)) == {submitted.id, reviewing.id, asked.id, declined.id, accepted.id}
    assert re.search(r'Declined <span class="count">1</span>', open_html)
    # A state not on the allow-list (a draft is never the clinic's) falls back to the
    # default tab, needs action.
    assert set(rows(coordinator.get("/triage/?state=draft").get_data(as_text=True))) == set(
        rows(coordinator.get("/triage/").get_data(as_text=True))
    )
    # The filter combines with the others and its links keep them.
    html = coordinator.get("/triage/?state=in_review&urgency=urgent").get_data(as_text=True)
    assert rows(html) == []
    assert "state=needs_info&amp;urgency=urgent" in html


# The service levels an admin sets.


def _save_service_levels(admin, urgent: int, routine: int):
    response = admin.post(
        "/scheduling/settings",
        data={
            **settings_payload(),
            "sla_urgent_days": str(urgent),
            "sla_routine_days": str(routine),
            "csrf_token": csrf_token(admin, "/scheduling/settings"),
        },
        follow_redirects=True,
    )
    assert "Scheduling settings saved." in response.get_data(as_text=True)


def test_changing_the_service_levels_changes_which_referrals_are_overdue(app, coordinator, world):
    """Business days: any 7 days in a row hold 5 of them, any 4 at least 2."""
    urgent = create_referral(world.referrer, first_name="Urgent", urgency="urgent")
    old = create_referral(world.referrer, first_name="Old")
    recent = create_referral(world.referrer, first_name="Recent")
    urgent.submitted_at = utcnow() - timedelta(days=5)  # 3 to 5 business days ago
    old.submitted_at = utcnow() - timedelta(days=10)  # 6 to 8
    recent.submitted_at = utcnow() - timedelta(days=4)  # 2 to 4
    db.session.commit()
    admin = signed_in(app, world.admin)

    def overdue() -> set[int]:
        html = coordinator.get("/triage/?overdue=1").get_data(as_text=True)
        return set(rows(html))

    assert overdue() == {urgent.id, old.id}  # the defaults: urgent 2, routine 5
    _save_service_levels(admin, urgent=10, routine=20)
    db.session.expire_all()
    settings = db.session.scalar(
        select(ClinicSchedule).where(ClinicSchedule.clinic_id == world.clinic.id)
    )
    assert (settings.sla_urgent_days, settings.sla_routine_days) == (10, 20)
    assert overdue() == set()
    html = coordinator.get("/triage/").get_data(as_text=True)
    assert "First decision due within 10 business days if urgent, 20 if routine" in html
    assert 'class="overdue"' not in html
    _save_service_levels(admin, urgent=1, routine=1)
    assert overdue() == {urgent.id, old.id, recent.id}
    assert coordinator.get("/triage/").get_data(as_text=True).count('<tr class="overdue">') == 3


# Opening, asking, cancelling.


def test_opening_a_referral_assigns_it_to_the_opener_and_puts_it_in_review(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    second = signed_in(app, world.coordinator2)
    detail = f"/referrals/{referral.id}"
    response = second.post(
        f"/triage/{referral.id}/open",
        data={"version": version_on(second, detail), "csrf_token": csrf_token(second, detail)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.request.path == f"/triage/{referral.id}/screening"
    assert f"Referral {referral.number} is in review and assigned to you." in flashes(
        html, "success"
    )
    assert "<dt>Coordinator</dt><dd>Second Coordinator</dd>" in html
    assert 'class="badge badge-in_review"' in html
    saved, events = stored(referral.id)
    assert (saved.state, saved.assigned_coordinator_id) == ("in_review", world.coordinator2.id)
    assert (events[-1].from_state, events[-1].to_state, events[-1].actor_id) == (
        "submitted",
        "in_review",
        world.coordinator2.id,
    )
    assert saved.first_decided_at is None  # opening is not a decision
    queue = second.get("/triage/?state=in_review").get_data(as_text=True)
    assert rows(queue) == [referral.id]
    assert "Second Coordinator</td>" in queue


def test_a_question_through_the_page_waits_for_the_referrer_who_sees_it(app, coordinator, world):
    referral = create_referral(world.referrer)
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    db.session.commit()
    screening = f"/triage/{referral.id}/screening"
    question = "Which doses of sertraline, and for how many weeks?"
    path = f"/triage/{referral.id}/decide/needs_info"
    empty = coordinator.post(
        path,
        data={
            "version": version_on(coordinator, screening),
            "reason": " ",
            "back": "screening",
            "csrf_token": csrf_token(coordinator, screening),
        },
        follow_redirects=True,
    )
    assert "Write the reason; the referrer will read it." in flashes(
        empty.get_data(as_text=True), "error"
    )
    assert stored(referral.id)[0].state == "in_review"
    response = coordinator.post(
        path,
        data={
            "version": version_on(coordinator, screening),
            "reason": question,
            "back": "screening",
            "csrf_token": csrf_token(coordinator, screening),
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Your question was sent to the referrer." in flashes(html, "success")
    assert 'class="badge badge-needs_info"' in html
    saved, events = stored(referral.id)
    assert saved.state == "needs_info"
    assert saved.first_decided_at is not None  # a question is the clinic's first answer
    assert (events[-1].to_state, events[-1].reason, events[-1].actor_id) == (
        "needs_info",
        question,
        world.coordinator.id,
    )
    referrer = signed_in(app, world.referrer)
    page = referrer.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "<strong>The clinic asked:</strong>" in page
    assert question in page
    assert 'id="reason-answer"' in page  # and can answer it
    dashboard = referrer.get("/referrals/").get_data(as_text=True)
    assert re.search(r'Needs your answer <span class="count">1</span>', dashboard)


def test_a_coordinator_cancels_with_a_reason_both_sides_see(app, coordinator, world):
    referral = create_referral(world.referrer)
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    db.session.commit()
    detail = f"/referrals/{referral.id}"
    path = f"/referrals/{referral.id}/cancel"
    refused = coordinator.post(
        path,
        data={"version": version_on(coordinator, detail), "csrf_token": csrf_token(coordinator)},
        follow_redirects=True,
    )
    assert "Say why the referral is cancelled." in flashes(refused.get_data(as_text=True), "error")
    assert stored(referral.id)[0].state == "in_review"
    reason = "The patient moved out of state and will be treated there."
    response = coordinator.post(
        path,
        data={
            "version": version_on(coordinator, detail),
            "reason": reason,
            "csrf_token": csrf_token(coordinator),
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert f"Referral {referral.number} is cancelled; the other side sees why." in flashes(
        html, "success"
    )
    assert 'class="badge badge-cancelled"' in html
    saved, events = stored(referral.id)
    assert saved.state == "cancelled"
    assert (events[-1].from_state, events[-1].to_state, events[-1].reason) == (
        "in_review",
        "cancelled",
        reason,
    )
    assert events[-1].actor_id == world.coordinator.id
    assert reason in signed_in(app, world.referrer).get(detail).get_data(as_text=True)
    assert referral.id not in rows(coordinator.get("/triage/").get_data(as_text=True))
    assert rows(coordinator.get("/triage/?state=cancelled").get_data(as_text=True)) == [referral.id]


# Accepting with a protocol.


def _accept(client, referral, **fields):
    path = f"/triage/{referral.id}/accept"
    return client.post(
        path,
        data={
            "version": version_on(client, path),
            "modality": "iv_ketamine",
            "planned_sessions": "",
            "reason": "Welcome to the clinic.",
            **fields,
            "csrf_token": csrf_token(client, path),
        },
    )


def test_accepting_with_a_protocol_through_the_page(app, coordinator, world):
    referral = create_referral(world.referrer)
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    taper, induction = protocol("iv_taper"), protocol("iv_induction")
    db.session.commit()
    page = coordinator.get(f"/triage/{referral.id}/accept").get_data(as_text=True)
    assert re.search(
        rf'<option selected value="{induction.id}">|value="{induction.id}" selected', page
    )
    response = _accept(
        coordinator, referral, clinician_id=str(world.clinician.id), protocol_id=str(taper.id)
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/scheduling/referrals/{referral.id}")
    html = coordinator.get(response.location).get_data(as_text=True)
    assert f"Referral {referral.number} is accepted. Now schedule the series." in flashes(
        html, "success"
    )
    saved, events = stored(referral.id)
    assert (saved.state, saved.protocol_id) == ("accepted", taper.id)
    assert saved.course.modality == "iv_ketamine"
    assert saved.course.clinician_id == world.clinician.id
    assert saved.course.planned_sessions == session_count(parse_phases(taper.phases))
    assert (events[-1].to_state, events[-1].reason) == ("accepted", "Welcome to the clinic.")
    referrer_page = signed_in(app, world.referrer).get(f"/referrals/{referral.id}")
    assert 'class="badge badge-accepted"' in referrer_page.get_data(as_text=True)


def test_a_protocol_for_another_treatment_is_refused_and_nothing_changes(app, coordinator, world):
    referral = create_referral(world.referrer)
    open_for_review(referral, actor=world.coordinator, expected_version=referral.version)
    spravato = protocol("spravato_label")
    db.session.commit()
    before, events_before = stored(referral.id)
    version = before.version
    response = _accept(
        coordinator, referral, clinician_id=str(world.clinician.id), protocol_id=str(spravato.id)
    )
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert (
        "The protocol “SPRAVATO per the label” is not for this treatment: choose one for "
        "IV ketamine infusion, or a custom plan." in html
    )
    assert 'aria-invalid="true"' in html  # on the protocol field, with the form kept
    saved, events = stored(referral.id)
    assert (saved.state, saved.protocol_id, saved.version) == ("in_review", None, version)
    assert saved.course is None
    assert saved.first_decided_at is None
    assert len(events) == len(events_before)
    assert (
        db.session.scalar(
            select(func.count(ReferralEvent.id)).where(ReferralEvent.to_state == "accepted")
        )
        == 0
    )
    # The custom plan fits any treatment.
    response = _accept(
        coordinator,
        referral,
        clinician_id=str(world.clinician.id),
        protocol_id=str(protocol("custom").id),
        planned_sessions="4",
    )
    assert response.status_code == 302
    saved, _ = stored(referral.id)
    assert (saved.state, saved.course.planned_sessions) == ("accepted", 4)
