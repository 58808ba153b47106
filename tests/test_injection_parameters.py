"""SQL metacharacters in the query parameters of the dashboard, the unopened letters, the
queue's paging and sorting and the scheduling pages: answered harmlessly, never as SQL."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.conftest import signed_in
from tests.factories import accepted_referral
from tests.test_injection import PAYLOADS, assert_harmless

# Query parameters outside the search, filter and sort forms of tests/test_injection.py:
# (path template, parameter, who).
QUERY_PARAMETERS = [
    ("/referrals/", "show", "referrer"),
    ("/letters/unopened", "days", "clinician"),
    ("/triage/", "per_page", "coordinator"),
    ("/triage/", "sort", "coordinator"),
    ("/scheduling/day", "date", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "start", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "weeks", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "per_week", "coordinator"),
    ("/scheduling/referrals/{id}/propose", "protocol_id", "coordinator"),
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(("path", "param", "who"), QUERY_PARAMETERS)
def test_sql_metacharacters_in_query_parameters(app, world, path, param, who, payload):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    client = signed_in(app, getattr(world, who))
    query = {param: payload}
    if "{id}" in path and param != "protocol_id":
        query["protocol_id"] = "1"
    response = client.get(path.format(id=referral.id), query_string=query)
    assert_harmless(response, payload, (200, 302, 422))
