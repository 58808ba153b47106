"""The message thread between referrer and clinic, and what the dashboard marks as new."""

from __future__ import annotations

from portal.extensions import db
from tests.conftest import csrf_token, force_login
from tests.factories import (
    accepted_referral,
    create_referral,
    document_sessions,
    questioned_referral,
    stored_letter,
)


def _client(app, user):
    client = app.test_client()
    force_login(client, user)
    return client


def _post(client, referral_id, body):
    token = csrf_token(client, f"/referrals/{referral_id}")
    return client.post(
        f"/referrals/{referral_id}/messages", data={"csrf_token": token, "body": body}
    )


def test_both_sides_write_and_read_the_thread_escaped(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    referrer, staff = _client(app, world.referrer), _client(app, world.coordinator)
    assert _post(referrer, referral.id, "Is there a <b>waitlist</b>?").status_code == 302
    assert _post(staff, referral.id, "About 2 weeks.\nWe will call.").status_code == 302
    for client in (referrer, staff, _client(app, world.colleague)):
        page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
        assert "Is there a &lt;b&gt;waitlist&lt;/b&gt;?" in page
        assert "About 2 weeks.\nWe will call." in page


def test_an_empty_or_overlong_message_is_refused_and_kept(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = _client(app, world.referrer)
    response = _post(client, referral.id, "x" * 5001)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Keep a message under 5,000 characters." in page
    assert "x" * 5001 in page  # nothing typed is lost
    assert _post(client, referral.id, "   ").status_code == 422


def test_others_get_404_for_the_thread(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    for user in (world.other_referrer, world.other_staff, world.colleague):
        client = _client(app, user)
        assert _post(client, referral.id, "hello").status_code == 404
    page = _client(app, world.other_referrer).get(f"/referrals/{referral.id}")
    assert page.status_code == 404


def test_dashboard_marks_new_question_message_and_letter_until_seen(app, world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    questioned_referral(
        world.referrer, world.coordinator, "Which dose of sertraline?", first_name="Quinn"
    )
    stored_letter(referral, world.clinician)
    db.session.commit()
    _post(_client(app, world.coordinator), referral.id, "Session 2 is booked.")
    referrer = _client(app, world.referrer)
    page = referrer.get("/referrals/").get_data(as_text=True)
    assert page.count('class="new-mark">Letter') == 1
    assert page.count('class="new-mark">Message') == 1
    assert page.count('class="new-mark">Question') == 1
    answer = referrer.get("/referrals/?show=answer").get_data(as_text=True)
    assert "Quinn" in answer
    assert "Alexis" not in answer
    referrer.get(f"/referrals/{referral.id}")  # looking clears its marks
    page = referrer.get("/referrals/").get_data(as_text=True)
    assert 'class="new-mark">Letter' not in page
    assert 'class="new-mark">Message' not in page
    assert page.count('class="new-mark">Question') == 1


def test_name_search_is_posted_never_in_the_url(app, world):
    create_referral(world.referrer, first_name="Harriet", last_name="Vane")
    create_referral(world.referrer, first_name="Peter", last_name="Wimsey")
    db.session.commit()
    client = _client(app, world.referrer)
    token = csrf_token(client, "/referrals/")
    response = client.post("/referrals/", data={"csrf_token": token, "q": "vane", "show": "all"})
    page = response.get_data(as_text=True)
    assert "Harriet Vane" in page
    assert "Peter Wimsey" not in page
    assert "vane" not in response.request.url.lower()
    for term in ("%", "_", "' OR 1=1 --", "\\"):
        page = client.post(
            "/referrals/", data={"csrf_token": token, "q": term, "show": "all"}
        ).get_data(as_text=True)
        assert "No referral matches that name" in page


def test_no_message_on_a_draft_the_clinic_cannot_see(app, world):
    from portal.referrals.intake import draft_for_key

    draft = draft_for_key("", world.referrer)
    db.session.commit()
    client = _client(app, world.referrer)
    token = csrf_token(client, "/referrals/")
    for body in ("hello", ""):
        response = client.post(
            f"/referrals/{draft.id}/messages", data={"csrf_token": token, "body": body}
        )
        assert response.status_code == 404


def test_dashboard_shows_the_next_booked_appointment(app, world):
    from tests.factories import book, next_weekday

    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    first, second = next_weekday(0), next_weekday(2, after=next_weekday(0))
    book(referral, world.coordinator, [first, second])
    db.session.commit()
    page = _client(app, world.referrer).get("/referrals/").get_data(as_text=True)
    assert first.strftime("%a %d %b %Y") in page  # with its time beneath
    assert second.strftime("%a %d %b %Y") not in page
