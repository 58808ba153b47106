"""R4 Subscriptions (rest-hook, empty payload) on the client's Tasks: create, read, search,
delete; and, on every change of a referral, a delivery row for each matching subscription,
written in the change's own transaction (portal/fhir/hooks.py posts them from the worker)."""

from __future__ import annotations

import contextlib
import ipaddress
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from flask import current_app
from sqlalchemy import select

from portal.audit.service import record
from portal.extensions import db
from portal.fhir import scopes as smart
from portal.fhir.access import clients_of, current_grant, visible_referrals
from portal.fhir.models import FhirClient, FhirHookDelivery, FhirSubscription
from portal.fhir.outcome import FhirError, Issue, forbidden_scope, not_found
from portal.referrals.models import Referral
from portal.referrals.service import referral_event
from portal.referrals.states import FHIR_TASK_STATUS, State

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import ReferralEvent

ACTIVE, ERROR, OFF = "active", "error", "off"
TASK_STATUSES = frozenset(FHIR_TASK_STATUS.values())


def _invalid(problems: list[tuple[str, str]]) -> FhirError:
    return FhirError(422, [Issue("invalid", text, (expression,)) for expression, text in problems])


def _endpoint_problem(url: str) -> str:
    parts = urlsplit(url)
    if not parts.hostname:
        return "channel.endpoint must be an absolute URL."
    if parts.scheme == "https":
        return ""
    loopback = parts.hostname == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(parts.hostname).is_loopback
    if parts.scheme == "http" and loopback and current_app.config.get("FHIR_HOOK_ALLOW_HTTP"):
        return ""
    return "channel.endpoint must be an https URL."


def _criteria(text: str, problems: list[tuple[str, str]]) -> tuple[int | None, str]:
    """`Task`, `Task?focus=ServiceRequest/ID`, `Task?status=CODE` (or both)."""
    resource, _, query = text.partition("?")
    if resource != "Task":
        problems.append(("Subscription.criteria", "Only criteria on Task are supported."))
        return None, ""
    focus, status = None, ""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "focus" and value.startswith("ServiceRequest/"):
            number = value.removeprefix("ServiceRequest/")
            referral = (
                db.session.scalar(visible_referrals().where(Referral.id == int(number)))
                if number.isdigit()
                else None
            )
            if referral is None:
                problems.append(("Subscription.criteria", f"Unknown focus {value[:60]}."))
            else:
                focus = referral.id
        elif name == "status" and value in TASK_STATUSES:
            status = value
        else:
            problems.append(("Subscription.criteria", f"Unsupported search parameter {name[:40]}."))
    return focus, status


def create(body: Any) -> FhirSubscription:
    """A new active subscription of the calling client; a refusal names each problem."""
    grant = current_grant()
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        raise _invalid([("Subscription", "The body must be a Subscription resource.")])
    problems: list[tuple[str, str]] = []
    if not smart.allows(grant.scopes, "Task", "r"):
        raise forbidden_scope("Task", "r")
    criteria = body.get("criteria")
    reason = body.get("reason")
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    if not isinstance(reason, str) or not reason.strip():
        problems.append(("Subscription.reason", "reason is required."))
    if body.get("status") not in ("requested", "active"):
        problems.append(("Subscription.status", "status must be requested or active."))
    focus, task_status = (None, "")
    if not isinstance(criteria, str) or not criteria:
        problems.append(("Subscription.criteria", "criteria is required."))
    else:
        focus, task_status = _criteria(criteria, problems)
    if channel.get("type") != "rest-hook":
        problems.append(("Subscription.channel.type", "Only rest-hook channels are supported."))
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 500:
        problems.append(("Subscription.channel.endpoint", "channel.endpoint is required."))
    elif problem := _endpoint_problem(endpoint):
        problems.append(("Subscription.channel.endpoint", problem))
    if "payload" in channel:
        problems.append(
            ("Subscription.channel.payload", "Only an empty payload is supported (no payload).")
        )
    headers = channel.get("header", [])
    if not isinstance(headers, list) or not all(_good_header(h) for h in headers):
        problems.append(("Subscription.channel.header", 'Each header is "Name: value".'))
    if problems:
        raise _invalid(problems)
    subscription = FhirSubscription(
        client_pk=grant.client.id,
        criteria=criteria,
        focus_referral_id=focus,
        task_status=task_status,
        reason=reason.strip()[:300],
        endpoint=endpoint,
        headers="\n".join(headers)[:1000],
        status=ACTIVE,
    )
    db.session.add(subscription)
    db.session.flush()
    record("fhir.subscription.create", "fhir_subscription", subscription.id)
    return subscription


def _good_header(header: Any) -> bool:
    if not isinstance(header, str) or "\r" in header or "\n" in header:
        return False
    name, colon, value = header.partition(":")
    return bool(colon and name.strip() and value.strip()) and " " not in name.strip()


def visible() -> Any:
    """The calling client's own subscriptions: another client's (even of the same practice or
    clinic) are not its to list, read or delete, and their channel headers carry its secrets."""
    return select(FhirSubscription).where(FhirSubscription.client_pk == current_grant().client.id)


def get_or_404(subscription_id: str) -> FhirSubscription:
    subscription = (
        db.session.scalar(visible().where(FhirSubscription.id == int(subscription_id)))
        if subscription_id.isdigit()
        else None
    )
    if subscription is None:
        record("fhir.subscription.view", "fhir_subscription", None, outcome="denied")
        raise not_found("Subscription")
    return subscription


def delete(subscription: FhirSubscription) -> None:
    subscription.status = OFF
    record("fhir.subscription.delete", "fhir_subscription", subscription.id)


def resource(subscription: FhirSubscription) -> dict[str, Any]:
    status = {ACTIVE: "active", ERROR: "error", OFF: "off"}[subscription.status]
    channel: dict[str, Any] = {"type": "rest-hook", "endpoint": subscription.endpoint}
    if subscription.headers:
        channel["header"] = subscription.headers.split("\n")
    out: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(subscription.id),
        "status": status,
        "reason": subscription.reason,
        "criteria": subscription.criteria,
        "channel": channel,
    }
    if subscription.error:
        out["error"] = subscription.error
    return out


def on_referral_event(referral: Referral, *, event: ReferralEvent, actor: User | None) -> None:
    """Every change of a sent referral: a delivery for each matching active subscription of
    the active clients acting for it (its practice's, its clinic's) that may still read Tasks."""
    if referral.state == State.DRAFT:
        return
    rows = db.session.scalars(
        select(FhirSubscription)
        .join(FhirClient, FhirClient.id == FhirSubscription.client_pk)
        .where(
            clients_of(referral),
            FhirClient.is_active.is_(True),
            FhirSubscription.status == ACTIVE,
        )
    )
    status = FHIR_TASK_STATUS[State(referral.state)]
    for subscription in rows:
        if subscription.focus_referral_id not in (None, referral.id):
            continue
        if subscription.task_status and subscription.task_status != status:
            continue
        if not smart.allows(smart.parse(subscription.client.scopes, strict=False), "Task", "r"):
            continue
        db.session.add(
            FhirHookDelivery(
                idempotency_key=f"fhir-hook-{uuid.uuid4().hex}",
                subscription_id=subscription.id,
                referral_id=referral.id,
            )
        )


def connect() -> None:
    referral_event.connect(on_referral_event)
