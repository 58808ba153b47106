"""FHIR API clients (SMART Backend Services), their access tokens and the assertion ids
already used. (A retried Bundle finds its referral through the intake's own form key.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.clinics.models import Clinic, Practice


class FhirClient(Base):
    """A system registered by an admin with its public keys: a referring practice's EHR (it
    sees that practice's referrals) or a clinic-wide system (it sees every referral of that
    clinic). It acts for exactly one of the two."""

    __tablename__ = "fhir_client"
    __table_args__ = (
        CheckConstraint("(practice_id IS NULL) <> (clinic_id IS NULL)", name="acts_for_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public identifier the EHR puts in `iss` and `sub` of its assertion: random, no PHI.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"), index=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"), index=True)
    # The client's JSON Web Key Set (public keys only; checked when registered).
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Registered scopes, space-separated, SMART v2 syntax (system/Task.rs ...).
    scopes: Mapped[str] = mapped_column(String(1000))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    practice: Mapped[Practice | None] = relationship()
    clinic: Mapped[Clinic | None] = relationship()

    @property
    def acts_for(self) -> str:
        """What the client acts for, as the admin page and the audit name it."""
        return f"clinic {self.clinic_id}" if self.clinic_id else f"practice {self.practice_id}"


class FhirAccessToken(Base):
    """An access token handed out for 5 minutes: only its sha256 is stored."""

    __tablename__ = "fhir_access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("fhir_client.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[FhirClient] = relationship()


class FhirAssertionId(Base):
    """A `jti` already presented by a client: a second use of it is refused (replay)."""

    __tablename__ = "fhir_assertion_id"
    __table_args__ = (UniqueConstraint("client_pk", "jti", name="uq_fhir_assertion_id_jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("fhir_client.id"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class FhirSubscription(Base):
    """An R4 Subscription of a client: rest-hook, empty payload, criteria on the client's
    Tasks (all of them, or one referral's, or those of one Task.status)."""

    __tablename__ = "fhir_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("fhir_client.id"), index=True)
    criteria: Mapped[str] = mapped_column(String(300))
    focus_referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    task_status: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(String(300))
    endpoint: Mapped[str] = mapped_column(String(500))
    # channel.header, one "Name: value" a line (the receiver's own secret, as the client set it).
    headers: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | error | off
    error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    client: Mapped[FhirClient] = relationship()


class FhirHookDelivery(Base):
    """One notification to post to a subscription's endpoint (the rest-hook outbox), written in
    the transaction of the change. Claimed like the email outbox: pending -> sending in one
    conditional UPDATE, so two workers never post it twice."""

    __tablename__ = "fhir_hook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("fhir_subscription.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[FhirSubscription] = relationship()
