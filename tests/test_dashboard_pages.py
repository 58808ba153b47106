"""The referrer's dashboard in pages of 50: the pager keeps the group, the state and the name
searched (the name by POST, never in a URL), and a later page costs what the first does."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest

from portal.extensions import db
from portal.pages import dashboard
from tests.conftest import csrf_token, page_text, signed_in
from tests.factories import create_referral
from tests.statement_count import assert_same_cost, page_statements
from tests.test_dashboard import _rows


def _pager(page: str) -> str:
    return page.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0] if "pager" in page else ""


def _links(page: str) -> dict[str, str]:
    """The pager's links by their words."""
    return {
        page_text(words): href.replace("&amp;", "&")
        for href, words in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', _pager(page))
    }


def _asks(href: str) -> dict[str, str]:
    """What a link asks for: its path and its query's values."""
    path, _, query = href.partition("?")
    return {"path": path, **dict(parse_qsl(query))}


def test_fifty_referrals_a_page_newest_first(app, world):
    made = [create_referral(world.referrer, first_name=f"Pat{i}") for i in range(53)]
    db.session.commit()
    client = signed_in(app, world.referrer)
    first = client.get("/referrals/").get_data(as_text=True)
    assert len(_rows(first)) == 50
    assert "Page 1 of 2 · 53 referrals" in page_text(_pager(first))
    assert set(_links(first)) == {"Next", "Last"}
    second = client.get(_links(first)["Next"]).get_data(as_text=True)
    assert len(_rows(second)) == 3
    assert set(_links(second)) == {"First", "Previous"}
    assert set(_rows(first)) | set(_rows(second)) == {r.number for r in made}
    # The newest change first: the first three made are the last page's.
    assert set(_rows(second)) == {r.number for r in made[:3]}
    # A page past the last, or no page number, shows a page that exists.
    assert set(_rows(client.get("/referrals/?page=9").get_data(as_text=True))) == set(_rows(second))
    assert len(_rows(client.get("/referrals/?page=x").get_data(as_text=True))) == 50


@pytest.fixture
def pages_of_five(monkeypatch):
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 5)


def test_the_pager_keeps_the_group_and_the_state(app, world, pages_of_five):
    for i in range(7):
        create_referral(world.referrer, first_name=f"Pat{i}")
    db.session.commit()
    client = signed_in(app, world.referrer)
    page = client.get("/referrals/?state=submitted").get_data(as_text=True)
    assert "Page 1 of 2 · 7 referrals" in page_text(_pager(page))
    next_page = {"path": "/referrals/", "state": "submitted", "page": "2"}
    assert _asks(_links(page)["Next"]) == next_page
    page = client.get("/referrals/?show=active").get_data(as_text=True)
    assert _asks(_links(page)["Next"]) == {"path": "/referrals/", "show": "active", "page": "2"}
    later = client.get("/referrals/?show=active&page=2").get_data(as_text=True)
    assert len(_rows(later)) == 2
    assert 'aria-current="page"' in later.split('class="filters"', 1)[1].split("</nav>")[0]
    # One page of everything: no pager.
    assert _pager(client.get("/referrals/?show=answer").get_data(as_text=True)) == ""


def test_the_pages_of_a_name_search_keep_the_name_out_of_the_url(app, world, pages_of_five):
    found = [
        create_referral(world.referrer, first_name="Marlow", last_name=f"K{i}") for i in range(6)
    ]
    create_referral(world.referrer, first_name="Other")
    db.session.commit()
    client = signed_in(app, world.referrer)
    token = csrf_token(client, "/referrals/")
    page = client.post("/referrals/", data={"csrf_token": token, "q": "marlow"}).get_data(
        as_text=True
    )
    pager = _pager(page)
    assert "Page 1 of 2 · 6 referrals" in page_text(pager)
    assert _links(page) == {}  # no link carries the name: the pages are asked for by POST
    assert '<input type="hidden" name="q" value="marlow">' in pager
    assert re.search(r'<button type="submit" class="secondary" name="page" value="2">Next', pager)
    second = client.post(
        "/referrals/", data={"csrf_token": token, "q": "marlow", "page": "2"}
    ).get_data(as_text=True)
    assert len(_rows(second)) == 1
    assert set(_rows(page)) | set(_rows(second)) == {r.number for r in found}
    assert "Page 2 of 2" in page_text(_pager(second))


def test_a_later_page_costs_what_the_first_does(app, world, pages_of_five):
    for i in range(12):
        create_referral(world.referrer, first_name=f"Pat{i}")
    db.session.commit()
    client = signed_in(app, world.referrer)
    client.get("/referrals/")
    first = page_statements(client, "/referrals/")
    assert_same_cost(first, page_statements(client, "/referrals/?page=2"))
    assert_same_cost(first, page_statements(client, "/referrals/?page=3"))


def test_a_sharing_practice_lists_its_colleagues_sent_referrals_not_their_drafts(app, world):
    from werkzeug.datastructures import MultiDict

    from portal.referrals.intake import draft_for_key, new_form_key, save_draft

    mine = create_referral(world.referrer, first_name="Mine")
    theirs = create_referral(world.colleague, first_name="Theirs")
    draft = draft_for_key(new_form_key(), world.colleague)
    save_draft(
        draft, MultiDict({"first_name": "Drafted", "last_name": "Only"}), actor=world.colleague
    )
    elsewhere = create_referral(world.other_referrer, first_name="Elsewhere")
    db.session.commit()
    page = signed_in(app, world.referrer).get("/referrals/").get_data(as_text=True)
    rows = _rows(page)
    assert set(rows) == {mine.number, theirs.number}
    assert rows[theirs.number]["patient"] == "Theirs Testpatient sent by Cora Colleague, MD"
    assert "Drafted" not in page
    assert elsewhere.number not in page
    # The other practice does not share: its provider sees their own only.
    other = signed_in(app, world.other_referrer).get("/referrals/").get_data(as_text=True)
    assert set(_rows(other)) == {elsewhere.number}
