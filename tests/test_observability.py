"""Observability (issue 21 item 3): one JSON log line per request and per job, without the
path's values, the query string or anything about the patient; the request id in the header
and on error pages; Prometheus metrics served to the allow-listed address or the token only."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY

from portal.extensions import db
from tests.conftest import login, signed_in
from tests.factories import create_referral

REFERRAL_ROUTE = "/referrals/<int:referral_id>"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def parsed(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def request_lines():
    handler = Lines()
    logger = logging.getLogger("portal.requests")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def job_lines():
    handler = Lines()
    logger = logging.getLogger("portal.jobs.log")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_one_json_line_per_request_with_the_route_template_and_no_phi(app, world, request_lines):
    referral = create_referral(world.referrer, first_name="Zebulon", last_name="Quartermaine")
    db.session.commit()
    client = signed_in(app, world.referrer)
    response = client.get(f"/referrals/{referral.id}?search=Quartermaine&dob=1970-01-02")
    assert response.status_code == 200
    assert "Quartermaine" in response.get_data(as_text=True)  # the page shows the patient
    (line,) = request_lines.lines
    entry = json.loads(line)
    assert entry["kind"] == "request"
    assert entry["method"] == "GET"
    assert entry["route"] == REFERRAL_ROUTE
    assert entry["status"] == 200
    assert entry["user_id"] == world.referrer.id
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(entry["duration_ms"], float)
    assert entry["time"].endswith("Z")
    for leaked in ("Quartermaine", "Zebulon", "search", "1970", "?", f"/referrals/{referral.id}"):
        assert leaked not in line, leaked


def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(app, db, request_lines):
    client = app.test_client()
    kept = client.get("/login", headers={"X-Request-ID": "lb-4f2a9c01-77"})
    assert kept.headers["X-Request-ID"] == "lb-4f2a9c01-77"
    hostile = client.get("/login", headers={"X-Request-ID": "<script>alert(1)</script>"})
    replaced = hostile.headers["X-Request-ID"]
    assert len(replaced) == 32
    assert int(replaced, 16) >= 0
    assert [e["request_id"] for e in request_lines.parsed()] == ["lb-4f2a9c01-77", replaced]


def test_error_pages_show_the_request_id(app, world, request_lines):
    client = signed_in(app, world.referrer)
    response = client.get("/referrals/999999", headers={"X-Request-ID": "support-case-0042"})
    assert response.status_code == 404
    assert "Request id: <code>support-case-0042</code>" in response.get_data(as_text=True)
    (entry,) = request_lines.parsed()
    assert entry["route"] == REFERRAL_ROUTE
    assert entry["status"] == 404
    missing = client.get("/no/such/page")
    assert missing.headers["X-Request-ID"] in missing.get_data(as_text=True)
    assert request_lines.parsed()[-1]["route"] == "<unmatched>"


def _metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels or None) or 0.0


def test_metrics_are_refused_to_other_addresses_and_served_with_the_token(app, db, monkeypatch):
    client = app.test_client()
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    # X-Forwarded-For is not the address that connected.
    spoofed = client.get("/metrics", environ_base=remote, headers={"X-Forwarded-For": "127.0.0.1"})
    assert spoofed.status_code == 403
    local = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert local.status_code == 200
    assert "portal_request_seconds" in local.get_data(as_text=True)
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-0123456789")
    wrong = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 403
    token = {"Authorization": "Bearer scrape-token-0123456789"}
    assert client.get("/metrics", environ_base=remote, headers=token).status_code == 200
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "10.1.0.0/16")
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "198.51.100.4"},
        {"Forwarded": "for=198.51.100.4;proto=https"},
        {"X-Real-IP": "198.51.100.4"},
    ],
)
def test_metrics_through_the_proxy_on_this_host_need_the_token(app, db, monkeypatch, header):
    """The reverse proxy on the same host connects from 127.0.0.1 for every internet client:
    a request it forwarded is not let in by that address, only by METRICS_TOKEN."""
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    refused = client.get("/metrics", environ_base=proxy, headers=header)
    assert refused.status_code == 403
    assert "portal_request_seconds" not in refused.get_data(as_text=True)
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-0123456789")
    token = {"Authorization": "Bearer scrape-token-0123456789", **header}
    assert client.get("/metrics", environ_base=proxy, headers=token).status_code == 200
    # /healthz and /readyz are not gated by address.
    assert client.get("/healthz", environ_base=proxy, headers=header).status_code == 200


def test_request_latency_by_route_template_and_sign_in_failures_count(app, world):
    labels = {"route": REFERRAL_ROUTE, "method": "GET", "status": "404"}
    before = _metric("portal_request_seconds_count", **labels)
    failures = _metric("portal_signin_failures_total")
    client = signed_in(app, world.referrer)
    client.get("/referrals/999999")
    assert _metric("portal_request_seconds_count", **labels) == before + 1
    stranger = app.test_client()
    response = login(stranger, world.referrer, password="not-the-password-at-all")
    assert "do not match" in response.get_data(as_text=True)
    assert _metric("portal_signin_failures_total") == failures + 1
    text = stranger.get("/metrics").get_data(as_text=True)
    assert "portal_signin_failures_total" in text
    assert 'route="/referrals/<int:referral_id>"' in text


def test_a_job_logs_one_line_and_its_duration_and_the_letter_render_time(
    app, world, jobs, job_lines
):
    from portal.letters.tasks import acknowledge_task

    referral = create_referral(world.referrer, last_name="Quartermaine")
    db.session.commit()
    jobs.run()  # whatever sending the referral enqueued
    job_lines.lines.clear()
    done = _metric("portal_job_seconds_count", task="acknowledge_task", outcome="complete")
    renders = _metric("portal_letter_render_seconds_count")
    acknowledge_task(referral.id)
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert "portal_job_queue_depth 1.0" in metrics
    assert "portal_job_queue_oldest_seconds" in metrics
    assert jobs.run() == 1
    (entry,) = job_lines.parsed()
    assert entry["kind"] == "job"
    assert entry["task"] == "acknowledge_task"
    assert entry["outcome"] == "complete"
    assert entry["duration_ms"] > 0
    assert "Quartermaine" not in job_lines.lines[0]
    # The task's arguments (the referral's id) are not in the line.
    assert set(entry) == {
        "time",
        "kind",
        "job_id",
        "task",
        "outcome",
        "duration_ms",
        "retries_left",
    }
    assert _metric("portal_job_seconds_count", task="acknowledge_task", outcome="complete") == (
        done + 1
    )
    assert _metric("portal_letter_render_seconds_count") >= renders + 1
    after = app.test_client().get("/metrics").get_data(as_text=True)
    assert "portal_job_queue_depth 0.0" in after
