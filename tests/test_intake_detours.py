"""Intake detours: after a refused send the error summary follows the page's order with one
entry for an incomplete PHQ-9; after sending, the page says when to expect a first decision.
(The screening details boxes' width is checked in Chromium: test_daily_work_journey.py.)"""

from __future__ import annotations

import re

import pytest

from portal.clock import clinic_today
from tests.conftest import page_text, signed_in
from tests.intake_helpers import post_intake


@pytest.fixture
def client(app, world):
    return signed_in(app, world.referrer)


def test_the_error_summary_follows_the_page_with_one_phq9_entry(client):
    refused = post_intake(
        client,
        last_name="",
        phone="",
        reason="",
        phq9_2=None,
        phq9_5=None,
        phq9_7=None,
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S)[1]
    entries = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    texts = [text for _, text in entries]
    assert texts.count("PHQ-9: answer all 9 items (3 not answered)") == 1
    assert not any(re.match(r"^\d$", t) or t.startswith("phq9_") for t in texts)
    # In the page's order: the patient's name before the phone, both before the PHQ-9,
    # and the PHQ-9 before the request's reason.
    order = [texts.index(t) for t in ("Last name", "Phone")]
    phq9 = texts.index("PHQ-9: answer all 9 items (3 not answered)")
    assert order == sorted(order)
    assert order[-1] < phq9
    assert dict(entries)["phq9_2"] == "PHQ-9: answer all 9 items (3 not answered)"
    assert f"{len(entries)} answers need attention" in page_text(html)


def test_after_sending_the_page_says_when_to_expect_a_first_decision(client):
    from portal.triage.sla import due_on

    sent = post_intake(client)
    assert sent.status_code == 302
    page = page_text(client.get(sent.location).get_data(as_text=True))
    due = due_on(clinic_today(), 5)
    assert f"Expect a first decision within 5 business days (routine), by {due:%A %B %-d}." in page
