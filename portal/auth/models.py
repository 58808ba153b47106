"""Accounts: one role each."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, EnumText, UTCDateTime, utcnow
from portal.roles import CLINIC_ROLES, Role

if TYPE_CHECKING:
    from portal.clinics.models import Clinic, Practice


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str] = mapped_column(String(50), default="")
    role: Mapped[Role] = mapped_column(EnumText(Role, 20))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"))
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Referring provider's profile, printed on letters (address block) and referrals.
    npi: Mapped[str] = mapped_column(String(10), default="")
    fax: Mapped[str] = mapped_column(String(40), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-step sign-in: the TOTP secret encrypted with portal.crypto, the last time step used.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Lockout, kept here so it holds across workers and restarts.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    clinic: Mapped[Clinic | None] = relationship()
    practice: Mapped[Practice | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in for disabled accounts
        return self.is_enabled

    @property
    def is_clinic_staff(self) -> bool:
        return self.role in CLINIC_ROLES

    @property
    def is_referrer(self) -> bool:
        return self.role == Role.REFERRER

    @property
    def display_name(self) -> str:
        return self.name_shown(self.full_name, self.credentials)

    @staticmethod
    def name_shown(full_name: str, credentials: str | None) -> str:
        """The name with its credentials, as every page shows a person."""
        return f"{full_name}, {credentials}" if credentials else full_name

    @property
    def has_mfa(self) -> bool:
        return self.totp_secret_enc is not None


class RecoveryCode(Base):
    """A single-use code that stands in for the authenticator app; stored as argon2 hash."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(Base):
    """A signed-in session on the server; the cookie carries only its random token."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the user last proved password (and TOTP): sign-in or a re-authentication.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    mfa_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str] = mapped_column(String(30), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed sign-in attempts on one account from one address (portal.auth.lockout): the
    address is blocked for that account after LOCKOUT_THRESHOLD of them in a row, for longer
    after each further one; other addresses, the owner's included, are not."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("user_id", "ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    ip: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PendingSignIn(Base):
    """A sign-in half-way: the password was right, the second step is still to come. Kept on
    the server like the sessions; the cookie carries only a random token, so knowing the
    cookie-signing key is not enough to skip the password."""

    __tablename__ = "pending_sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    target: Mapped[str] = mapped_column(String(500), default="")


class PasswordReset(Base):
    """A password-reset link: single use, short-lived, stored as a sha256 of its token, and
    bound to the password it replaces (`password_fingerprint`): once the password changes,
    by this link or any other way, every older link dies."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    password_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
