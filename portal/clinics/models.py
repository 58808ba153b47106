"""The clinic that treats and the practices that refer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class AddressMixin:
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    fax: Mapped[str] = mapped_column(String(40), default="")

    def address_lines(self) -> list[str]:
        """The address as printed on a letter, without empty lines."""
        city_line = " ".join(
            p for p in (f"{self.city}," if self.city else "", self.region, self.postal_code) if p
        )
        return [line for line in (self.address_line1, self.address_line2, city_line) if line]


class Clinic(AddressMixin, Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Letterhead and letter settings, set by an admin (portal/admin/letterhead.py).
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_mime: Mapped[str] = mapped_column(String(40), default="", server_default="")
    interim_every: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    unopened_days: Mapped[int] = mapped_column(Integer, default=5, server_default="5")


class Practice(AddressMixin, Base):
    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # When set, providers of this practice see each other's referrals (DOMAIN.md).
    share_referrals: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
