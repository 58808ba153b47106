"""The referral's page for the referrer: answering the clinic's question, and cancelling only
after a confirmation, with a reason."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.referrals.models import Referral, ReferralEvent
from tests.conftest import csrf_token, page_text, signed_in
from tests.factories import create_referral, questioned_referral

QUESTION = "Which dose of sertraline, and for how long?"
ANSWER = "150 mg daily from March to August, no response."
DETAILS_RE = re.compile(r"<details([^>]*)>(.*?)</details>", re.S)


def _questioned(world) -> Referral:
    referral = questioned_referral(world.referrer, world.coordinator, QUESTION)
    db.session.commit()
    return referral


def _timeline(page: str) -> list[str]:
    """The timeline's entries as text, newest first."""
    section = page.split('id="timeline-h"', 1)[1].split("</section>", 1)[0]
    return [page_text(item) for item in re.findall(r"<li>(.*?)</li>", section, re.S)]


def _events(referral_id: int) -> list[ReferralEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id)
        )
    )


def test_answering_the_question_returns_the_referral_to_review(app, world):
    referral = _questioned(world)
    referrer = signed_in(app, world.referrer)
    page = referrer.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert f"The clinic asked: {QUESTION}" in page_text(page)
    assert "Answer the clinic" in page
    version = referral.version

    token = csrf_token(referrer, f"/referrals/{referral.id}")
    response = referrer.post(
        f"/referrals/{referral.id}/answer",
        data={"csrf_token": token, "version": str(version), "reason": ANSWER},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert f"Your answer was sent; the clinic is reviewing referral {referral.number} again." in (
        page
    )

    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    assert stored.state == "in_review"
    assert stored.version == version + 1
    event = _events(referral.id)[-1]
    assert (event.kind, event.from_state, event.to_state) == (
        "state_change",
        "needs_info",
        "in_review",
    )
    assert event.actor_id == world.referrer.id
    assert event.reason == ANSWER

    # The referrer: in review, the answer on the timeline, the question and its box gone.
    assert 'class="badge badge-in_review">In review' in page
    newest, asked = _timeline(page)[:2]
    assert newest.endswith(f"{world.referrer.display_name} Needs information → In review {ANSWER}")
    assert asked.endswith(f"In review → Needs information {QUESTION}")  # stays on the record
    assert "The clinic asked:" not in page
    assert "Answer the clinic" not in page
    assert f"/referrals/{referral.id}/edit" not in page  # no more edits once answered
    dashboard = referrer.get("/referrals/?show=answer").get_data(as_text=True)
    assert referral.number not in dashboard

    # The coordinator: the same event and answer, the referral back among those to review.
    staff = signed_in(app, world.coordinator)
    page = staff.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert 'class="badge badge-in_review">In review' in page
    assert _timeline(page)[0] == newest
    assert "Ask the referrer a question" in page  # the clinic decides again
    queue = staff.get("/triage/?state=in_review").get_data(as_text=True)
    assert referral.number in queue


def test_an_empty_answer_is_refused_and_nothing_changes(app, world):
    referral = _questioned(world)
    referrer = signed_in(app, world.referrer)
    before = len(_events(referral.id))
    token = csrf_token(referrer, f"/referrals/{referral.id}")
    for empty in ("", "   "):
        page = referrer.post(
            f"/referrals/{referral.id}/answer",
            data={"csrf_token": token, "version": str(referral.version), "reason": empty},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert "Write your answer; the clinic will read it." in page
        assert "Answer the clinic" in page
    assert len(_events(referral.id)) == before
    assert db.session.get(Referral, referral.id).state == "needs_info"


def test_cancel_is_offered_only_behind_its_confirmation(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    page = signed_in(app, world.referrer).get(f"/referrals/{referral.id}").get_data(as_text=True)
    action = f'action="/referrals/{referral.id}/cancel"'
    assert page.count(action) == 1  # one cancel form on the page...
    behind = [
        (attrs, body) for attrs, body in DETAILS_RE.findall(page) if action in body
    ]  # ...and it sits in a closed disclosure
    assert len(behind) == 1
    attrs, body = behind[0]
    assert " open" not in attrs
    assert re.search(r"<summary>\s*Cancel this referral\s*</summary>", body)
    form = body.split(action, 1)[1].split("</form>", 1)[0]
    assert re.search(r'<textarea id="reason-cancel" name="reason" required', form)
    assert (
        f'<button type="submit" class="danger">Yes, cancel referral {referral.number}</button>'
        in (form)
    )
    assert 'name="version" value="' in form


def test_cancel_without_a_reason_is_refused_and_nothing_changes(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    version, before = referral.version, len(_events(referral.id))
    client = signed_in(app, world.referrer)
    token = csrf_token(client, f"/referrals/{referral.id}")
    for data in ({"reason": ""}, {"reason": "  \n "}, {}):
        response = client.post(
            f"/referrals/{referral.id}/cancel",
            data={"csrf_token": token, "version": str(version), **data},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Say why the referral is cancelled." in page
        assert "is cancelled; the other side sees why" not in page
        assert 'class="badge badge-submitted">Submitted' in page
    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    assert (stored.state, stored.version) == ("submitted", version)
    assert len(_events(referral.id)) == before
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
