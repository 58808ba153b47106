"""Issue 17 item 13: one *None of these* for the intake's screening questions, the pregnancy
question only where it can apply (not for a patient recorded as male; DOMAIN.md states no
other rule), and the screening entries of the error summary in the page's order. Posted as the
browser posts the form, without JavaScript: the server decides everything shown here."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.screening import SCREENING_QUESTIONS
from tests.conftest import page_text, signed_in
from tests.intake_helpers import post_intake

UNANSWERED = {key: None for key, _, _ in SCREENING_QUESTIONS}
PREGNANCY_ROW = re.compile(r'<tr[^>]*id="pregnancy"[^>]*>')


@pytest.fixture
def client(app, world):
    return signed_in(app, world.referrer)


def _sent(response) -> Referral:
    assert response.status_code == 302, page_text(response.get_data(as_text=True))[:2000]
    referral_id = int(response.location.rstrip("/").split("/")[-1])
    return db.session.get(Referral, referral_id)


def _summary(html: str) -> list[str]:
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S)[1]
    return re.findall(r'<a href="#[^"]+">([^<]+)</a>', summary)


def test_none_of_these_answers_every_screening_question_no(client, world):
    referral = _sent(post_intake(client, **UNANSWERED, screening_none="y"))
    answers = referral.intake["screening"]
    assert answers["none_of_these"] is True
    assert all(answers[key] is False for key, _, _ in SCREENING_QUESTIONS)
    codes = {flag["code"] for flag in referral.screening_flags}
    assert not codes & {key for key, _, _ in SCREENING_QUESTIONS}
    page = page_text(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "The referrer ticked “None of these”: every answer below is No." in page
    assert "History of intracerebral hemorrhage? No" in page


def test_none_of_these_with_a_yes_is_refused_naming_the_question(client):
    refused = post_intake(client, **(UNANSWERED | {"psychosis": "yes"}), screening_none="y")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    text = page_text(html)
    assert (
        "“None of these” is ticked, but “Active psychosis or mania, or a psychotic disorder?” "
        "is answered Yes. Untick “None of these”, or change that answer to No."
    ) in text
    assert "None of these: the answer to every question above is No" in _summary(html)
    # Nothing typed is lost: the Yes and the tick are both still there.
    assert re.search(r'<input[^>]*checked[^>]*id="psychosis-1"|id="psychosis-1"[^>]*checked', html)
    assert re.search(r'id="screening_none"[^>]*checked|checked[^>]*id="screening_none"', html)
    assert db.session.scalar(select(Referral).where(Referral.state == "submitted")) is None


def test_two_yes_answers_with_none_of_these_are_counted(client):
    refused = post_intake(client, screening_none="y", sud="yes", ich="yes")
    assert "“None of these” is ticked, but 2 questions are answered Yes." in page_text(
        refused.get_data(as_text=True)
    )


def test_without_none_of_these_each_question_still_needs_an_answer(client):
    refused = post_intake(client, ich=None)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "History of intracerebral hemorrhage?" in _summary(html)


def test_screening_errors_come_before_later_sections_in_the_summary(client):
    refused = post_intake(client, ich=None, reason="", consent=None, bp_systolic="")
    texts = _summary(refused.get_data(as_text=True))
    order = [
        texts.index(label)
        for label in (
            "History of intracerebral hemorrhage?",
            "Systolic",
            "Reason for referral and goals of treatment",
            "The patient consented to this referral.",
        )
    ]
    assert order == sorted(order)


def test_the_pregnancy_question_is_not_asked_for_a_male_patient(client):
    referral = _sent(post_intake(client, sex="male", pregnancy=None))
    assert referral.intake["screening"]["pregnancy"] is None
    assert "pregnancy" not in {flag["code"] for flag in referral.screening_flags}
    page = page_text(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "Pregnant or breastfeeding? Not asked (sex recorded as male)" in page


def test_the_pregnancy_question_is_asked_for_every_other_sex(client):
    for sex in ("female", "other", "unknown"):
        refused = post_intake(client, sex=sex, pregnancy=None)
        assert refused.status_code == 422, sex
        assert "Pregnant or breastfeeding?" in _summary(refused.get_data(as_text=True))


def test_the_pregnancy_row_follows_the_sex_without_javascript(client):
    blank = client.get("/referrals/new").get_data(as_text=True)
    assert "hidden" not in PREGNANCY_ROW.search(blank).group(0)  # sex not chosen yet: asked
    refused = post_intake(client, sex="male", pregnancy="no", last_name="")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    row = PREGNANCY_ROW.search(html).group(0)
    assert "hidden" in row
    # The answer typed is kept in the hidden row, so choosing another sex brings it back.
    assert re.search(r'id="pregnancy-0"[^>]*checked|checked[^>]*id="pregnancy-0"', html)
    refused = post_intake(client, sex="female", pregnancy="yes", last_name="")
    html = refused.get_data(as_text=True)
    assert "hidden" not in PREGNANCY_ROW.search(html).group(0)
    assert re.search(r'id="pregnancy-1"[^>]*checked|checked[^>]*id="pregnancy-1"', html)


def test_a_yes_given_for_a_male_patient_is_kept_and_flagged_never_dropped(client):
    refused = post_intake(client, sex="male", pregnancy="yes", last_name="")
    assert "hidden" not in PREGNANCY_ROW.search(refused.get_data(as_text=True)).group(0)
    referral = _sent(post_intake(client, sex="male", pregnancy="yes"))
    assert referral.intake["screening"]["pregnancy"] is True
    assert "pregnancy" in {flag["code"] for flag in referral.screening_flags}


def test_a_draft_keeps_none_of_these_and_the_hidden_pregnancy_answer(client):
    saved = post_intake(client, **UNANSWERED, screening_none="y", sex="male", action="save")
    assert saved.status_code == 200
    referral = db.session.scalar(select(Referral).where(Referral.state == "draft"))
    html = client.get(f"/referrals/{referral.id}/edit").get_data(as_text=True)
    assert re.search(r'id="screening_none"[^>]*checked|checked[^>]*id="screening_none"', html)
    assert "hidden" in PREGNANCY_ROW.search(html).group(0)
