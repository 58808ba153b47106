"""Bad input is refused at its field, nothing typed is lost, and edits never overwrite silently."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.referrals.models import Referral
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral
from tests.test_loop import REFERRAL_FORM


def _submit(client, **changes):
    token = csrf_token(client, "/referrals/new")
    data = {**REFERRAL_FORM, "form_key": "", **changes, "csrf_token": token}
    return client.post("/referrals/new", data={k: v for k, v in data.items() if v is not None})


def _count():
    """Referrals sent to the clinic (a refused submit keeps a draft, which is not sent)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count(Referral.id)).where(Referral.state != "draft"))


def test_future_birth_date_is_refused_and_typing_kept(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = _submit(client, date_of_birth=tomorrow, reason="Kept <b>reason</b> text")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be in the future" in page
    assert 'value="Quentin"' in page
    assert 'value="Lovelace"' in page
    assert "Kept &lt;b&gt;reason&lt;/b&gt; text" in page  # kept, and shown escaped
    assert '<input checked id="phq9_1-2"' in page  # PHQ-9 answers kept
    assert _count() == 0


def test_phq9_item_of_4_and_missing_item_are_refused(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    response = _submit(client, phq9_3="4", phq9_9=None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid choice" in page
    assert "Choose an answer." in page
    assert _count() == 0


def test_item9_above_zero_makes_the_referral_urgent(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    assert _submit(client, phq9_9="1", urgency="routine").status_code == 302
    referral = db.session.scalar(select(Referral))
    assert referral.urgency == "urgent"
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "needs prompt clinical evaluation" in page


def test_script_in_text_is_shown_literally_to_the_clinic(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert _submit(client, first_name=evil, reason=evil).status_code == 302
    referral = db.session.scalar(select(Referral))
    staff = app.test_client()
    force_login(staff, world.coordinator)
    for url in ("/triage/", f"/referrals/{referral.id}"):
        page = staff.get(url).get_data(as_text=True)
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_concurrent_decisions_do_not_overwrite(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    force_login(first, world.coordinator)
    force_login(second, world.coordinator2)
    seen_version = str(referral.version)  # both coordinators loaded the page at this version
    token1, token2 = csrf_token(first, "/"), csrf_token(second, "/")
    assert (
        first.post(
            f"/triage/{referral.id}/open", data={"version": seen_version, "csrf_token": token1}
        ).status_code
        == 302
    )
    response = second.post(
        f"/triage/{referral.id}/decide/declined",
        data={"version": seen_version, "reason": "Not suitable", "csrf_token": token2},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "was changed by Test Coordinator" in page
    assert "nothing was saved" in page
    assert "It is now in review" in page
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "in_review"


def test_referrer_cancels_with_reason(app, world):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.referrer)
    token = csrf_token(client, "/")
    response = client.post(
        f"/referrals/{referral.id}/cancel",
        data={"version": referral.version, "reason": "", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Say why the referral is cancelled." in response.get_data(as_text=True)
    response = client.post(
        f"/referrals/{referral.id}/cancel",
        data={"version": referral.version, "reason": "Patient moved away", "csrf_token": token},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "is cancelled" in page
    assert "Patient moved away" in page
