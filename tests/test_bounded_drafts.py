"""Drafts are bounded: each field keeps at most what a send would accept, only the intake's
own fields are stored, and the urlencoded part of a request is held to a form's worth even
where files are allowed (issue 15, item 4)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.referrals.models import Referral
from tests.conftest import csrf_token, force_login
from tests.factories import intake_form
from tests.test_attachments import KEY_RE, _pdf


@pytest.fixture
def referrer_client(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    return client


def _new_form(client) -> dict:
    page = client.get("/referrals/new").get_data(as_text=True)
    return {"form_key": KEY_RE.search(page).group(1), "csrf_token": csrf_token(client, "/")}


def test_a_draft_keeps_each_field_to_its_length_and_only_the_intakes_fields(
    app, world, referrer_client
):
    data = intake_form(first_name="Keepme", reason="r" * 9000)
    data |= {"action": "save", "injected_key": "x" * 1000, "trials-0-drug": "d" * 500}
    response = referrer_client.post("/referrals/new", data={**data, **_new_form(referrer_client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“Reason for referral and goals of treatment” was longer than 5000 characters" in page
    assert 'value="Keepme"' in page
    stored = db.session.scalar(select(Referral)).form_data
    assert stored["reason"] == ["r" * 5000]
    assert stored["trials-0-drug"] == ["d" * 100]
    assert stored["first_name"] == ["Keepme"]
    assert "injected_key" not in stored


def test_a_huge_urlencoded_body_is_refused_on_the_intake_without_storing_it(
    app, world, referrer_client
):
    form = _new_form(referrer_client)
    body = f"form_key={form['form_key']}&csrf_token={form['csrf_token']}&action=save&reason="
    body += "r" * (6 * 1024 * 1024)  # within the upload cap (200 MB), far past a form's worth
    response = referrer_client.post(
        "/referrals/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert db.session.scalar(select(Referral)) is None


def test_multipart_text_together_is_held_to_a_forms_worth_files_apart(app, world, referrer_client):
    form = _new_form(referrer_client)
    # Each text part under Werkzeug's own per-part cap (2 MB), together past a form's worth.
    parts = {f"psychotherapy_{n}": "p" * (1900 * 1024) for n in range(3)}
    response = referrer_client.post(
        "/referrals/new",
        data={**form, "action": "save", **parts},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    # A real form with a file well over a form's worth still goes through.
    data = intake_form(first_name="Withfile")
    data["attachments"] = [(io.BytesIO(_pdf() + b"\n%" + bytes(5 * 1024 * 1024)), "scan.pdf")]
    response = referrer_client.post(
        "/referrals/new",
        data={**data, **_new_form(referrer_client), "action": "save"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
