"""Notifications: what a person is told (shown in the portal), the outbox of emails that a
worker delivers, and each person's choice of how to be told of each kind.

Rows here are written in the same transaction as the change that caused them; no email ever
leaves from inside a web request (portal/notifications/delivery.py sends them)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User

# Outbox statuses.
PENDING = "pending"  # waiting for a worker (or for its next try)
SENDING = "sending"  # claimed by one worker
SENT = "sent"
FAILED = "failed"  # gave up after the last try: shown on the Deliveries page
DISMISSED = "dismissed"  # an admin dismissed the failure


class Notification(Base):
    """One thing a person is told, shown under the bell; `link` is a path inside the portal."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    text: Mapped[str] = mapped_column(String(300))  # PHI-free, as in the email
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Daily digest: when it was counted into a digest email (None: not yet, or not wanted).
    digest_due: Mapped[bool] = mapped_column(default=False)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class OutboxMessage(Base):
    """An email to send. `idempotency_key` is unique: a worker sends a row only after claiming
    it (pending -> sending in one conditional UPDATE), so two workers never send it twice; the
    key is also the email's Message-ID."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    to_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # A reset or invitation link is a credential: kept sealed (portal.crypto), shown nowhere.
    secret: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(80), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transport: Mapped[str] = mapped_column(String(20), default="")  # smtp | dev-mailbox

    user: Mapped[User | None] = relationship()


class NotificationPreference(Base):
    """A person's choice for one kind; without a row, the kind's default applies."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(20))
