"""Sending a referral as a transaction Bundle: the intake's validation, flags and attachment
checks, 422 naming each problem by FHIRPath, and a retry that creates nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.attachments.models import Attachment
from portal.audit import verification
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.letters.models import Letter
from portal.referrals.models import Referral
from portal.referrals.states import State
from tests.fhir.helpers import assert_valid, bearer, pdf_bytes, referral_bundle, token


def post(client, access_token, bundle, **headers):
    return client.post(
        "/fhir/r4",
        json=bundle,
        headers={**bearer(access_token), "Content-Type": "application/fhir+json", **headers},
    )


def test_a_bundle_becomes_a_submitted_referral_with_its_pdf(client, world, ehr, jobs):
    access = token(client, ehr)
    response = post(client, access, referral_bundle(pdf=pdf_bytes(), phq9=[2] * 8 + [1]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert_valid(body)
    assert body["type"] == "transaction-response"
    first = body["entry"][0]["response"]
    assert first["status"] == "201 Created"
    referral_id = int(first["location"].split("/")[1])
    referral = db.session.get(Referral, referral_id)
    assert referral.state == State.SUBMITTED
    assert referral.referrer_id == world.referrer.id
    assert referral.practice_id == world.practice.id
    assert referral.patient.last_name == "Rivera"
    assert referral.intake["trials"][0]["weeks"] == 10
    assert referral.intake["clinical"]["bp_systolic"] == 128
    assert referral.trd_met is True
    # The intake's own rules ran: PHQ-9 item 9 above 0 makes it urgent and raises a flag.
    assert referral.urgency == "urgent"
    assert any("suicid" in flag["label"].lower() for flag in referral.screening_flags)
    assert [a.scale for a in referral.assessments] == ["PHQ-9"]
    assert referral.assessments[0].total == 17
    files = db.session.scalars(select(Attachment).where(Attachment.referral_id == referral.id))
    assert [f.content_type for f in files] == ["application/pdf"]
    # The acknowledgement of receipt, as when sent from the page: made by the worker.
    assert "acknowledge_task" in jobs.pending()
    jobs.run()
    kinds = db.session.scalars(select(Letter.kind).where(Letter.referral_id == referral.id))
    assert list(kinds) == ["acknowledgement"]


def test_a_retry_of_the_same_bundle_creates_nothing_twice(client, world, ehr):
    access = token(client, ehr)
    bundle = referral_bundle(identifier="ehr-order-778")
    first = post(client, access, bundle)
    again = post(client, access, bundle)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["entry"][0]["response"]["status"] == "200 OK"
    assert (
        first.get_json()["entry"][0]["response"]["location"].split("/")[1]
        == again.get_json()["entry"][0]["response"]["location"].split("/")[1]
    )
    assert db.session.scalar(select(func.count(Referral.id))) == 1


def test_if_none_exist_also_makes_a_retry_harmless(client, world, ehr):
    access = token(client, ehr)
    bundle = referral_bundle()
    bundle["entry"][0]["request"]["ifNoneExist"] = "identifier=urn:ehr|order-5"
    post(client, access, bundle)
    post(client, access, bundle)
    assert db.session.scalar(select(func.count(Referral.id))) == 1


def test_refusals_name_each_problem_where_the_ehr_put_it(client, world, ehr):
    access = token(client, ehr)
    bundle = referral_bundle()
    patient = bundle["entry"][1]["resource"]
    patient["birthDate"] = "2999-01-01"
    del patient["telecom"]
    # An unlisted code of the ICD-10-CM shape is the intake's other diagnosis (issue 17 item
    # 13); one of another shape is refused where the EHR put it.
    bundle["entry"][2]["resource"]["code"]["coding"][0]["code"] = "99.9Z"
    bundle["entry"][0]["resource"]["reasonCode"] = []
    response = post(client, access, bundle)
    assert response.status_code == 422
    outcome = response.get_json()
    assert_valid(outcome)
    found = {tuple(i.get("expression", [])): i["diagnostics"] for i in outcome["issue"]}
    assert (
        "The date of birth cannot be in the future."
        in found[("Bundle.entry[1].resource.birthDate",)]
    )
    assert "phone" in found[("Bundle.entry[1].resource.telecom",)].lower()
    assert "ICD-10-CM code" in found[("Bundle.entry[2].resource.code",)]
    assert db.session.scalar(select(func.count(Referral.id))) == 0  # nothing kept


def test_an_unlisted_icd10_cm_code_arrives_as_the_other_diagnosis(client, world, ehr):
    access = token(client, ehr)
    bundle = referral_bundle()
    condition = bundle["entry"][2]["resource"]
    condition["code"]["coding"][0]["code"] = "F43.12"
    condition["code"]["text"] = "Chronic PTSD"
    response = post(client, access, bundle)
    assert response.status_code == 200, response.get_json()
    referral = db.session.scalar(select(Referral))
    assert referral.intake["clinical"]["other_diagnosis"] == {
        "code": "F43.12",
        "description": "Chronic PTSD",
    }
    assert "F43.12" in referral.intake["clinical"]["diagnoses"]


def test_an_attachment_the_page_would_refuse_is_refused(client, world, ehr):
    access = token(client, ehr)
    bundle = referral_bundle(pdf=b"MZ\x90\x00 an executable, not a PDF")
    response = post(client, access, bundle)
    assert response.status_code == 422
    issue = response.get_json()["issue"][0]
    assert issue["expression"] == [
        f"Bundle.entry[{len(bundle['entry']) - 1}].resource.content[0].attachment.data"
    ]
    assert "not a PDF, PNG or JPEG" in issue["diagnostics"]
    # A PDF carrying JavaScript, refused in the page's words.
    js_pdf = pdf_bytes().replace(
        b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
    )
    response = post(client, access, referral_bundle(pdf=js_pdf))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Referral.id))) == 0


def test_malformed_bundles_are_400(client, world, ehr):
    access = token(client, ehr)
    for body in (
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "type": "batch", "entry": [{}]},
        {"resourceType": "Bundle", "type": "transaction", "entry": []},
    ):
        response = post(client, access, body)
        assert response.status_code == 400
        assert_valid(response.get_json())
    response = client.post(
        "/fhir/r4",
        data="{not json",
        headers={**bearer(access), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 400
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_an_npi_of_another_practice_is_refused(client, world, ehr):
    world.other_referrer.npi = "1245319599"
    db.session.commit()
    access = token(client, ehr)
    response = post(client, access, referral_bundle(npi="1245319599"))
    assert response.status_code == 422
    assert "NPI" in response.get_json()["issue"][0]["diagnostics"]


def test_the_send_is_audited_as_the_client_without_phi(client, world, ehr):
    access = token(client, ehr)
    post(client, access, referral_bundle(pdf=pdf_bytes()))
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    api = [e for e in events if e.actor_role == "api-client"]
    assert {"referral.create", "referral.transition", "attachment.create"} <= {
        e.action for e in api
    }
    assert all(e.actor_id is None and e.detail.startswith(f"client {ehr.client_id}") for e in api)
    assert not any("Rivera" in e.detail or "Alexis" in e.detail for e in events)
    # The client is named before the chain hashes each row: the chain still verifies.
    report = verification.verify(db.session)
    assert report.ok, report.reason
    assert report.checked == len(events)
