"""A coordinator's decision on a referral a colleague changed meanwhile: refused, naming the
colleague who made the last change and when (on the clinic's clock), even when that change
left no timeline event (a reassignment), and even when the race is lost at the very moment
of writing."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import func, select

from portal.clock import local_time
from portal.extensions import db
from portal.referrals import service
from portal.referrals.models import Referral, ReferralEvent
from portal.roles import Role
from tests.conftest import csrf_token, signed_in
from tests.factories import create_referral, create_user

VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
ERROR = re.compile(r'<div class="flash flash-error"[^>]*>(.*?)</div>', re.S)
CHANGED_BY = re.compile(r"changed by (.+?) at (\d{4}-\d\d-\d\d \d\d:\d\d) while")


def _version(client, path: str) -> str:
    return VERSION.search(client.get(path).get_data(as_text=True)).group(1)


def _error(html: str) -> str:
    """The one error message on the page (not the rest of the page, which names everyone)."""
    (message,) = ERROR.findall(html)
    return html_lib.unescape(message)


def _reassign(client, referral, to, version: str):
    response = client.post(
        f"/triage/{referral.id}/assign",
        data={
            "version": version,
            "coordinator_id": to.id,
            "back": "screening",
            "csrf_token": csrf_token(client, "/"),
        },
    )
    assert response.status_code == 302


def _decision(world, referral, decision: str) -> tuple[str, str, dict]:
    """Where A reads the referral, where A posts the decision, and what A posts."""
    screening = f"/triage/{referral.id}/screening"
    if decision == "accept":
        path = f"/triage/{referral.id}/accept"
        data = {
            "modality": "iv_ketamine",
            "clinician_id": world.clinician.id,
            "protocol_id": "0",
            "planned_sessions": "6",
            "reason": "Welcome.",
        }
        return path, path, data
    data = {"reason": "Which doses were tried?", "back": "screening"}
    if decision == "declined":
        data["reason_code"] = "trd_not_met"
    return screening, f"/triage/{referral.id}/decide/{decision}", data


@pytest.fixture
def setting(app, world, monkeypatch):
    """A referral opened by coordinator A (so the last timeline event is A's), a third
    coordinator to reassign it to, and the clinic on a clock other than UTC."""
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/Los_Angeles")
    third = create_user(
        Role.COORDINATOR, clinic_id=world.clinic.id, credentials="", full_name="Tamsin Third"
    )
    referral = create_referral(world.referrer)
    db.session.commit()
    a, b = signed_in(app, world.coordinator), signed_in(app, world.coordinator2)
    screening = f"/triage/{referral.id}/screening"
    a.post(
        f"/triage/{referral.id}/open",
        data={"version": _version(a, screening), "csrf_token": csrf_token(a, "/")},
    )
    return referral, a, b, third


def _stored(referral_id: int):
    db.session.expire_all()
    referral = db.session.get(Referral, referral_id)
    events = db.session.scalar(
        select(func.count(ReferralEvent.id)).where(ReferralEvent.referral_id == referral_id)
    )
    return referral, events


@pytest.mark.parametrize("decision", ["accept", "declined", "needs_info"])
def test_a_decision_after_a_colleague_reassigned_names_the_colleague_and_the_time(
    app, world, setting, decision
):
    referral, a, b, third = setting
    form_path, path, data = _decision(world, referral, decision)
    seen_by_a = _version(a, form_path)  # A reads the referral...
    _reassign(b, referral, third, _version(b, f"/triage/{referral.id}/screening"))  # ...B acts
    before, events_before = _stored(referral.id)
    assert before.updated_by_id == world.coordinator2.id
    expected_when = local_time(before.updated_at)
    assert expected_when != f"{before.updated_at:%Y-%m-%d %H:%M}"  # the clinic's clock, not UTC

    response = a.post(
        path,
        data={**data, "version": seen_by_a, "csrf_token": csrf_token(a, "/")},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    message = _error(page)
    who, when = CHANGED_BY.search(message).groups()
    assert who == world.coordinator2.display_name  # B, who reassigned: not A, who opened it
    assert world.coordinator.full_name not in message
    assert when == expected_when
    assert "It is now in review; nothing was saved." in message
    # The page shows the referral as it is now, and nothing of A's decision was stored.
    assert 'class="badge badge-in_review"' in page
    if decision != "accept":  # back to the screening page, which names the coordinator
        assert response.request.path == form_path
        assert "<dt>Coordinator</dt><dd>Tamsin Third</dd>" in page
        assert "Which doses were tried?" not in page
    after, events_after = _stored(referral.id)
    assert (after.state, after.version, events_after) == (
        "in_review",
        before.version,
        events_before,
    )
    assert (after.assigned_coordinator_id, after.updated_by_id) == (third.id, world.coordinator2.id)
    assert after.course is None
    assert after.first_decided_at is None


def test_a_race_lost_at_the_moment_of_writing_names_the_winner_after_the_rollback(
    app, world, setting, monkeypatch
):
    """B's reassignment commits between A's version check and A's write: A's UPDATE finds
    no row of the version it read (StaleDataError); A is told who won and when."""
    referral, a, b, third = setting
    screening = f"/triage/{referral.id}/screening"
    seen_by_a = _version(a, screening)
    seen_by_b = _version(b, screening)
    token_b = csrf_token(b, "/")
    check = service.refuse_if_stale

    def colleague_writes_meanwhile(referral, **kwargs):
        check(referral, **kwargs)  # A's copy is current when A checks...
        monkeypatch.setattr(service, "refuse_if_stale", check)
        response = b.post(  # ...then B's request commits before A writes
            f"/triage/{referral.id}/assign",
            data={"version": seen_by_b, "coordinator_id": third.id, "csrf_token": token_b},
        )
        assert response.status_code == 302

    monkeypatch.setattr(service, "refuse_if_stale", colleague_writes_meanwhile)
    response = a.post(
        f"/triage/{referral.id}/decide/declined",
        data={
            "version": seen_by_a,
            "reason_code": "trd_not_met",
            "reason": "One trial only.",
            "back": "screening",
            "csrf_token": csrf_token(a, "/"),
        },
        follow_redirects=True,
    )
    assert service.refuse_if_stale is check  # B's request really ran in between
    page = response.get_data(as_text=True)
    message = _error(page)
    stored, _ = _stored(referral.id)
    who, when = CHANGED_BY.search(message).groups()
    assert who == world.coordinator2.display_name
    assert when == local_time(stored.updated_at)
    assert "It is now in review; nothing was saved." in message
    assert (stored.state, stored.assigned_coordinator_id) == ("in_review", third.id)
    assert "<dt>Coordinator</dt><dd>Tamsin Third</dd>" in page
