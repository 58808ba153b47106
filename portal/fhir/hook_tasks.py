"""The rest-hook jobs on the queue (portal.jobs.delivery_jobs): post one delivery (and schedule
its next try); every minute, sweep for deliveries due (retries, enqueues lost); each committed
delivery row handed to the queue. Also connects the subscriptions to referrals'
`referral_event` signal."""

from __future__ import annotations

from portal.fhir.models import FhirHookDelivery
from portal.jobs import delivery_jobs

deliver_hook_task, sweep_hooks = delivery_jobs(
    module=__name__,
    model=FhirHookDelivery,
    task_name="deliver_hook_task",
    sweep_name="sweep_hooks",
    service="portal.fhir.hooks",
)


def init_app(app) -> None:
    from portal.fhir import subscriptions

    subscriptions.connect()
