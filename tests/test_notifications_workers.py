"""Two real workers (`flask --app portal worker`, two processes) on one outbox and one queue:
every message is sent exactly once, even with each job enqueued twice so that they race."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from huey.storage import SqliteStorage
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import huey
from portal.notifications.models import SENT, OutboxMessage
from portal.notifications.service import notify
from portal.notifications.tasks import deliver_task

FLASK = str(Path(sys.executable).with_name("flask"))
MESSAGES = 30


@pytest.fixture
def shared_queue(app, tmp_path):
    """The test's app and the workers share one SQLite queue file."""
    path = tmp_path / "queue.sqlite3"
    before = huey.storage
    huey.storage = SqliteStorage(name=app.config["QUEUE_NAME"], filename=str(path))
    yield path
    huey.storage = before


def _worker(queue: Path, port: int, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORTAL_ENV": "testing",
        "TEST_MAIL_SERVER": "127.0.0.1",
        "TEST_MAIL_PORT": str(port),
        "TEST_QUEUE_SQLITE_PATH": str(queue),
    }
    return subprocess.Popen(
        [FLASK, "--app", "portal", "worker", "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_until_started(paths: list[Path], workers: list[subprocess.Popen]) -> None:
    """Both consumers are polling before any job is queued, or the first one up takes them all."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all("Huey consumer started" in path.read_text() for path in paths):
            return
        assert all(worker.poll() is None for worker in workers), "a worker stopped at start-up"
        time.sleep(0.1)
    raise AssertionError("the workers did not start within 60 s")


def test_two_workers_send_each_message_once(app, world, mailbox, shared_queue, tmp_path):
    paths = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    logs = [path.open("w") for path in paths]
    workers = [_worker(shared_queue, mailbox.port, log) for log in logs]
    try:
        _wait_until_started(paths, workers)
        people = [world.referrer, world.colleague, world.other_referrer]
        for _ in range(MESSAGES // len(people)):
            notify("account_request", people)  # any kind will do: the outbox is the same
        db.session.commit()  # each row is enqueued once by the commit...
        ids = list(db.session.scalars(select(OutboxMessage.id)))
        assert len(ids) == MESSAGES
        for outbox_id in ids:  # ...and once more, so that both workers race for every row
            deliver_task(outbox_id)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.expire_all()
            statuses = set(db.session.scalars(select(OutboxMessage.status)))
            if statuses == {SENT}:
                break
            time.sleep(0.25)
        time.sleep(1)  # a duplicate send, if any, would arrive now
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for worker in workers:
            worker.wait(timeout=30)
        for log in logs:
            log.close()
    output = "\n".join((tmp_path / f"worker{n}.log").read_text() for n in (1, 2))
    assert statuses == {SENT}, output
    message_ids = Counter(m.message["Message-ID"] for m in mailbox.received)
    assert len(message_ids) == MESSAGES
    assert set(message_ids.values()) == {1}, "a message was sent twice"
    workers_used = {row.claimed_by for row in db.session.scalars(select(OutboxMessage))}
    assert len(workers_used) == 2, "both workers should have sent some"
