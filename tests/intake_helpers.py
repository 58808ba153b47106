"""The new-referral form as a signed-in referrer posts it (without JavaScript), for the intake
tests: `post_intake` sends the form with any fields changed."""

from __future__ import annotations

from tests.conftest import csrf_token
from tests.factories import intake_form
from tests.test_intake import KEY_RE


def post_intake(client, **changes):
    page = client.get("/referrals/new").get_data(as_text=True)
    data = intake_form(form_key=KEY_RE.search(page).group(1), **changes)
    return client.post(
        "/referrals/new", data={**data, "csrf_token": csrf_token(client, "/referrals/new")}
    )
