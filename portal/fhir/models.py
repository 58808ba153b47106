"""FHIR API clients (SMART Backend Services), their access tokens and the assertion ids
already used. (A retried Bundle finds its referral through the intake's own form key.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.clinics.models import Practice


class FhirClient(Base):
    """A referring practice's system (its EHR), registered by an admin with its public keys."""

    __tablename__ = "fhir_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public identifier the EHR puts in `iss` and `sub` of its assertion: random, no PHI.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    # The client's JSON Web Key Set (public keys only; checked when registered).
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Registered scopes, space-separated, SMART v2 syntax (system/Task.rs ...).
    scopes: Mapped[str] = mapped_column(String(1000))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    practice: Mapped[Practice] = relationship()


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
