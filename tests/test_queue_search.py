"""The queue's search keeps patient names and dates of birth out of URLs: the term is POSTed,
kept sealed in the session under a short id, and links carry only the id."""

from __future__ import annotations

import re
from datetime import date
from html import unescape
from urllib.parse import unquote_plus

import pytest

from portal.crypto import decrypt
from portal.extensions import db
from portal.triage.search import KEPT, SESSION_KEY
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral

# A row's number: a link to the screening page, or (a new referral) the button that opens it.
ROW = re.compile(r'(?:<a href="/triage/(\d+)/screening">|form="open-(\d+)"[^>]*>)KR-')
URL = re.compile(r'(?:href|action|src)="([^"]*)"')
NAME, DOB = "Quillonby", date(1911, 11, 11)
# What a search for the patient may be typed as, and how it could show up in a URL.
SECRETS = (NAME, NAME.lower(), DOB.isoformat(), "11/11/1911", "11%2F11%2F1911")


def rows(html: str) -> list[int]:
    return [int(a or b) for a, b in ROW.findall(html)]


def urls(html: str) -> list[str]:
    return [unescape(u) for u in URL.findall(html)]


@pytest.fixture
def staff(app, world):
    client = app.test_client()
    force_login(client, world.coordinator)
    return client


def post_search(client, term: str, **filters):
    response = client.post(
        "/triage/", data={"q": term, **filters, "csrf_token": csrf_token(client, "/triage/")}
    )
    assert response.status_code == 302
    return response


def assert_no_phi(*addresses: str) -> None:
    for address in addresses:
        for secret in SECRETS:
            assert secret not in address, address
            assert secret not in unquote_plus(address), address


@pytest.mark.parametrize("term", [NAME.lower(), "quillonby", "1911-11-11", "11/11/1911"])
def test_a_search_by_name_or_date_of_birth_finds_the_referral_and_no_url_carries_it(
    staff, world, term
):
    wanted = create_referral(world.referrer, last_name=NAME, date_of_birth=DOB)
    create_referral(world.referrer, last_name="Other")
    db.session.commit()
    posted = post_search(staff, term)
    assert re.search(r"[?&]search=[\w-]+", posted.location)
    page = staff.get(posted.location)
    html = page.get_data(as_text=True)
    assert rows(html) == [wanted.id]
    assert f"{NAME}" in html  # the row itself shows the patient...
    assert f'value="{term}"' in html  # ...and the box the term searched
    links = urls(html)
    assert len(links) > 10
    assert_no_phi(posted.location, page.request.url, *links)
    assert all("q=" not in link for link in links)


def test_a_search_by_referral_number_goes_through_the_same_mechanism(staff, world):
    wanted = create_referral(world.referrer)
    create_referral(world.referrer)
    db.session.commit()
    posted = post_search(staff, wanted.number)
    assert wanted.number not in posted.location
    assert rows(staff.get(posted.location).get_data(as_text=True)) == [wanted.id]


def test_the_term_is_kept_sealed_in_the_session(app, staff, world):
    create_referral(world.referrer, last_name=NAME, date_of_birth=DOB)
    db.session.commit()
    search_id = re.search(r"search=([\w-]+)", post_search(staff, NAME).location).group(1)
    with staff.session_transaction() as session:
        stored = dict(session[SESSION_KEY])
    assert NAME not in str(stored)
    with app.app_context():
        assert decrypt(stored[search_id].encode()).decode() == NAME


def test_paging_and_sorting_keep_the_search(staff, world):
    wanted = [
        create_referral(world.referrer, first_name=f"P{i:02d}", last_name=NAME) for i in range(30)
    ]
    create_referral(world.referrer, last_name="Other")
    db.session.commit()
    html = staff.get(post_search(staff, NAME.lower()).location).get_data(as_text=True)
    assert "Page 1 of 2 · 30 referrals" in html
    first = rows(html)
    next_link = unescape(re.search(r'<a rel="next" href="([^"]+)"', html).group(1))
    assert "search=" in next_link
    second_html = staff.get(next_link).get_data(as_text=True)
    assert "Page 2 of 2 · 30 referrals" in second_html
    assert set(first) | set(rows(second_html)) == {r.id for r in wanted}
    # Sorting by patient keeps the search, and so does the page size.
    sort_link = unescape(re.search(r'<a href="([^"]*sort=patient[^"]*)"', second_html).group(1))
    assert "search=" in sort_link
    assert "page=" not in sort_link  # a new order starts on page 1
    sorted_html = staff.get(sort_link).get_data(as_text=True)
    assert "30 referrals" in sorted_html
    assert rows(sorted_html) == [r.id for r in wanted[:25]]  # P00..P24 by first name
    per_page = unescape(re.search(r'<a href="([^"]*per_page=50[^"]*)"', sorted_html).group(1))
    assert len(rows(staff.get(per_page).get_data(as_text=True))) == 30
    # Changing a filter through the form keeps the search too (the box still holds it).
    urgent = post_search(staff, NAME.lower(), urgency="urgent", state="open")
    assert "urgency=urgent" in urgent.location
    assert "No referral matches these filters" in staff.get(urgent.location).get_data(as_text=True)
    assert_no_phi(next_link, sort_link, per_page, urgent.location)


def test_an_unknown_or_forgotten_search_shows_the_whole_queue_with_a_notice(app, world, staff):
    wanted = create_referral(world.referrer, last_name=NAME)
    other = create_referral(world.referrer, last_name="Other")
    db.session.commit()
    first = post_search(staff, NAME).location
    html = staff.get("/triage/?search=abcdefgh123").get_data(as_text=True)
    assert "That search is no longer kept" in html
    assert set(rows(html)) == {wanted.id, other.id}
    assert "search=abcdefgh123" not in html  # the unknown id is not carried on
    # A session keeps its last few searches: older ones are forgotten.
    for i in range(KEPT):
        post_search(staff, f"other{i}")
    assert "That search is no longer kept" in staff.get(first).get_data(as_text=True)
    assert rows(staff.get(post_search(staff, NAME).location).get_data(as_text=True)) == [wanted.id]
    # Another user's session does not hold this user's search.
    colleague = app.test_client()
    force_login(colleague, world.coordinator2)
    html = colleague.get(post_search(staff, NAME).location).get_data(as_text=True)
    assert "That search is no longer kept" in html
    assert set(rows(html)) == {wanted.id, other.id}


def test_a_search_typed_into_the_url_is_ignored(staff, world):
    create_referral(world.referrer, last_name=NAME)
    create_referral(world.referrer, last_name="Other")
    db.session.commit()
    assert len(rows(staff.get(f"/triage/?q={NAME}").get_data(as_text=True))) == 2


def test_an_empty_search_clears_it_and_the_search_needs_a_csrf_token(staff, world):
    create_referral(world.referrer, last_name=NAME)
    create_referral(world.referrer, last_name="Other")
    db.session.commit()
    cleared = post_search(staff, "   ", state="all")
    assert "search=" not in cleared.location
    assert len(rows(staff.get(cleared.location).get_data(as_text=True))) == 2
    assert staff.post("/triage/", data={"q": NAME}).status_code == 400
