"""Posting rest-hook notifications from the worker: claim a delivery row, POST an empty body
to the subscription's endpoint (its headers added), record the outcome, retry with back-off,
and after the last try mark the subscription `error`. Every try is audited as the client's
(actor_role "api-client", detail "client <client_id>"). No PHI leaves: the body is empty."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db
from portal.fhir.access import API_ROLE, client_label
from portal.fhir.models import FhirHookDelivery

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
CLAIM_TIMEOUT = timedelta(minutes=10)
TIMEOUT_SECONDS = 10


def _due():
    now = utcnow()
    return or_(
        (FhirHookDelivery.status == PENDING) & (FhirHookDelivery.next_attempt_at <= now),
        (FhirHookDelivery.status == SENDING) & (FhirHookDelivery.claimed_at < now - CLAIM_TIMEOUT),
    )


def claim(delivery_id: int) -> bool:
    claimed = db.session.execute(
        update(FhirHookDelivery)
        .where(FhirHookDelivery.id == delivery_id, _due())
        .values(status=SENDING, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return claimed.rowcount == 1


def backoff(tries: int) -> timedelta:
    """The base, doubled each try (30 s, 1, 2, 4 minutes... by default)."""
    return timedelta(seconds=current_app.config["FHIR_HOOK_RETRY_SECONDS"] * 2 ** max(tries - 1, 0))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it could lead anywhere): the post fails, and is retried."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(endpoint: str, headers: str, key: str) -> None:
    """POST an empty body; raise OSError (URLError, HTTPError) unless the answer is 2xx."""
    if not endpoint.startswith(("https://", "http://")):  # checked when subscribed, and here
        raise ValueError("not an http(s) endpoint")
    request = urllib.request.Request(endpoint, data=b"", method="POST")  # noqa: S310 - http(s)
    request.add_header("Idempotency-Key", key)
    for line in filter(None, headers.split("\n")):
        name, _, value = line.partition(":")
        request.add_header(name.strip(), value.strip())
    with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
        response.read(1024)


def _audit(delivery: FhirHookDelivery, action: str, outcome: str, note: str) -> None:
    label = client_label(delivery.subscription.client.client_id)
    event = record(
        action, "fhir_subscription", delivery.subscription_id, outcome=outcome,
        detail=f"{label}: Task/{delivery.referral_id} try {delivery.tries} {note}",
    )  # fmt: skip
    event.actor_id, event.actor_role = None, API_ROLE


def deliver(delivery_id: int) -> str | None:
    """Post one due delivery if this worker can claim it; its status after (None: not ours)."""
    if not claim(delivery_id):
        return None
    delivery = db.session.get(FhirHookDelivery, delivery_id)
    subscription = delivery.subscription
    delivery.tries += 1
    if subscription.status != "active" or not subscription.client.is_active:
        delivery.status, delivery.last_error = FAILED, "subscription off"
        _audit(delivery, "fhir.subscription.dropped", "error", "subscription off")
        db.session.commit()
        return delivery.status
    try:
        post(subscription.endpoint, subscription.headers, delivery.idempotency_key)
    except (OSError, ValueError) as error:
        reason = type(error).__name__
        if isinstance(error, urllib.error.HTTPError):
            reason = f"HTTP {error.code}"
        delivery.last_error, delivery.claimed_at = reason[:300], None
        if delivery.tries < current_app.config["FHIR_HOOK_MAX_TRIES"]:
            delivery.status = PENDING
            delivery.next_attempt_at = utcnow() + backoff(delivery.tries)
            _audit(delivery, "fhir.subscription.retry", "error", reason)
        else:
            delivery.status = FAILED
            subscription.status = "error"
            subscription.error = f"Notifications failed {delivery.tries} times: {reason}"[:300]
            _audit(delivery, "fhir.subscription.failed", "error", reason)
    else:
        delivery.status, delivery.sent_at, delivery.last_error = SENT, utcnow(), ""
        _audit(delivery, "fhir.subscription.notify", "ok", "sent")
    db.session.commit()
    return delivery.status


def deliver_due(limit: int = 500) -> dict[str, int]:
    """Try every due delivery once (the sweep)."""
    ids = list(
        db.session.scalars(
            select(FhirHookDelivery.id).where(_due()).order_by(FhirHookDelivery.id).limit(limit)
        )
    )
    counts: dict[str, int] = {}
    for delivery_id in ids:
        status = deliver(delivery_id) or "skipped"
        counts[status] = counts.get(status, 0) + 1
    return counts
