"""The clinic's scheduling settings, its closed dates, protocol templates and appointments."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, EnumText, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.referrals.models import Referral


class ClinicSchedule(Base):
    """Per-clinic settings: treatment days, chairs per day, service levels, the calendar link."""

    __tablename__ = "clinic_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), unique=True)
    # Python weekday numbers: 0 Monday ... 6 Sunday.
    treatment_weekdays: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])
    chairs_per_day: Mapped[int] = mapped_column(Integer, default=6)
    # Business days to a first decision (DOMAIN.md service levels).
    sla_urgent_days: Mapped[int] = mapped_column(Integer, default=2)
    sla_routine_days: Mapped[int] = mapped_column(Integer, default=5)
    # sha256 of the secret in the calendar link; None when no link is active.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClosedDate(Base):
    __tablename__ = "closed_date"
    __table_args__ = (UniqueConstraint("clinic_id", "day", name="uq_closed_date_clinic_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class ProtocolTemplate(Base):
    """A treatment protocol as data: phases of weeks with sessions per week, editable by admins."""

    __tablename__ = "protocol_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    modality: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    preferred_weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    # [{"weeks": 2, "per_week": 3, "every": 1}, ...]; see portal.scheduling.generation.
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_custom: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AppointmentStatus(StrEnum):
    """Where one appointment stands. Not a referral state (those are in referrals/states.py):
    a cancelled visit leaves its referral as it was."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return APPOINTMENT_STATUS_LABELS[self]


APPOINTMENT_STATUS_LABELS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "No-show",
}


class Appointment(Base):
    """One booked treatment visit of a referral's series."""

    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_clinic_day", "clinic_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    protocol_id: Mapped[int | None] = mapped_column(ForeignKey("protocol_template.id"))
    day: Mapped[date] = mapped_column(Date)
    modality: Mapped[str] = mapped_column(String(20))
    status: Mapped[AppointmentStatus] = mapped_column(
        EnumText(AppointmentStatus, 12), default=AppointmentStatus.BOOKED
    )
    escort_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    instructions_given: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    referral: Mapped[Referral] = relationship()
    protocol: Mapped[ProtocolTemplate | None] = relationship()

    @property
    def is_booked(self) -> bool:
        return self.status == AppointmentStatus.BOOKED
