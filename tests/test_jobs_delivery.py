"""The outbox jobs made by one factory (portal.jobs.delivery_jobs) keep the names huey gave
them before: a job queued by the portal before a deploy names its task in the message, and the
new code still runs it."""

from __future__ import annotations

import uuid

from huey.registry import Message
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import huey
from portal.notifications.models import SENT, OutboxMessage
from portal.notifications.service import notify
from tests.notification_helpers import jobs, mailbox  # noqa: F401 - fixtures

NAMES = {
    "portal.notifications.tasks.deliver_task": False,
    "portal.notifications.tasks.sweep_outbox": True,
    "portal.fhir.hook_tasks.deliver_hook_task": False,
    "portal.fhir.hook_tasks.sweep_hooks": True,
}


def test_the_tasks_answer_to_the_names_queued_jobs_carry(app):
    periodic = {huey._registry.task_to_string(t) for t in huey._registry._periodic_tasks}
    for name, is_periodic in NAMES.items():
        assert huey._registry.string_to_task(name)
        assert (name in periodic) is is_periodic


def _queued_before_the_deploy(name: str, *args) -> None:
    """A message as the previous code wrote it to the queue: the task by its name."""
    message = Message(
        id=str(uuid.uuid4()), name=name, eta=None, retries=0, retry_delay=0, priority=None,
        args=args, kwargs={}, on_complete=None, on_error=None, expires=None,
        expires_resolved=None, timeout=None, chord_config=None, retry_backoff=None,
    )  # fmt: skip
    huey.storage.enqueue(huey.serializer.serialize(message))


def test_an_email_queued_before_the_deploy_is_sent_after_it(app, world, mailbox, jobs):  # noqa: F811
    notify("account_request", [world.referrer])
    db.session.commit()
    huey.flush()  # the enqueue of this code: gone, only the old message is left
    row = db.session.scalar(select(OutboxMessage))
    _queued_before_the_deploy("portal.notifications.tasks.deliver_task", row.id)
    assert jobs.run() == 1
    db.session.refresh(row)
    assert row.status == SENT
    assert [m.to for m in mailbox.received] == [world.referrer.email]
