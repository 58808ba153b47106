"""A referral's prior authorization (SPRAVATO) or self-pay agreement (IV ketamine)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User


class PriorAuthorization(Base):
    """The payer's authorization of one referral's treatment, as the coordinator tracks it; for
    IV ketamine (not covered) the self-pay agreement instead."""

    __tablename__ = "prior_authorization"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="to_submit")
    payer: Mapped[str] = mapped_column(String(120), default="")
    number: Mapped[str] = mapped_column(String(60), default="")
    approved_units: Mapped[int | None] = mapped_column(Integer)  # S0013, mg
    approved_visits: Mapped[int | None] = mapped_column(Integer)  # G2082 / G2083
    dose_mg: Mapped[int] = mapped_column(Integer, default=56)  # planned per session
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    documents_sent: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # IV ketamine: the written self-pay (financial) agreement.
    self_pay_agreed_on: Mapped[date | None] = mapped_column(Date)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    updated_by: Mapped[User | None] = relationship()
