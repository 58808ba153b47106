"""What only the clinic sees while screening: the checklist and internal notes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User


class ScreeningReview(Base):
    """The coordinator's screening checklist of one referral: the codes of the ticked items."""

    __tablename__ = "screening_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), unique=True)
    checked: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    updated_by: Mapped[User | None] = relationship()


class InternalNote(Base):
    """A note among clinic staff about a referral; the referrer never sees it."""

    __tablename__ = "internal_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship()


class FlagAcknowledgement(Base):
    """A clinician's acknowledged judgement on a screening flag that must not pass silently
    (outside the SPRAVATO label; psychosis or mania): who, when, and why they went ahead."""

    __tablename__ = "flag_acknowledgement"
    __table_args__ = (UniqueConstraint("referral_id", "flag_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    flag_code: Mapped[str] = mapped_column(String(40))
    # What the flag said when it was acknowledged (the answer that raised it).
    flag_text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    acknowledged_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    acknowledged_by: Mapped[User] = relationship()
