"""R4 rest-hook Subscriptions on the client's Tasks: a real HTTP receiver on 127.0.0.1 gets an
empty POST (no PHI) for each change of a matching Task, through the durable delivery rows and
the huey queue (run in this process, and by a real `flask worker` process); retries with
back-off, the subscription in `error` after the last try; scopes, other practices (404), bad
subscriptions (422); every delivery audited as the client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from huey.storage import SqliteStorage
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.fhir.models import FhirHookDelivery, FhirSubscription
from portal.jobs import huey
from portal.referrals.service import change_state
from portal.referrals.states import State
from tests.factories import create_referral
from tests.fhir.helpers import ALL_SCOPES, Ehr, assert_valid, bearer, token
from tests.fhir.receiver import run_queue

SCOPES = f"{ALL_SCOPES} system/Subscription.crds"
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture
def access(client, world, ehr):
    from portal.fhir.models import FhirClient

    registered = db.session.scalar(select(FhirClient).where(FhirClient.client_id == ehr.client_id))
    registered.scopes = f"{registered.scopes} system/Subscription.crds"
    db.session.commit()
    return token(client, ehr, SCOPES)


def subscription(endpoint: str, criteria: str = "Task", **channel) -> dict:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Follow our referrals",
        "criteria": criteria,
        "channel": {"type": "rest-hook", "endpoint": endpoint,
                    "header": ["Authorization: Bearer receiver-secret"], **channel},
    }  # fmt: skip


def subscribe(client, access, body) -> dict:
    response = client.post("/fhir/r4/Subscription", json=body, headers=bearer(access))
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert_valid(created)
    return created


def test_a_change_of_a_task_posts_an_empty_notification(client, world, ehr, access, receiver,
                                                        jobs):  # fmt: skip
    created = subscribe(client, access, subscription(receiver.url))
    assert created["status"] == "active"
    assert created["channel"]["endpoint"] == receiver.url
    referral = create_referral(world.referrer)  # submitted: the client's Task is "requested"
    db.session.commit()
    run_queue(jobs)
    assert len(receiver.posts) == 1
    change_state(referral, State.IN_REVIEW, actor=world.coordinator,
                 expected_version=referral.version)  # fmt: skip
    db.session.commit()
    run_queue(jobs)
    assert len(receiver.posts) == 2
    for post in receiver.posts:
        assert post["body"] == b""  # payload empty: nothing about the patient leaves
        assert post["path"] == "/hook"
        assert post["headers"]["Authorization"] == "Bearer receiver-secret"
    keys = {post["headers"]["Idempotency-Key"] for post in receiver.posts}
    assert len(keys) == 2
    # The receiver then searches: the Task is received.
    found = client.get(f"/fhir/r4/Task?focus=ServiceRequest/{referral.id}", headers=bearer(access))
    assert found.get_json()["entry"][0]["resource"]["status"] == "received"
    audits = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fhir.subscription.notify")))  # fmt: skip
    assert len(audits) == 2
    for event in audits:
        assert event.actor_role == "api-client"
        assert event.actor_id is None
        assert event.detail.startswith(f"client {ehr.client_id}: Task/{referral.id}")
        assert event.object_id == int(created["id"])


def test_a_rolled_back_change_notifies_nobody(client, world, ehr, access, receiver, jobs):
    subscribe(client, access, subscription(receiver.url))
    referral = create_referral(world.referrer)
    db.session.rollback()
    assert referral is not None
    assert db.session.scalar(select(FhirHookDelivery.id)) is None
    run_queue(jobs)
    assert receiver.posts == []


def test_criteria_narrow_the_notifications(client, world, ehr, access, receiver, jobs):
    first = create_referral(world.referrer)
    second = create_referral(world.referrer)
    theirs = create_referral(world.other_referrer)
    db.session.commit()
    subscribe(client, access, subscription(receiver.url, f"Task?focus=ServiceRequest/{first.id}"))
    subscribe(client, access, subscription(receiver.url + "/accepted", "Task?status=received"))
    for referral in (first, second, theirs):
        change_state(referral, State.IN_REVIEW, actor=world.coordinator,
                     expected_version=referral.version)  # fmt: skip
    db.session.commit()
    run_queue(jobs)
    rows = list(db.session.scalars(select(FhirHookDelivery).order_by(FhirHookDelivery.id)))
    assert [row.referral_id for row in rows] == [first.id, first.id, second.id]  # not theirs
    assert sorted(post["path"] for post in receiver.posts) == [
        "/hook", "/hook/accepted", "/hook/accepted"]  # fmt: skip


def test_a_failing_endpoint_is_retried_then_the_subscription_errs(client, world, ehr, access,
                                                                   receiver, jobs):  # fmt: skip
    created = subscribe(client, access, subscription(receiver.url))
    receiver.fail_next = 2
    create_referral(world.referrer)
    db.session.commit()
    run_queue(jobs)
    delivery = db.session.scalar(select(FhirHookDelivery))
    assert (delivery.status, delivery.tries) == ("sent", 3)  # two 500s, then delivered
    assert len(receiver.posts) == 1
    retries = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "fhir.subscription.retry")
    ).all()
    assert len(retries) == 2
    assert all("HTTP 500" in d for d in retries)
    receiver.fail_next = 3  # FHIR_HOOK_MAX_TRIES in testing
    create_referral(world.referrer)
    db.session.commit()
    run_queue(jobs)
    db.session.expire_all()
    row = db.session.get(FhirSubscription, int(created["id"]))
    assert row.status == "error"
    read = client.get(f"/fhir/r4/Subscription/{created['id']}", headers=bearer(access))
    assert read.get_json()["status"] == "error"
    assert "HTTP 500" in read.get_json()["error"]
    assert_valid(read.get_json())
    create_referral(world.referrer)  # an errored subscription is told nothing more
    db.session.commit()
    run_queue(jobs)
    assert len(receiver.posts) == 1


def test_a_redirect_is_not_followed(client, world, ehr, access, receiver, jobs):
    subscribe(client, access, subscription(receiver.url))
    receiver.redirect = True
    create_referral(world.referrer)
    db.session.commit()
    run_queue(jobs)
    assert receiver.posts == []  # never posted to /elsewhere
    delivery = db.session.scalar(select(FhirHookDelivery))
    assert (delivery.status, delivery.last_error) == ("failed", "HTTP 307")


def test_an_unreachable_endpoint_is_retried_with_back_off(app, client, world, ehr, access, jobs,
                                                          monkeypatch):  # fmt: skip
    monkeypatch.setitem(app.config, "FHIR_HOOK_RETRY_SECONDS", 60)
    subscribe(client, access, subscription("http://127.0.0.1:9/closed"))  # nothing listens
    create_referral(world.referrer)
    db.session.commit()
    jobs.run()
    delivery = db.session.scalar(select(FhirHookDelivery))
    assert (delivery.status, delivery.tries) == ("pending", 1)
    waited = (delivery.next_attempt_at - datetime.now(UTC)).total_seconds()
    assert 50 < waited <= 60
    assert [t.name for t in huey.scheduled()] == ["deliver_hook_task"]


def test_read_search_and_delete_are_the_practices_own(client, world, ehr, access, receiver,
                                                      jobs):  # fmt: skip
    created = subscribe(client, access, subscription(receiver.url))
    other = Ehr()
    other.register(world.other_practice.id, scopes=SCOPES)
    theirs = token(client, other, SCOPES)
    path = f"/fhir/r4/Subscription/{created['id']}"
    assert client.get(path, headers=bearer(theirs)).status_code == 404
    assert client.delete(path, headers=bearer(theirs)).status_code == 404
    listed = client.get("/fhir/r4/Subscription", headers=bearer(theirs)).get_json()
    assert listed["total"] == 0
    mine = client.get("/fhir/r4/Subscription", headers=bearer(access)).get_json()
    assert_valid(mine)
    assert [e["resource"]["id"] for e in mine["entry"]] == [created["id"]]
    assert client.delete(path, headers=bearer(access)).status_code == 204
    assert client.get(path, headers=bearer(access)).get_json()["status"] == "off"
    create_referral(world.referrer)
    db.session.commit()
    run_queue(jobs)
    assert receiver.posts == []


def test_another_client_of_the_same_practice_neither_sees_nor_deletes_them(
    client, world, ehr, access, receiver, jobs
):
    """Two systems of one practice (its EHR and, say, a scheduling tool): each subscription,
    with the secret in its channel header, is its own client's alone."""
    created = subscribe(client, access, subscription(receiver.url))
    second = Ehr()
    second.register(world.practice.id, scopes=SCOPES)
    theirs = token(client, second, SCOPES)
    path = f"/fhir/r4/Subscription/{created['id']}"
    assert client.get(path, headers=bearer(theirs)).status_code == 404
    assert client.delete(path, headers=bearer(theirs)).status_code == 404
    listed = client.get("/fhir/r4/Subscription", headers=bearer(theirs))
    assert listed.get_json()["total"] == 0
    assert "receiver-secret" not in listed.get_data(as_text=True)
    assert client.get(path, headers=bearer(access)).get_json()["status"] == "active"
    # The second system's own subscription is its own; both are told of the practice's referral.
    own = subscribe(client, theirs, subscription(receiver.url))
    mine = client.get("/fhir/r4/Subscription", headers=bearer(access)).get_json()
    assert [e["resource"]["id"] for e in mine["entry"]] == [created["id"]]
    create_referral(world.referrer)
    db.session.commit()
    run_queue(jobs)
    assert len(receiver.posts) == 2
    assert own["id"] != created["id"]


def test_scopes_are_enforced(client, world, ehr, access, receiver):
    no_subscription = token(client, ehr, ALL_SCOPES)
    response = client.post("/fhir/r4/Subscription", json=subscription(receiver.url),
                           headers=bearer(no_subscription))  # fmt: skip
    assert response.status_code == 403
    no_task = token(client, ehr, "system/Subscription.c")
    response = client.post("/fhir/r4/Subscription", json=subscription(receiver.url),
                           headers=bearer(no_task))  # fmt: skip
    assert response.status_code == 403
    assert db.session.scalar(select(FhirSubscription.id)) is None


def test_bad_subscriptions_are_refused_with_each_problem(app, client, world, ehr, access,
                                                        monkeypatch):  # fmt: skip
    theirs = create_referral(world.other_referrer)
    db.session.commit()
    body = subscription("http://hooks.example.test/x", f"Task?focus=ServiceRequest/{theirs.id}",
                        payload="application/fhir+json", header=["bad header\r\nX: y"])  # fmt: skip
    body["channel"]["type"] = "websocket"
    del body["reason"]
    response = client.post("/fhir/r4/Subscription", json=body, headers=bearer(access))
    assert response.status_code == 422
    outcome = response.get_json()
    assert_valid(outcome)
    where = {issue["expression"][0] for issue in outcome["issue"]}
    assert where == {"Subscription.reason", "Subscription.criteria", "Subscription.channel.type",
                     "Subscription.channel.endpoint", "Subscription.channel.payload",
                     "Subscription.channel.header"}  # fmt: skip
    monkeypatch.setitem(app.config, "FHIR_HOOK_ALLOW_HTTP", False)
    response = client.post("/fhir/r4/Subscription", json=subscription("http://127.0.0.1:9/x"),
                           headers=bearer(access))  # fmt: skip
    assert response.status_code == 422
    assert "https" in response.get_json()["issue"][0]["diagnostics"]
    assert db.session.scalar(select(FhirSubscription.id)) is None


def test_the_capability_statement_lists_subscriptions(client):
    statement = client.get("/fhir/r4/metadata").get_json()
    assert_valid(statement)
    kinds = {r["type"]: r for r in statement["rest"][0]["resource"]}
    codes = {i["code"] for i in kinds["Subscription"]["interaction"]}
    assert codes == {"create", "read", "search-type", "delete"}


@pytest.fixture
def shared_queue(app, tmp_path):
    path = tmp_path / "queue.sqlite3"
    before = huey.storage
    huey.storage = SqliteStorage(name=app.config["QUEUE_NAME"], filename=str(path))
    yield path
    huey.storage = before


def test_a_real_worker_process_posts_the_notifications(client, world, ehr, access, receiver,
                                                       shared_queue, tmp_path):  # fmt: skip
    subscribe(client, access, subscription(receiver.url))
    env = {**os.environ, "PORTAL_ENV": "testing", "TEST_QUEUE_SQLITE_PATH": str(shared_queue)}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([FLASK, "--app", "portal", "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)  # fmt: skip
    try:
        receiver.fail_next = 1  # the first try fails; the worker's retry delivers
        for _ in range(3):
            create_referral(world.referrer)
        db.session.commit()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(receiver.posts) < 3:
            time.sleep(0.25)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
        log.close()
    assert len(receiver.posts) == 3, (tmp_path / "worker.log").read_text()[-2000:]
    db.session.expire_all()
    assert set(db.session.scalars(select(FhirHookDelivery.status))) == {"sent"}
