"""The clinic's scheduling settings, its closed dates, protocol templates and appointments."""

from __future__ import annotations

from datetime import date, datetime, time
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
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, EnumText, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


DEFAULT_HOURS = ("08:00", "17:00")


class ClinicSchedule(Base):
    """Per-clinic settings: treatment days and their opening hours, durations per treatment,
    how many chairs one clinician supervises at once, service levels, the calendar link."""

    __tablename__ = "clinic_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), unique=True)
    # Python weekday numbers: 0 Monday ... 6 Sunday.
    treatment_weekdays: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])
    # {"0": ["08:00", "17:00"], ...} by weekday; a treatment day without hours uses DEFAULT_HOURS.
    opening_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # Minutes a visit holds its chair: IV infusion + recovery, SPRAVATO dosing + monitoring.
    iv_infusion_minutes: Mapped[int] = mapped_column(Integer, default=40)
    iv_recovery_minutes: Mapped[int] = mapped_column(Integer, default=60)
    spravato_dosing_minutes: Mapped[int] = mapped_column(Integer, default=15)
    spravato_monitoring_minutes: Mapped[int] = mapped_column(Integer, default=120)
    # How many patients (chairs) one clinician supervises at the same time.
    chairs_per_clinician: Mapped[int] = mapped_column(Integer, default=2)
    # Business days to a first decision (DOMAIN.md service levels).
    sla_urgent_days: Mapped[int] = mapped_column(Integer, default=2)
    sla_routine_days: Mapped[int] = mapped_column(Integer, default=5)
    # sha256 of the secret in the calendar link; None when no link is active.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Chair(Base):
    """A chair or room where one patient is treated at a time ("Chair 1", "Room B")."""

    __tablename__ = "chair"
    __table_args__ = (UniqueConstraint("clinic_id", "name", name="uq_chair_clinic_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ClinicianHours(Base):
    """When a clinician works on one weekday; a clinician with no rows works the opening hours,
    one with rows works only on those weekdays."""

    __tablename__ = "clinician_hours"
    __table_args__ = (
        UniqueConstraint("clinician_id", "weekday", name="uq_clinician_hours_clinician_weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


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
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return APPOINTMENT_STATUS_LABELS[self]


APPOINTMENT_STATUS_LABELS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.ATTENDED: "Attended",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "No-show",
}


# The statuses that hold a chair and a clinician's time (PostgreSQL's exclusion constraint
# appointment_chair_no_overlap, migration i18a1b2c3d4e5, uses the same list).
HOLDS_CHAIR = (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED)


class Appointment(Base):
    """One treatment visit of a referral's series: a day, a start and end time on the clinic's
    clock, a chair and a clinician."""

    __tablename__ = "appointment"
    # A clinic's visits in a date range; the measures' no-show figures read the index alone
    # (PostgreSQL's INCLUDE).
    __table_args__ = (
        Index(
            "ix_appointment_clinic_day",
            "clinic_id",
            "day",
            postgresql_include=["modality", "referral_id", "status", "updated_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    protocol_id: Mapped[int | None] = mapped_column(ForeignKey("protocol_template.id"))
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    chair_id: Mapped[int] = mapped_column(ForeignKey("chair.id"))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The session documented from this visit (it is then attended).
    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_session.id"), unique=True)
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
    chair: Mapped[Chair] = relationship()
    clinician: Mapped[User | None] = relationship(foreign_keys=[clinician_id])

    @property
    def is_booked(self) -> bool:
        return self.status == AppointmentStatus.BOOKED

    @property
    def holds_chair(self) -> bool:
        return self.status in HOLDS_CHAIR

    @property
    def starts_at(self) -> datetime:
        """The start as a naive datetime on the clinic's clock."""
        return datetime.combine(self.day, self.start_time)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day, self.end_time)
