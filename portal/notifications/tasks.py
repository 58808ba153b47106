"""The notification jobs on the queue: deliver one outbox row (and schedule its next try);
every minute, sweep for rows due (retries, rows whose enqueue was lost); every hour, the
digests and reminders due (to staff and to patients). Also hands each committed outbox row to
the queue."""

from __future__ import annotations

from huey import crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.jobs import after_commit, huey, in_app
from portal.notifications.models import PENDING, OutboxMessage


@huey.task()
@in_app
def deliver_task(outbox_id: int) -> str | None:
    from portal.extensions import db
    from portal.notifications.delivery import deliver

    status = deliver(outbox_id)
    if status == PENDING:  # a temporary failure: try again after the back-off
        row = db.session.get(OutboxMessage, outbox_id)
        deliver_task.schedule((outbox_id,), eta=row.next_attempt_at)
    return status


@huey.periodic_task(crontab(minute="*"))
@in_app
def sweep_outbox() -> dict[str, int]:
    from portal.notifications.delivery import deliver_due

    return deliver_due()


@huey.periodic_task(crontab(minute="0"))
@huey.lock_task("hourly-notifications")  # one worker at a time; a later run finds it done
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


# After the commit, hand each new outbox row to the queue; a rolled-back one never existed.
@event.listens_for(Session, "after_flush")
def _enqueue_new_rows(session: Session, _context) -> None:
    for obj in session.new:
        if isinstance(obj, OutboxMessage):
            after_commit(deliver_task, obj.id, session=session)


def enqueue_after_commit(outbox_id: int) -> None:
    """Hand an existing row (an admin's retry) to the queue once the transaction commits."""
    after_commit(deliver_task, outbox_id)
