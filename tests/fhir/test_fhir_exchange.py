"""The clinic's question as a CommunicationRequest, the EHR's answer as a Communication (the
same state move as the page's answer box), and booked visits as Appointments."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.states import State
from tests.factories import accepted_referral, book, next_weekday, questioned_referral
from tests.fhir.helpers import assert_valid, bearer, token


def test_the_ehr_reads_the_question_and_answers_it(client, world, ehr):
    referral = questioned_referral(world.referrer, world.coordinator, "Any prior ECT?")
    db.session.commit()
    access = token(client, ehr)
    task = client.get(f"/fhir/r4/Task/{referral.id}", headers=bearer(access)).get_json()
    assert task["status"] == "on-hold"
    assert task["statusReason"]["text"] == "Any prior ECT?"
    found = client.get(
        f"/fhir/r4/CommunicationRequest?based-on=ServiceRequest/{referral.id}",
        headers=bearer(access),
    ).get_json()
    assert_valid(found)
    question = found["entry"][0]["resource"]
    assert (question["status"], question["payload"][0]["contentString"]) == (
        "active",
        "Any prior ECT?",
    )
    reply = {
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{referral.id}"}],
        "payload": [{"contentString": "No ECT; two TMS courses in 2024."}],
    }
    response = client.post("/fhir/r4/Communication", json=reply, headers=bearer(access))
    assert response.status_code == 201, response.get_json()
    assert_valid(response.get_json())
    db.session.expire_all()
    referral = db.session.scalar(select(Referral).where(Referral.id == referral.id))
    assert referral.state == State.IN_REVIEW
    assert referral.events[-1].reason == "No ECT; two TMS courses in 2024."
    again = client.post("/fhir/r4/Communication", json=reply, headers=bearer(access))
    assert again.status_code == 422  # the clinic is no longer waiting
    read = client.get(response.headers["Location"].join(["/fhir/r4/", ""]), headers=bearer(access))
    assert read.get_json()["payload"][0]["contentString"].startswith("No ECT")


def test_booked_visits_are_appointments(client, world, ehr):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    monday = next_weekday(0)
    book(referral, world.coordinator, [monday, next_weekday(2, monday)])
    db.session.commit()
    access = token(client, ehr)
    task = client.get(f"/fhir/r4/Task/{referral.id}", headers=bearer(access)).get_json()
    assert task["businessStatus"]["coding"][0]["code"] == "5.1.1"
    found = client.get(
        f"/fhir/r4/Appointment?based-on=ServiceRequest/{referral.id}", headers=bearer(access)
    ).get_json()
    assert_valid(found)
    visits = [e["resource"] for e in found["entry"]]
    assert [v["requestedPeriod"][0]["start"] for v in visits][0] == monday.isoformat()
    assert {v["status"] for v in visits} == {"booked"}
    one = client.get(f"/fhir/r4/Appointment/{visits[0]['id']}", headers=bearer(access))
    assert_valid(one.get_json())
