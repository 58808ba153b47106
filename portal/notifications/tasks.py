"""The notification jobs on the queue: deliver one outbox row (and schedule its next try),
every minute sweep for rows due (retries, rows whose enqueue was lost), each committed outbox
row handed to the queue (all three from portal.jobs.delivery_jobs); every hour, the digests
and reminders due (to staff and to patients)."""

from __future__ import annotations

from portal.jobs import after_commit, delivery_jobs, in_app, periodic_task
from portal.notifications.models import PENDING, OutboxMessage

deliver_task, sweep_outbox = delivery_jobs(
    module=__name__,
    model=OutboxMessage,
    task_name="deliver_task",
    sweep_name="sweep_outbox",
    service="portal.notifications.delivery",
    pending=PENDING,
)


@periodic_task(minute="0", lock="hourly-notifications")
@in_app
def hourly_notifications() -> None:
    from portal.extensions import db
    from portal.notifications.digest import send_digests
    from portal.notifications.patients import remind_patients
    from portal.notifications.reminders import remind_due

    send_digests()
    remind_due()
    remind_patients()
    db.session.commit()


def enqueue_after_commit(outbox_id: int) -> None:
    """Hand an existing row (an admin's retry) to the queue once the transaction commits."""
    after_commit(deliver_task, outbox_id)
