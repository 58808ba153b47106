"""Messages on a referral, and the moment each user last looked at a referral."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


class Message(Base):
    __tablename__ = "referral_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)  # plain text, always shown escaped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship()
    author: Mapped[User] = relationship()


class SeenMark(Base):
    """When a user last opened a referral's page: what came after is marked new for them."""

    __tablename__ = "referral_seen"
    __table_args__ = (UniqueConstraint("user_id", "referral_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
