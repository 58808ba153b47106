"""Scales entered item by item, safety alerts for PHQ-9 item 9, outcomes and course end."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.referrals.models import ReferralEvent
from portal.scales.scoring import SCALES
from portal.treatment.alerts import open_safety_alert_referral_ids
from portal.treatment.models import Assessment, SafetyAlert
from tests.conftest import csrf_token, force_login
from tests.factories import (
    accepted_referral,
    create_referral,
    document_sessions,
    phq9_with_item9,
)


def _client(app, user):
    client = app.test_client()
    force_login(client, user)
    return client


def _version(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def _post_scale(client, referral_id, code, answers, **extra):
    path = f"/treatment/referrals/{referral_id}/scales/{code}"
    data = {
        "version": _version(client, path),
        "csrf_token": csrf_token(client, path),
        "taken_on": date.today().isoformat(),
        "session_id": "0",
        **{f"item_{n}": str(a) for n, a in enumerate(answers, start=1)},
        **extra,
    }
    return client.post(path, data=data, follow_redirects=True)


@pytest.mark.parametrize("code", list(SCALES))
def test_each_scale_is_entered_item_by_item(app, world, code):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    scale = SCALES[code]
    answers = [scale.item_max] * scale.items
    page = _post_scale(_client(app, world.clinician), referral.id, code, answers)
    text = page.get_data(as_text=True)
    assert f"{code} recorded: {scale.max_total}" in text
    stored = db.session.scalars(
        select(Assessment).where(Assessment.scale == code, Assessment.is_baseline.is_(False))
    ).one()
    assert stored.answers == answers


@pytest.mark.parametrize("code", list(SCALES))
def test_out_of_range_item_is_refused_and_nothing_saved(app, world, code):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    scale = SCALES[code]
    client = _client(app, world.clinician)
    for position in (1, scale.items):
        for bad in ("-1", str(scale.item_max + 1), "x"):
            answers = [0] * scale.items
            answers[position - 1] = bad
            response = _post_scale(client, referral.id, code, answers)
            assert response.status_code == 422
            assert f"The {code} was not saved" in response.get_data(as_text=True)
    recorded = select(Assessment).where(Assessment.scale == code, Assessment.is_baseline.is_(False))
    assert db.session.scalars(recorded).first() is None


def test_missing_item_is_marked(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    response = _post_scale(_client(app, world.clinician), referral.id, "GAD-7", [1] * 6)
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("Choose an answer.") == 1


def test_scale_recorded_with_a_session(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    db.session.commit()
    session_id = referral.course.sessions[0].id
    _post_scale(
        _client(app, world.clinician), referral.id, "MADRS", [1] * 10, session_id=str(session_id)
    )
    stored = db.session.scalars(select(Assessment).where(Assessment.scale == "MADRS")).one()
    assert stored.session_id == session_id


def test_baseline_item9_raises_an_alert_shown_until_reviewed(app, world):
    referral = create_referral(world.referrer, phq9_answers=[1] * 8 + [2])
    other = create_referral(world.referrer)
    db.session.commit()
    assert open_safety_alert_referral_ids(world.clinic.id) == {referral.id}
    assert open_safety_alert_referral_ids(world.other_clinic.id) == set()
    coordinator = _client(app, world.coordinator)
    page = coordinator.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Safety alert: PHQ-9 item 9 answered 2" in page
    assert "A clinician records the review." in page
    assert "Safety alert" not in coordinator.get(f"/referrals/{other.id}").get_data(as_text=True)
    referrer_page = _client(app, world.referrer).get(f"/referrals/{referral.id}")
    assert "Safety alert" not in referrer_page.get_data(as_text=True)

    clinician = _client(app, world.clinician)
    assert "Safety alerts awaiting your review (1)" in clinician.get("/treatment/").get_data(
        as_text=True
    )
    alert = db.session.scalars(select(SafetyAlert)).one()
    token = csrf_token(clinician, "/")
    empty = clinician.post(
        f"/treatment/alerts/{alert.id}/review",
        data={"note": "", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Write what was done" in empty.get_data(as_text=True)
    done = clinician.post(
        f"/treatment/alerts/{alert.id}/review",
        data={"note": "Called the patient; safety plan in place.", "csrf_token": token},
        follow_redirects=True,
    )
    assert "recorded as reviewed" in done.get_data(as_text=True)
    assert open_safety_alert_referral_ids(world.clinic.id) == set()
    db.session.expire_all()
    alert = db.session.get(SafetyAlert, alert.id)
    assert alert.reviewed_by_id == world.clinician.id
    assert alert.review_note.startswith("Called the patient")
    assert "Safety alerts awaiting" not in clinician.get("/treatment/").get_data(as_text=True)


def test_coordinator_cannot_review_an_alert(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    alert = phq9_with_item9(referral, world.clinician)
    db.session.commit()
    client = _client(app, world.coordinator)
    response = client.post(
        f"/treatment/alerts/{alert.id}/review",
        data={"note": "seen", "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 404


def test_session_phq9_with_item9_raises_alert(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1, phq9=[[1, 1, 1, 1, 1, 1, 0, 0, 1]])
    db.session.commit()
    assert open_safety_alert_referral_ids(world.clinic.id) == {referral.id}
    page = _client(app, world.clinician).get(f"/treatment/referrals/{referral.id}/course")
    assert "Record that it was reviewed" in page.get_data(as_text=True)


def _outcome_rows(page: str) -> dict[str, str]:
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\">([^<]+)</td>(.*?)</tr>", page, re.S)
    return {code: " ".join(re.sub(r"<[^>]+>", " ", rest).split()) for code, rest in rows}


def test_outcomes_show_response_and_remission(app, world):
    # Baseline PHQ-9 16 (factory); latest 4: a 75% drop, remission (below 5).
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(
        referral,
        world.clinician,
        2,
        phq9=[[2, 2, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0]],
    )
    db.session.commit()
    client = _client(app, world.clinician)
    _post_scale(
        client, referral.id, "MADRS", [3] * 10, taken_on=(date.today() - timedelta(9)).isoformat()
    )
    _post_scale(client, referral.id, "MADRS", [2] * 5 + [0] * 5)
    page = client.get(f"/treatment/referrals/{referral.id}/course").get_data(as_text=True)
    rows = _outcome_rows(page)
    assert "-12 points (-75%) Yes Yes" in rows["PHQ-9"]
    assert "first recorded" in rows["MADRS"]
    assert "-20 points (-67%) Yes Yes" in rows["MADRS"]  # 30 -> 10: remission at 10 or below
    assert "2 of 6 planned sessions done" in page
    assert page.count("<svg") == 2
    assert "moderately severe (15-19)" in page

    referrer = _client(app, world.referrer).get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Treatment outcomes" in referrer
    assert "-12 points (-75%) Yes Yes" in _outcome_rows(referrer)["PHQ-9"]
    assert "Open the course record" not in referrer


def test_no_response_below_half(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1, phq9=[[1, 1, 1, 1, 1, 1, 1, 1, 0]])
    db.session.commit()
    page = _client(app, world.clinician).get(f"/treatment/referrals/{referral.id}/course")
    assert "-8 points (-50%) Yes No" in _outcome_rows(page.get_data(as_text=True))["PHQ-9"]
    document_sessions(referral, world.clinician, 1, phq9=[[2, 1, 1, 1, 1, 1, 1, 1, 0]])
    db.session.commit()
    page = _client(app, world.clinician).get(f"/treatment/referrals/{referral.id}/course")
    assert "-7 points (-44%) No No" in _outcome_rows(page.get_data(as_text=True))["PHQ-9"]


def test_end_course_early_cancels_with_reason(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    db.session.commit()
    client = _client(app, world.clinician)
    path = f"/treatment/referrals/{referral.id}/course"
    version = _version(client, path)
    token = csrf_token(client, path)
    refused = client.post(
        f"/treatment/referrals/{referral.id}/end-early",
        data={"version": version, "reason": "", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Give the reason." in refused.get_data(as_text=True)
    client.post(
        f"/treatment/referrals/{referral.id}/end-early",
        data={
            "version": version,
            "reason": "Persistent vomiting despite ondansetron.",
            "csrf_token": token,
        },
    )
    page = _client(app, world.referrer).get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Cancelled" in page
    assert "Course ended early by the clinic after 2 of 6 sessions: Persistent vomiting" in page
    db.session.expire_all()
    event = db.session.scalars(select(ReferralEvent).order_by(ReferralEvent.id.desc())).first()
    assert (event.to_state, event.actor_id) == ("cancelled", world.clinician.id)
    assert referral.course.ended_on == date.today()


def test_course_page_costs_the_same_queries_for_more_sessions(app, world):
    from sqlalchemy import event

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    db.session.commit()
    client = _client(app, world.clinician)
    path = f"/treatment/referrals/{referral.id}/course"

    def count() -> int:
        statements = []

        def seen(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return len(statements)

    one = count()
    document_sessions(referral, world.clinician, 3, start=date.today() - timedelta(days=20))
    db.session.commit()
    assert count() == one
