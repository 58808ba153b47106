"""The referrer's dashboard: the progress cells of each row, and filtering by a single state
next to the groups."""

from __future__ import annotations

import re

from portal.extensions import db
from tests.conftest import page_text, signed_in
from tests.factories import (
    accepted_referral,
    book,
    create_referral,
    document_sessions,
    next_weekday,
    questioned_referral,
)

COLUMNS = ("referral", "patient", "status", "last event", "next", "sessions", "phq9")
OPTION_RE = re.compile(r'<option value="([a-z_]*)"( selected)?>([^<]*)</option>')


def _rows(page: str) -> dict[str, dict[str, str]]:
    """Each dashboard row by its referral number: the text of its cells, by column."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [page_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        named = dict(zip(COLUMNS, cells, strict=False))
        rows[named["referral"].split()[0]] = named
    return rows


def _state_options(page: str) -> list[tuple[str, str, bool]]:
    select = page.split('<select name="state"', 1)[1].split("</select>", 1)[0]
    return [(value, label, bool(sel)) for value, sel, label in OPTION_RE.findall(select)]


def test_sessions_done_of_planned_and_latest_phq9_with_its_change(app, world):
    # The baseline PHQ-9 of the referral is 16 (referral_data); sessions record 12, then 7.
    treated = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(
        treated,
        world.clinician,
        2,
        phq9=[[2, 2, 2, 2, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0, 0]],
    )
    waiting = accepted_referral(world.referrer, world.coordinator, world.clinician)
    sent = create_referral(world.referrer)
    db.session.commit()
    rows = _rows(signed_in(app, world.referrer).get("/referrals/").get_data(as_text=True))
    assert rows[treated.number]["sessions"] == "2 of 6"
    assert rows[treated.number]["phq9"] == "7 (-9)"  # latest 7, 9 points below 16
    assert rows[waiting.number]["sessions"] == "0 of 6"
    assert rows[waiting.number]["phq9"] == "16 baseline"
    assert rows[sent.number]["sessions"] == "-"  # no course before acceptance
    assert rows[sent.number]["phq9"] == "16 baseline"


def test_a_score_that_rose_shows_a_plus_sign(app, world):
    worse = accepted_referral(
        world.referrer,
        world.coordinator,
        world.clinician,
        phq9_answers=[1, 1, 1, 1, 1, 0, 0, 0, 0],  # baseline 5
    )
    document_sessions(worse, world.clinician, 1, phq9=[[1, 1, 1, 1, 1, 1, 1, 1, 0]])
    db.session.commit()
    rows = _rows(signed_in(app, world.referrer).get("/referrals/").get_data(as_text=True))
    assert rows[worse.number]["sessions"] == "1 of 6"
    assert rows[worse.number]["phq9"] == "8 (+3)"


def _referrals_in_several_states(world):
    submitted = [create_referral(world.referrer, first_name=n) for n in ("Sam", "Sue")]
    questioned = questioned_referral(
        world.referrer, world.coordinator, "Which dose?", first_name="Quinn"
    )
    scheduled = accepted_referral(
        world.referrer, world.coordinator, world.clinician, first_name="Skye"
    )
    book(scheduled, world.coordinator, [next_weekday(0)])
    create_referral(world.other_referrer, first_name="Otto")  # another practice's: not counted
    db.session.commit()
    return submitted, questioned, scheduled


def test_filter_by_a_single_state_with_counts(app, world):
    submitted, questioned, scheduled = _referrals_in_several_states(world)
    client = signed_in(app, world.referrer)
    page = client.get("/referrals/").get_data(as_text=True)
    # The states the provider's referrals are in, with counts, in the state machine's order.
    assert _state_options(page) == [
        ("", "Any state", False),
        ("submitted", "Submitted (2)", False),
        ("needs_info", "Needs information (1)", False),
        ("scheduled", "Scheduled (1)", False),
    ]
    assert set(_rows(page)) == {r.number for r in (*submitted, questioned, scheduled)}

    page = client.get("/referrals/?state=scheduled").get_data(as_text=True)
    assert set(_rows(page)) == {scheduled.number}
    assert ("scheduled", "Scheduled (1)", True) in _state_options(page)
    assert 'aria-current="page"' not in page.split('class="filters"', 1)[1].split("</nav>")[0]

    page = client.get("/referrals/?state=submitted").get_data(as_text=True)
    assert set(_rows(page)) == {r.number for r in submitted}
    assert "Otto" not in page

    page = client.get("/referrals/?state=completed").get_data(as_text=True)
    assert _rows(page) == {}
    assert 'None of your referrals is "Completed" right now.' in page

    # The groups stay as they were.
    page = client.get("/referrals/?show=answer").get_data(as_text=True)
    assert set(_rows(page)) == {questioned.number}


def test_an_unknown_state_falls_back_to_all(app, world):
    submitted, questioned, scheduled = _referrals_in_several_states(world)
    client = signed_in(app, world.referrer)
    everything = {r.number for r in (*submitted, questioned, scheduled)}
    for value in ("bogus", "", "SCHEDULED", "<script>x</script>", "draft'--"):
        response = client.get("/referrals/", query_string={"state": value})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert set(_rows(page)) == everything
        assert ("", "Any state", False) in _state_options(page)
        assert "<script>x</script>" not in page


def test_a_name_search_keeps_the_chosen_state(app, world):
    from tests.conftest import csrf_token

    submitted, _questioned, _scheduled = _referrals_in_several_states(world)
    client = signed_in(app, world.referrer)
    token = csrf_token(client, "/referrals/?state=submitted")
    page = client.post(
        "/referrals/", data={"csrf_token": token, "q": "Sue", "state": "submitted"}
    ).get_data(as_text=True)
    assert set(_rows(page)) == {submitted[1].number}
    page = client.post(
        "/referrals/", data={"csrf_token": token, "q": "Quinn", "state": "submitted"}
    ).get_data(as_text=True)
    assert _rows(page) == {}
    assert 'No referral matches that name in "Submitted".' in page
