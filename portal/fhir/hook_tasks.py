"""The rest-hook jobs on the queue: post one delivery (and schedule its next try); every
minute, sweep for deliveries due (retries, enqueues lost). Also hands each committed delivery
row to the queue, and connects the subscriptions to referrals' `referral_event` signal."""

from __future__ import annotations

from huey import crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.fhir.models import FhirHookDelivery
from portal.jobs import after_commit, huey, in_app


@huey.task()
@in_app
def deliver_hook_task(delivery_id: int) -> str | None:
    from portal.extensions import db
    from portal.fhir.hooks import PENDING, deliver

    status = deliver(delivery_id)
    if status == PENDING:  # a temporary failure: try again after the back-off
        row = db.session.get(FhirHookDelivery, delivery_id)
        deliver_hook_task.schedule((delivery_id,), eta=row.next_attempt_at)
    return status


@huey.periodic_task(crontab(minute="*"))
@in_app
def sweep_hooks() -> dict[str, int]:
    from portal.fhir.hooks import deliver_due

    return deliver_due()


@event.listens_for(Session, "after_flush")
def _enqueue_new_rows(session: Session, _context) -> None:
    for obj in session.new:
        if isinstance(obj, FhirHookDelivery):
            after_commit(deliver_hook_task, obj.id, session=session)


def init_app(app) -> None:
    from portal.fhir import subscriptions

    subscriptions.connect()
