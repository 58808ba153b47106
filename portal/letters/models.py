"""Stored letters: the final PDF bytes with their sha256, kind and version."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

LETTER_KINDS = {"treatment_summary": "Treatment summary"}


class Letter(Base):
    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("referral_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="final")  # final | superseded
    narrative: Mapped[str] = mapped_column(Text, default="")
    # Loaded only when the PDF itself is asked for, never for lists.
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int] = mapped_column(Integer, default=1)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_downloaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    referral: Mapped[Referral] = relationship(back_populates="letters")
    signed_by: Mapped[User] = relationship(foreign_keys=[signed_by_id])
    first_downloaded_by: Mapped[User | None] = relationship(foreign_keys=[first_downloaded_by_id])

    @property
    def kind_label(self) -> str:
        return LETTER_KINDS.get(self.kind, self.kind)

    @property
    def filename(self) -> str:
        return f"{self.referral.number}-{self.kind.replace('_', '-')}-v{self.version}.pdf"
