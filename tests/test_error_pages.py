"""Error pages: each carries an error id (and no trace), including the one the public letter
verification page shows when it is asked too often."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from tests.conftest import signed_in
from tests.factories import accepted_referral, stored_letter

ERROR_ID = re.compile(r"error id <strong>([0-9a-f]{12})</strong>")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/referrals/999999", 404), ("/verify/", 200), ("/login", 200)],
)
def test_every_error_page_carries_an_error_id(app, world, path, status):
    client = signed_in(app, world.referrer)
    page = client.get(path).get_data(as_text=True)
    if status == 404:
        assert ERROR_ID.search(page), page
    csrf = client.post("/account/password", data={}).get_data(as_text=True)
    assert ERROR_ID.search(csrf)
    assert "Traceback" not in csrf


def test_the_verification_page_is_rate_limited(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "3 per minute")
    letter = stored_letter(
        accepted_referral(world.referrer, world.coordinator, world.clinician), world.clinician
    )
    db.session.commit()
    client = signed_in(app)
    responses = [client.get(f"/verify/{letter.verify_code}") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1].get_data(as_text=True)
    assert "Too many attempts from your address" in refused
    assert ERROR_ID.search(refused)
    assert letter.verify_code not in refused
