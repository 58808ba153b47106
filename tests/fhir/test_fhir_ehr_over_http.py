"""An EHR drives the API over HTTP on 127.0.0.1 with an independent FHIR client library
(SMART on FHIR's `fhirclient`), signing its own JWT assertion; the clinic works in the pages.
The EHR subscribes (a rest-hook Subscription created through the API) and its receiver, a real
HTTP server on 127.0.0.1, gets a notification for each change of the Task, posted by the job
queue as the worker runs it."""

from __future__ import annotations

import base64
import hashlib
import re

from fhirclient.client import FHIRClient
from fhirclient.models.documentreference import DocumentReference
from fhirclient.models.observation import Observation
from fhirclient.models.servicerequest import ServiceRequest
from fhirclient.models.subscription import Subscription
from fhirclient.models.task import Task

from tests.conftest import csrf_token, force_login
from tests.factories import PASSWORD
from tests.fhir.helpers import ALL_SCOPES, NPI, Ehr, assert_valid, pdf_bytes, referral_bundle
from tests.fhir.receiver import run_queue

SCOPES = f"{ALL_SCOPES} system/Subscription.crs"


def connect(base: str, ehr: Ehr) -> FHIRClient:
    """fhirclient reads the token URL from the CapabilityStatement and posts our assertion."""
    ehr_token_url = f"{base}/fhir/r4/auth/token"
    settings = {
        "app_id": ehr.client_id,
        "api_base": f"{base}/fhir/r4",
        "scope": SCOPES,
        "jwt_token": ehr.assertion(aud=ehr_token_url),
    }
    smart = FHIRClient(settings=settings, save_func=lambda state: None)
    smart.wants_patient = False
    smart.prepare()
    smart.authorize()
    assert smart.ready
    return smart


def _post(client, path, data, token_from):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def _version(client, path) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


def _subscribe(smart: FHIRClient, endpoint: str) -> str:
    """A rest-hook Subscription on the EHR's Tasks, created through the API by fhirclient."""
    subscription = Subscription(
        {
            "resourceType": "Subscription",
            "status": "requested",
            "reason": "Follow our referrals",
            "criteria": "Task",
            "channel": {
                "type": "rest-hook",
                "endpoint": endpoint,
                "header": ["Authorization: Bearer hook-secret"],
            },
        }  # fmt: skip
    )
    created = subscription.create(smart.server)
    assert_valid(created)
    assert created["status"] == "active"
    return created["id"]


def _notified(jobs, receiver) -> int:
    """Run the job queue as the worker does; the notifications the receiver has got so far,
    each an empty POST carrying the receiver's own secret."""
    run_queue(jobs)
    for post in receiver.posts:
        assert (post["path"], post["body"]) == ("/hook", b"")
        assert post["headers"]["Authorization"] == "Bearer hook-secret"
    return len(receiver.posts)


def test_an_ehr_sends_a_referral_and_follows_it_to_the_signed_summary(app, served, world,
                                                                      receiver, jobs):  # fmt: skip
    world.referrer.npi = NPI
    ehr = Ehr()
    ehr.register(world.practice.id, SCOPES)
    smart = connect(served, ehr)
    subscription_id = _subscribe(smart, receiver.url)

    # The EHR sends the referral with a PDF and sees it requested.
    response = smart.server.post_json(
        "", referral_bundle(pdf=pdf_bytes(), identifier="ord-1", base=f"{served}/fhir/r4")
    )
    outcome = response.json()
    assert_valid(outcome)
    referral_id = outcome["entry"][0]["response"]["location"].split("/")[1]
    tasks = list(
        Task.where({"focus": f"ServiceRequest/{referral_id}"}).perform_resources_iter(smart.server)
    )
    assert [(t.status, t.businessStatus.coding[0].code) for t in tasks] == [("requested", "2.0")]
    sent = _notified(jobs, receiver)
    assert sent == 1  # the referral sent: its Task was created
    request = ServiceRequest.read(referral_id, smart.server)
    assert request.code.coding[0].code == "3457005"

    # The coordinator opens and accepts it in the pages.
    staff = app.test_client()
    force_login(staff, world.coordinator)
    path = f"/referrals/{referral_id}"
    _post(staff, f"/triage/{referral_id}/open", {"version": _version(staff, path)}, path)
    accept = f"/triage/{referral_id}/accept"
    response = _post(
        staff,
        accept,
        {
            "version": _version(staff, accept),
            "modality": "iv_ketamine",
            "clinician_id": str(world.clinician.id),
            "planned_sessions": "6",
            "reason": "Welcome.",
        },
        accept,
    )
    assert response.status_code == 302
    task = Task.read(referral_id, smart.server)
    assert (task.status, task.businessStatus.coding[0].code) == ("accepted", "3.0")
    accepted = _notified(jobs, receiver)
    assert accepted == sent + 2  # opened (received), then accepted

    # The clinician documents two sessions with a PHQ-9, completes and signs the summary.
    doc = app.test_client()
    force_login(doc, world.clinician)
    for day, answers in (("2026-10-05", [2, 1, 1, 1, 1, 1, 1, 1, 0]), ("2026-10-07", [1] * 9)):
        form = f"/treatment/referrals/{referral_id}/sessions/new"
        done = _post(doc, form, _iv_session(_version(doc, form), day, answers), form)
        assert done.status_code == 302, done.get_data(as_text=True)
    task = Task.read(referral_id, smart.server)
    assert (task.status, task.businessStatus.coding[0].code) == ("in-progress", "5.1.4")
    _post(doc, f"/treatment/referrals/{referral_id}/complete", {"version": _version(doc, path)},
          path)  # fmt: skip
    edit = _post(doc, f"/letters/referrals/{referral_id}/new", {"kind": "treatment_summary"},
                 path).location  # fmt: skip
    _post(doc, edit, {"narrative": "Good response.", "action": "save"}, edit)
    letter_id = re.search(r"/letters/(\d+)", edit).group(1)
    signed = _post(doc, f"/letters/{letter_id}/sign", {"password": PASSWORD}, edit)
    assert signed.status_code == 302

    # The EHR sees the course completed, reads the PHQ-9s and downloads the signed summary.
    task = Task.read(referral_id, smart.server)
    assert (task.status, task.businessStatus.coding[0].code) == ("completed", "7.0")
    assert _notified(jobs, receiver) > accepted  # the sessions, the completion, the letter
    keys = [post["headers"]["Idempotency-Key"] for post in receiver.posts]
    assert len(set(keys)) == len(keys)
    assert Subscription.read(subscription_id, smart.server).status == "active"
    observations = list(
        Observation.where(
            {"based-on": f"ServiceRequest/{referral_id}", "_count": "200"}
        ).perform_resources_iter(smart.server)
    )
    totals = [o.valueInteger for o in observations if o.code.coding[0].code == "44261-6"]
    assert sorted(totals) == [9, 9, 12]  # the baseline sent, then the two sessions
    documents = DocumentReference.where(
        {"related": f"ServiceRequest/{referral_id}"}
    ).perform_resources_iter(smart.server)
    summary = next(d for d in documents if d.type.coding[0].code == "treatment_summary")
    pdf = smart.server.request_data(f"Binary/{summary.id}", headers={"Accept": "application/pdf"})
    attachment = summary.content[0].attachment
    assert pdf.startswith(b"%PDF")
    assert base64.b64encode(hashlib.sha1(pdf).digest()).decode() == attachment.hash  # noqa: S324
    assert hashlib.sha256(pdf).hexdigest() == summary.identifier[0].value


def _iv_session(version: str, day: str, answers: list[int]) -> dict:
    return {
        "version": version,
        "session_date": day,
        "modality": "iv_ketamine",
        "weight_kg": "70",
        "dose_mg_per_kg": "0.5",
        "infusion_minutes": "40",
        "infusion_started_at": "09:00",
        "lot_number": "KET-2211",
        "bp_pre_systolic": "124",
        "bp_pre_diastolic": "80",
        "bp_post_systolic": "132",
        "bp_post_diastolic": "84",
        "notes": "",
        **{f"phq9_{i}": str(a) for i, a in enumerate(answers, start=1)},
    }
