"""Who is calling: the bearer token's client and scopes, checked before every protected call;
what that client may see (its practice's sent referrals, or for a clinic-wide client every
sent referral of its clinic; 404 otherwise); and its audit trail.

Audit rows keep their table and chain untouched: during an API call every new row names the
client in the existing columns (actor_role "api-client", detail "client <client_id>", no user),
set just before the chain hashes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import g, has_request_context, request
from sqlalchemy import event, false, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.extensions import db
from portal.fhir import scopes as smart
from portal.fhir.auth import Grant, grant_for
from portal.fhir.models import FhirClient
from portal.fhir.outcome import FhirError, forbidden_scope, not_found, unauthorized
from portal.referrals.models import Referral
from portal.referrals.states import State

if TYPE_CHECKING:
    from sqlalchemy import Select

API_ROLE = "api-client"


def client_label(client_id: str) -> str:
    return f"client {client_id}"


def current_grant() -> Grant:
    grant = g.get("fhir_grant")
    if grant is None:
        raise unauthorized("A bearer access token is required.")
    return grant


def authenticate() -> None:
    """Read the bearer token; 401 without a live one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("A bearer access token is required.")
    grant = grant_for(token.strip())
    if grant is None:
        record("fhir.call", outcome="denied", detail="invalid or expired token")
        raise unauthorized("The access token is invalid or has expired.")
    g.fhir_grant = grant
    g.fhir_client_label = client_label(grant.client.client_id)


def require(resource_type: str, permission: str) -> Grant:
    """403 unless the token's scopes allow `permission` (c, r, u, d, s) on `resource_type`."""
    grant = current_grant()
    if not smart.allows(grant.scopes, resource_type, permission):
        record("fhir.scope", resource_type.lower()[:40], outcome="denied", detail=permission)
        raise forbidden_scope(resource_type, permission)
    return grant


def serves(client_clinic: Any, client_practice: Any, clinic: Any, practice: Any) -> Any:
    """The one rule of whom a client acts for: a clinic-wide client for its clinic's referrals,
    a practice's client for its practice's (a client has exactly one of the two: fhir_client's
    acts_for_one check). Each argument a column or a value, so the rule reads both ways (the
    referrals of a client, the clients of a referral); a None value drops its half, never
    `IS NULL` (a referral without a practice is only its clinic's)."""
    halves = [
        mine == theirs
        for mine, theirs in ((client_clinic, clinic), (client_practice, practice))
        if mine is not None and theirs is not None
    ]
    return or_(*halves) if halves else false()


def acts_for(client: FhirClient) -> Any:
    """The referrals a client acts for: its practice's, or (clinic-wide) its clinic's."""
    return serves(client.clinic_id, client.practice_id, Referral.clinic_id, Referral.practice_id)


def clients_of(referral: Referral) -> Any:
    """The clients acting for a referral: the same rule read from the referral's side."""
    return serves(
        FhirClient.clinic_id, FhirClient.practice_id, referral.clinic_id, referral.practice_id
    )


def own_practice(client: FhirClient, column: Any) -> Any:
    """`column` is a practice client's own practice (never, for a clinic-wide client)."""
    return serves(None, client.practice_id, None, column)


def visible_referrals() -> Select:
    """The referrals the calling client may see: those it acts for, sent (never drafts)."""
    return select(Referral).where(acts_for(current_grant().client), Referral.state != State.DRAFT)


def require_practice_client(action: str) -> FhirClient:
    """403 for a clinic-wide client: sending, answering and cancelling are the referring
    provider's acts, which only the practice's own system makes in their name."""
    client = current_grant().client
    if client.clinic_id is not None:
        record("fhir.scope", "fhir_client", client.id, outcome="denied", detail=action)
        raise FhirError.one(
            403, "forbidden", f"A clinic-wide client reads and follows referrals; {action} is "
            "for the referring practice's own system.",
        )  # fmt: skip
    return client


def get_referral_or_404(referral_id: str | int, resource_type: str) -> Referral:
    """One of the client's referrals, its read audited; anyone else's answers 404 (audited)."""
    try:
        number = int(referral_id)
    except (TypeError, ValueError):
        raise not_found(resource_type) from None
    referral = db.session.scalar(
        visible_referrals()
        .where(Referral.id == number)
        .options(selectinload(Referral.patient), selectinload(Referral.referrer))
    )
    if referral is None:
        record("referral.view", "referral", number, outcome="denied", detail=resource_type)
        raise not_found(resource_type)
    record("referral.view", "referral", referral.id, detail=resource_type)
    return referral


def audit_read(referrals: list[Referral], resource_type: str) -> None:
    """A search that returned PHI: one audit row per referral it showed."""
    for referral_id in sorted({r.id for r in referrals}):
        record("referral.view", "referral", referral_id, detail=f"{resource_type} search")


@event.listens_for(Session, "before_flush", insert=True)
def name_the_client(session: Session, flush_context, instances) -> None:
    """Before the chain hashes them: new audit rows of an API call name its client."""
    if not has_request_context():
        return
    label = g.get("fhir_client_label")
    if not label:
        return
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.actor_role != API_ROLE:
            obj.actor_id = None
            obj.actor_role = API_ROLE
            obj.detail = (f"{label}: {obj.detail}" if obj.detail else label)[:200]


def ensure(condition: bool, error: FhirError) -> None:
    if not condition:
        raise error
