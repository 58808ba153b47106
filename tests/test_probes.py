"""The load balancer's probes (issue 21 item 2): /healthz answers without the database;
/readyz checks the database, its migrations, Redis when configured and the job queue's depth.
Neither needs a sign-in, writes an audit row, shows PHI, or is rate-limited by a 5-second
probe."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, text

from portal.audit.models import AuditEvent
from portal.extensions import db


def _statements(app):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    return seen, count


def test_healthz_answers_without_the_database_or_a_session(app, world):
    seen, count = _statements(app)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = app.test_client().get("/healthz")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert seen == []
    assert "Set-Cookie" not in response.headers
    assert response.headers["X-Request-ID"]
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_with_every_check_and_writes_no_audit_row(app, world):
    audit_rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
    client = app.test_client()
    # A probe every 5 seconds for an hour is 720 requests: none refused by a limiter.
    answers = [client.get("/readyz") for _ in range(60)]
    assert {r.status_code for r in answers} == {200}
    assert answers[0].get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "queue": "ok"},
    }
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows
    assert client.head("/healthz").status_code == 200
    assert client.post("/readyz").status_code == 405


@pytest.fixture
def migrated_elsewhere(app, db):
    """The database says it is at another revision (a node started before `flask db
    upgrade`, or after a downgrade); put back after the test."""
    with db.engine.begin() as conn:
        heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        conn.execute(text("UPDATE alembic_version SET version_num = 'prodolder0001'"))
    yield
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        for head in heads:
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})


def test_readyz_fails_when_migrations_are_not_at_head(app, migrated_elsewhere):
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["migrations"] == "not at head"
    assert body["checks"]["database"] == "ok"


def test_readyz_fails_when_the_job_queue_is_too_deep(app, world, jobs, monkeypatch):
    from portal.letters.tasks import acknowledge_task

    monkeypatch.setitem(app.config, "READY_MAX_QUEUE_DEPTH", 3)
    for referral_id in (1, 2):
        acknowledge_task(referral_id)
    assert app.test_client().get("/readyz").status_code == 200
    acknowledge_task(3)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["queue"] == "3 jobs waiting (limit 3)"


def test_readyz_fails_when_redis_does_not_answer(app, db, monkeypatch):
    from tests.notification_helpers import free_port

    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.get_data(as_text=True))
    assert body["checks"]["redis"] == "unreachable"
