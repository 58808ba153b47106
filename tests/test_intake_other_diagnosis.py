"""Issue 17 item 13: an *other diagnosis* typed as an ICD-10-CM code on the intake, checked
against the code pattern, stored, and shown on the referral page, the screening page, the
letters and in FHIR (Condition and the ServiceRequest's reasonCode)."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.vocab import normalized_icd10
from tests.conftest import force_login, page_text, signed_in
from tests.fhir.helpers import assert_valid
from tests.intake_helpers import post_intake
from tests.letter_helpers import pdf_text

FIELD_ERROR = "Other diagnosis: enter an ICD-10-CM code, such as F32.A or F43.12"


@pytest.fixture
def client(app, world):
    return signed_in(app, world.referrer)


def _sent(response) -> Referral:
    assert response.status_code == 302, page_text(response.get_data(as_text=True))[:2000]
    return db.session.get(Referral, int(response.location.rstrip("/").split("/")[-1]))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("F32.A", "F32.A"),
        ("f43.12", "F43.12"),
        (" F329 ", "F32.9"),
        ("M1A.0", "M1A.0"),
        ("T43.6X1A", "T43.6X1A"),
        ("F42", "F42"),
    ],
)
def test_codes_of_the_icd10_cm_shape_are_kept_in_one_spelling(typed, stored):
    assert normalized_icd10(typed) == stored


@pytest.mark.parametrize(
    "typed", ["32.1", "F3", "F32.ABCDE", "FF2.1", "F32..1", "F32-1", "F32.", "depression"]
)
def test_anything_else_is_not_a_code(typed):
    assert normalized_icd10(typed) is None


def test_a_code_of_the_wrong_shape_is_refused_naming_the_field(client):
    refused = post_intake(client, other_diagnosis="32.1")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert FIELD_ERROR in page_text(html)
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S)[1]
    assert '<a href="#other_diagnosis">Other diagnosis (ICD-10-CM code)</a>' in summary
    assert 'value="32.1"' in html  # what was typed is kept to correct it


def test_a_description_without_a_code_is_refused(client):
    refused = post_intake(client, other_diagnosis_description="Adjustment disorder")
    assert "Other diagnosis: give its ICD-10-CM code too." in page_text(
        refused.get_data(as_text=True)
    )


def test_the_other_diagnosis_is_stored_beside_the_ticked_ones(client):
    referral = _sent(
        post_intake(client, other_diagnosis="f43.12", other_diagnosis_description="Chronic PTSD")
    )
    clinical = referral.intake["clinical"]
    assert clinical["diagnoses"] == ["F33.2", "F43.12"]
    assert clinical["other_diagnosis"] == {"code": "F43.12", "description": "Chronic PTSD"}
    assert referral.diagnosis_code == "F33.2"  # the first ticked stays the primary one
    page = page_text(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "Other diagnosis F43.12 Chronic PTSD" in page
    assert "F43.12 Chronic PTSD (other diagnosis, typed by the referrer)" in page


def test_the_screening_page_shows_it_to_the_coordinator(app, client, world):
    referral = _sent(
        post_intake(client, other_diagnosis="F43.12", other_diagnosis_description="PTSD")
    )
    coordinator = app.test_client()
    force_login(coordinator, world.coordinator)
    page = page_text(coordinator.get(f"/triage/{referral.id}/screening").get_data(as_text=True))
    assert "Other diagnosis F43.12 PTSD" in page


def test_only_an_other_diagnosis_makes_it_the_primary_one(client):
    referral = _sent(
        post_intake(client, diagnoses=None, other_diagnosis="F32.A", other_diagnosis_description="")
    )
    assert referral.diagnosis_code == "F32.A"
    assert referral.intake["clinical"]["diagnoses"] == ["F32.A"]
    refused = post_intake(client, diagnoses=None)
    assert "Choose at least one diagnosis, or type the code of another one." in page_text(
        refused.get_data(as_text=True)
    )


def test_the_letters_name_the_other_diagnosis(app, client):
    from portal.letters.service import render_blank_draft

    referral = _sent(
        post_intake(client, other_diagnosis="F43.12", other_diagnosis_description="Chronic PTSD")
    )
    text = " ".join(pdf_text(render_blank_draft(referral, "acknowledgement").data).split())
    assert "Other diagnosis F43.12 Chronic PTSD" in text
    assert "F33.2 Major depressive disorder, recurrent, severe; also F43.12 Chronic PTSD" in text


def test_fhir_carries_it_as_a_condition_and_a_reason(app, client):
    from portal.fhir.clinical import conditions
    from portal.fhir.resources import service_request

    referral = _sent(
        post_intake(client, other_diagnosis="F43.12", other_diagnosis_description="Chronic PTSD")
    )
    found = conditions(referral)
    assert [c["code"]["coding"][0]["code"] for c in found] == ["F33.2", "F43.12"]
    other = found[1]["code"]
    assert other == {
        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F43.12"}],
        "text": "Chronic PTSD",
    }
    for condition in found:
        assert_valid(condition)
    reasons = service_request(referral, [])["reasonCode"]
    assert reasons[1] == other
