"""Following a referral: reads and searches of the client's own referrals (others' answer 404),
Task status and BSeR business status, Observations with LOINC, letters as DocumentReference
and Binary, paging, cancelling with If-Match; every resource valid R4, every read audited."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.referrals.states import State
from tests.factories import (
    accepted_referral,
    create_referral,
    document_sessions,
    stored_letter,
)
from tests.fhir.helpers import BASE, assert_valid, bearer, pdf_bytes, token


@pytest.fixture
def course(world, ehr):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 2)
    letter = stored_letter(referral, world.clinician)
    db.session.commit()
    return referral, letter


def get(client, access, path, **headers):
    response = client.get(f"/fhir/r4/{path}", headers={**bearer(access), **headers})
    if response.mimetype == "application/fhir+json":
        assert_valid(response.get_json())
    return response


def test_every_resource_of_a_referral_reads_and_validates(client, world, ehr, course):
    referral, letter = course
    access = token(client, ehr)
    request = get(client, access, f"ServiceRequest/{referral.id}").get_json()
    assert request["code"]["coding"][0]["code"] == "3457005"
    assert request["intent"] == "order"
    assert request["performer"][0]["reference"] == f"Organization/clinic-{world.clinic.id}"
    task = get(client, access, f"Task/{referral.id}")
    assert task.headers["ETag"] == f'W/"{referral.version}"'
    body = task.get_json()
    assert body["status"] == "in-progress"
    assert body["businessStatus"]["coding"][0]["code"] == "5.1.4"
    assert body["output"][0]["valueReference"]["reference"] == f"DocumentReference/{letter.id}"
    for ref in request["supportingInfo"] + [request["subject"], request["requester"]]:
        response = get(client, access, ref["reference"])
        assert response.status_code == 200, ref
    for path in (f"Practitioner/{world.referrer.id}", f"Organization/practice-{world.practice.id}",
                 f"Organization/clinic-{world.clinic.id}", "CodeSystem/scale"):  # fmt: skip
        assert get(client, access, path).status_code == 200


def test_observations_carry_loinc_codes(client, world, ehr, course):
    referral, _ = course
    access = token(client, ehr)
    bundle = get(client, access, f"Observation?based-on=ServiceRequest/{referral.id}&_count=200")
    codes = {
        coding["code"]
        for entry in bundle.get_json()["entry"]
        for coding in entry["resource"]["code"]["coding"]
    }
    assert {"44249-1", "44261-6", "44250-9", "44260-8", "85354-9", "8867-4"} <= codes
    item9 = next(
        e["resource"]
        for e in bundle.get_json()["entry"]
        if e["resource"]["code"]["coding"][0]["code"] == "44260-8"
    )
    assert item9["valueCodeableConcept"]["coding"][0]["code"].startswith("LA")


def test_letters_download_with_a_matching_hash(client, world, ehr, course):
    referral, letter = course
    access = token(client, ehr)
    found = get(client, access, f"DocumentReference?related=ServiceRequest/{referral.id}")
    documents = [e["resource"] for e in found.get_json()["entry"]]
    summary = next(d for d in documents if d["id"] == str(letter.id))
    attachment = summary["content"][0]["attachment"]
    assert attachment["url"] == f"{BASE}/Binary/{letter.id}"
    assert summary["identifier"][0]["value"] == letter.sha256
    binary = get(client, access, f"Binary/{letter.id}").get_json()
    pdf = base64.b64decode(binary["data"])
    assert base64.b64encode(hashlib.sha1(pdf).digest()).decode() == attachment["hash"]  # noqa: S324
    assert hashlib.sha256(pdf).hexdigest() == letter.sha256
    raw = client.get(f"/fhir/r4/Binary/{letter.id}", headers={**bearer(access),
                     "Accept": "application/pdf"})  # fmt: skip
    assert raw.mimetype == "application/pdf"
    assert raw.data == pdf
    db.session.refresh(letter)
    assert letter.first_downloaded_by_id == world.referrer.id  # the receipt, as from the page


def test_another_practices_referrals_answer_404(client, world, ehr):
    theirs = create_referral(world.other_referrer)
    letter = stored_letter(theirs, world.clinician)
    db.session.commit()
    access = token(client, ehr)
    paths = [
        f"ServiceRequest/{theirs.id}",
        f"Task/{theirs.id}",
        f"Patient/{theirs.patient_id}",
        f"QuestionnaireResponse/{theirs.id}",
        f"DocumentReference/{letter.id}",
        f"Binary/{letter.id}",
        f"Condition/{theirs.id}-1",
        f"Observation/a{theirs.assessments[0].id}",
        f"Practitioner/{world.other_referrer.id}",
        f"Organization/practice-{world.other_practice.id}",
        "Task/abc",
    ]
    for path in paths:
        response = get(client, access, path)
        assert response.status_code == 404, path
        assert "Alexis" not in response.get_data(as_text=True)
    assert get(client, access, f"Task?focus=ServiceRequest/{theirs.id}").get_json()["total"] == 0
    denied = db.session.scalars(
        select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.object_id == theirs.id)
    ).all()
    assert denied
    assert all(e.actor_role == "api-client" for e in denied)


def test_task_searches_follow_changes_with_paging(client, world, ehr):
    referrals = [create_referral(world.referrer) for _ in range(3)]
    db.session.commit()
    access = token(client, ehr)
    page = get(client, access, "Task?_count=2").get_json()
    assert page["total"] == 3
    assert len(page["entry"]) == 2
    following = next(link["url"] for link in page["link"] if link["relation"] == "next")
    rest = get(client, access, following.removeprefix(f"{BASE}/")).get_json()
    assert len(rest["entry"]) == 1
    assert not [link for link in rest["link"] if link["relation"] == "next"]
    since = quote(referrals[-1].updated_at.isoformat())
    assert get(client, access, f"Task?_lastUpdated=gt{since}").get_json()["total"] == 0
    focus = get(client, access, f"Task?focus=ServiceRequest/{referrals[0].id}").get_json()
    assert [e["resource"]["status"] for e in focus["entry"]] == ["requested"]
    assert focus["entry"][0]["resource"]["businessStatus"]["coding"][0]["code"] == "2.0"
    reads = db.session.scalars(
        select(AuditEvent.object_id).where(
            AuditEvent.action == "referral.view", AuditEvent.actor_role == "api-client"
        )
    ).all()
    assert set(reads) == {r.id for r in referrals}
    assert get(client, access, "Task?owner=x").status_code == 400
    assert get(client, access, "Task?_lastUpdated=yesterday").status_code == 400


def test_cancel_with_if_match(client, world, ehr):
    referral = create_referral(world.referrer)
    db.session.commit()
    access = token(client, ehr)
    task = get(client, access, f"Task/{referral.id}").get_json()
    update = {**task, "status": "cancelled", "statusReason": {"text": "Patient moved away."}}

    def put(**headers):
        return client.put(f"/fhir/r4/Task/{referral.id}", json=update,
                          headers={**bearer(access), **headers})  # fmt: skip

    assert put().status_code == 412
    assert put(**{"If-Match": 'W/"999"'}).status_code == 409
    done = put(**{"If-Match": f'W/"{task["meta"]["versionId"]}"'})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "cancelled"
    assert done.get_json()["businessStatus"]["coding"][0]["code"] == "6.0"
    db.session.refresh(referral)
    assert referral.state == State.CANCELLED
    assert referral.events[-1].reason == "Patient moved away."
    assert put(**{"If-Match": done.headers["ETag"]}).status_code == 422


def test_unknown_interactions_answer_operation_outcome(client, world, ehr):
    access = token(client, ehr)
    for method, path in (("GET", "Nonsense/1"), ("DELETE", "Task/1"), ("GET", "a/b/c")):
        response = client.open(f"/fhir/r4/{path}", method=method, headers=bearer(access))
        assert response.status_code == 404
        assert response.get_json()["resourceType"] == "OperationOutcome"


def test_metadata_and_smart_configuration(client):
    capability = client.get("/fhir/r4/metadata")
    assert capability.mimetype == "application/fhir+json"
    body = capability.get_json()
    assert_valid(body)
    assert body["fhirVersion"] == "4.0.1"
    kinds = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"ServiceRequest", "Task", "DocumentReference", "Binary", "Observation"} <= kinds
    questionnaire = client.get("/fhir/r4/Questionnaire/referral-intake").get_json()
    assert_valid(questionnaire)
    link_ids = {item["linkId"] for item in questionnaire["item"]}
    assert {"aneurysm", "recent_ideation", "consent", "episode_months"} <= link_ids
    smart = client.get("/fhir/r4/.well-known/smart-configuration").get_json()
    assert smart["token_endpoint"] == f"{BASE}/auth/token"
    assert "private_key_jwt" in smart["token_endpoint_auth_methods_supported"]


def test_every_call_is_audited_as_its_client_and_json_only(client, world, ehr):
    access = token(client, ehr)
    assert get(client, access, f"Organization/clinic-{world.clinic.id}").status_code == 200
    assert get(client, access, "Task?status=completed").get_json()["total"] == 0
    calls = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fhir.call").order_by(AuditEvent.id)
    ).all()
    assert [(c.object_type, c.actor_role, c.actor_id) for c in calls] == [
        ("organization", "api-client", None),
        ("task", "api-client", None),
    ]
    assert calls[0].detail == f"client {ehr.client_id}: GET fhir.read"
    xml = client.get("/fhir/r4/Task?_format=xml", headers=bearer(access))
    assert xml.status_code == 406
    assert xml.get_json()["resourceType"] == "OperationOutcome"


def test_codes_are_those_of_the_value_sets():
    from portal.fhir.codes import BUSINESS_STATUS
    from portal.referrals.states import FHIR_TASK_STATUS

    task_statuses = {"requested", "received", "accepted", "rejected", "in-progress", "on-hold",
                     "completed", "cancelled", "draft"}  # fmt: skip
    assert set(FHIR_TASK_STATUS.values()) <= task_statuses
    bser = {"2.0", "3.0", "4.0", "5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.2", "6.0", "7.0"}
    assert {code for code, _ in BUSINESS_STATUS.values()} <= bser
    assert set(BUSINESS_STATUS) == set(FHIR_TASK_STATUS) - {State.DRAFT}
    assert BUSINESS_STATUS[State.DECLINED][0] == "4.0"
    assert BUSINESS_STATUS[State.COMPLETED][0] == "7.0"


def test_a_corrected_letter_replaces_the_superseded_one(client, world, ehr, course):
    from portal.letters.codes import new_code
    from portal.letters.models import SUPERSEDED, Letter
    from portal.letters.storage import seal_pdf

    referral, first = course
    original = pdf_bytes("Summary, version 1")  # a real PDF: a superseded one gets its band
    first.pdf, first.sha256 = seal_pdf(original), hashlib.sha256(original).hexdigest()
    pdf = pdf_bytes("Summary, version 2")
    second = Letter(referral=referral, kind=first.kind, version=2, pdf=seal_pdf(pdf),
                    sha256=hashlib.sha256(pdf).hexdigest(), signed_by_id=world.clinician.id,
                    verify_code=new_code())  # fmt: skip
    first.status = SUPERSEDED
    db.session.add(second)
    db.session.commit()
    access = token(client, ehr)
    old = get(client, access, f"DocumentReference/{first.id}").get_json()
    new = get(client, access, f"DocumentReference/{second.id}").get_json()
    assert (old["status"], new["status"], new["docStatus"]) == ("superseded", "current", "amended")
    assert new["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{first.id}"}}
    ]
