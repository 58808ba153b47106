"""The queue opens on "Needs action": new referrals, answers, first decisions overdue or due by
the next business day, and open referrals nobody is assigned; scheduled and in-treatment
referrals have their own tabs. Selected rows are assigned in one go."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from portal.clock import clinic_today
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.service import change_state
from portal.referrals.states import AWAITING_DECISION, OPEN, State
from portal.triage.service import open_for_review
from portal.triage.sla import add_business_days, due_on
from tests.conftest import page_text, signed_in
from tests.factories import accepted_referral, create_referral, create_user, document_sessions
from tests.factories.scheduling import book, next_weekday

ROW = re.compile(r'(?:<a href="/triage/(\d+)/screening">|form="open-(\d+)"[^>]*>)KR-')


def rows(html: str) -> set[int]:
    return {int(a or b) for a, b in ROW.findall(html)}


def test_needs_action_is_the_default_and_leaves_out_work_in_hand(app, world):
    new = create_referral(world.referrer, first_name="New")
    in_hand = create_referral(world.referrer, first_name="Hand")
    open_for_review(in_hand, actor=world.coordinator, expected_version=in_hand.version)
    answered = create_referral(world.referrer, first_name="Answered")
    open_for_review(answered, actor=world.coordinator, expected_version=answered.version)
    change_state(
        answered,
        State.NEEDS_INFO,
        actor=world.coordinator,
        expected_version=answered.version,
        reason="Doses?",
    )
    change_state(
        answered,
        State.IN_REVIEW,
        actor=world.referrer,
        expected_version=answered.version,
        reason="Sertraline 150 mg.",
    )
    orphan = create_referral(world.referrer, first_name="Orphan")
    open_for_review(orphan, actor=world.coordinator, expected_version=orphan.version)
    orphan.assigned_coordinator_id = None
    scheduled = accepted_referral(world.referrer, world.coordinator, world.clinician)
    book(scheduled, world.coordinator, [next_weekday(0)])
    treating = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(treating, world.clinician, 1)
    db.session.commit()
    assert db.session.get(Referral, scheduled.id).state == State.SCHEDULED
    assert db.session.get(Referral, treating.id).state == State.IN_TREATMENT

    coordinator = signed_in(app, world.coordinator)
    html = coordinator.get("/triage/").get_data(as_text=True)
    assert re.search(r'aria-current="page">Needs action <span class="count">3</span>', html)
    assert rows(html) == {new.id, answered.id, orphan.id}
    assert "Scheduled and in-treatment referrals are under their own tabs" in page_text(html)
    assert rows(coordinator.get("/triage/?state=scheduled").get_data(as_text=True)) == {
        scheduled.id
    }
    assert rows(coordinator.get("/triage/?state=in_treatment").get_data(as_text=True)) == {
        treating.id
    }
    assert in_hand.id in rows(coordinator.get("/triage/?state=open").get_data(as_text=True))

    # The referral in hand, sent on the day whose first decision is due by the next business
    # day (routine: 5 business days), needs action; the day after, not yet.
    today = clinic_today()
    sent = today
    while due_on(sent, 5) > add_business_days(today, 1):
        sent -= timedelta(days=1)
    for day, expected in ((sent, True), (sent + timedelta(days=1), False)):
        if due_on(day, 5) <= add_business_days(today, 1):
            continue  # a weekend between: that day is due as soon
        in_hand.submitted_at = datetime.combine(day, time(12), tzinfo=UTC)
        db.session.commit()
        assert (in_hand.id in rows(coordinator.get("/triage/").get_data(as_text=True))) is expected


def test_selected_rows_are_assigned_in_one_go(app, world):
    colleague = create_user("coordinator", clinic=world.clinic, full_name="Kim Colleague")
    first = create_referral(world.referrer, first_name="One")
    second = create_referral(world.referrer, first_name="Two")
    third = create_referral(world.referrer, first_name="Three")
    db.session.commit()
    coordinator = signed_in(app, world.coordinator)
    html = coordinator.get("/triage/").get_data(as_text=True)
    assert "Assign selected" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    versions = dict(re.findall(r'name="v(\d+)" value="(\d+)"', html))
    response = coordinator.post(
        "/triage/assign-selected",
        data={
            "csrf_token": token,
            "coordinator_id": str(colleague.id),
            "referral_ids": [str(first.id), str(third.id)],
            f"v{first.id}": versions[str(first.id)],
            f"v{third.id}": versions[str(third.id)],
            "back": "/triage/",
        },
        follow_redirects=True,
    )
    text = page_text(response.get_data(as_text=True))
    assert f"2 referrals assigned to {colleague.display_name}." in text
    db.session.expire_all()
    assigned = {r.id: r.assigned_coordinator_id for r in db.session.query(Referral)}
    assert assigned == {first.id: colleague.id, second.id: None, third.id: colleague.id}
    # A row changed since the page was shown is left, and said so.
    stale = coordinator.post(
        "/triage/assign-selected",
        data={
            "csrf_token": token,
            "coordinator_id": str(world.coordinator.id),
            "referral_ids": [str(first.id)],
            f"v{first.id}": versions[str(first.id)],
        },
        follow_redirects=True,
    )
    assert "1 changed meanwhile and was left: reload." in page_text(stale.get_data(as_text=True))
    assert db.session.get(Referral, first.id).assigned_coordinator_id == colleague.id


def test_every_state_that_can_need_action_is_open(app):
    from portal.triage.queue import BEFORE_SCHEDULING

    # The needs-action tab's page is read through the open queue's index (portal/triage/queue.py).
    assert {State.SUBMITTED, State.IN_REVIEW, *AWAITING_DECISION, *BEFORE_SCHEDULING} <= set(OPEN)
