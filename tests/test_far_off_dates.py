"""Days far off (year 1, 2200, 9999) typed into the scheduling pages are refused with a
message, never a crash."""

from __future__ import annotations

import pytest

from portal.clock import clinic_today
from portal.extensions import db
from portal.referrals.models import Referral
from tests.conftest import post_form, signed_in
from tests.factories import accepted_referral


@pytest.mark.parametrize("far", ["9999-12-31", "0001-01-01", "2200-06-01"])
def test_far_off_days_are_refused_not_crashed(app, world, far):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = signed_in(app, world.coordinator)
    day = client.get("/scheduling/day", query_string={"date": far})
    assert day.status_code == 200
    page = day.get_data(as_text=True)
    assert "within 5 years of today" in page
    assert f"{clinic_today():%d %B %Y}".lstrip("0") in page or clinic_today().isoformat() in page
    proposal = client.get(
        f"/scheduling/referrals/{referral.id}/propose",
        query_string={"protocol_id": 1, "start": far},
    )
    assert proposal.status_code in (200, 422)
    assert "within 5 years of today" in proposal.get_data(as_text=True)
    url = f"/scheduling/referrals/{referral.id}"
    added = post_form(
        client, f"{url}/add", {"day": far, "version": referral.version}, token_from=url
    )
    assert "within 5 years of today" in client.get(added.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "accepted"
