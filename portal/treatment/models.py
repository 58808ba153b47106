"""A referral's treatment course, its sessions and the rating scales recorded."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


class TreatmentCourse(Base):
    __tablename__ = "treatment_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), unique=True)
    modality: Mapped[str] = mapped_column(String(20))
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    planned_sessions: Mapped[int] = mapped_column(Integer, default=6)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str] = mapped_column(Text, default="")

    referral: Mapped[Referral] = relationship(back_populates="course")
    clinician: Mapped[User | None] = relationship()
    sessions: Mapped[list[TreatmentSession]] = relationship(
        back_populates="course", order_by="(TreatmentSession.session_date, TreatmentSession.id)"
    )


class TreatmentSession(Base):
    __tablename__ = "treatment_session"
    # Sessions documented in a date range; the measures' REMS and adverse-event figures read
    # the index alone (PostgreSQL's INCLUDE).
    __table_args__ = (
        Index(
            "ix_treatment_session_date",
            "session_date",
            "course_id",
            postgresql_include=[
                "modality",
                "adverse_events",
                "serious_adverse_events",
                "rems_submitted_on",
            ],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_course.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date)
    modality: Mapped[str] = mapped_column(String(20))
    dose_mg: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    bp_pre_systolic: Mapped[int] = mapped_column(Integer)
    bp_pre_diastolic: Mapped[int] = mapped_column(Integer)
    bp_post_systolic: Mapped[int] = mapped_column(Integer)
    bp_post_diastolic: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # IV ketamine: the dose in mg is weight x mg/kg; vitals as timed rows
    # [{"time": "HH:MM", "phase": "before|during|after", "bp_systolic", "bp_diastolic",
    #   "heart_rate", "spo2"}].
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    dose_mg_per_kg: Mapped[Decimal | None] = mapped_column(Numeric(5, 3))
    infusion_minutes: Mapped[int | None] = mapped_column(Integer)
    infusion_started_at: Mapped[time | None] = mapped_column(Time)  # IV: when it began
    vitals: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # SPRAVATO: the REMS patient monitoring form's fields (DOMAIN.md).
    spravato_dose: Mapped[str] = mapped_column(String(10), default="")  # "56", "84", "other"
    devices_used: Mapped[int | None] = mapped_column(Integer)
    lot_number: Mapped[str] = mapped_column(String(40), default="")
    bp_leave_systolic: Mapped[int | None] = mapped_column(Integer)
    bp_leave_diastolic: Mapped[int | None] = mapped_column(Integer)
    vitals_ok_before: Mapped[bool | None] = mapped_column(Boolean)
    vitals_ok_leaving: Mapped[bool | None] = mapped_column(Boolean)
    sedation: Mapped[bool | None] = mapped_column(Boolean)
    dissociation: Mapped[bool | None] = mapped_column(Boolean)
    respiratory_depression: Mapped[bool | None] = mapped_column(Boolean)
    lowest_spo2: Mapped[int | None] = mapped_column(Integer)
    serious_adverse_events: Mapped[bool | None] = mapped_column(Boolean)
    monitoring_minutes: Mapped[int | None] = mapped_column(Integer)
    ready_to_leave_at: Mapped[time | None] = mapped_column(Time)
    concomitant_medications: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Both modalities.
    adverse_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    adverse_event_other: Mapped[str] = mapped_column(String(200), default="")
    interventions: Mapped[str] = mapped_column(Text, default="")
    escort_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    discharge_at: Mapped[time | None] = mapped_column(Time)
    # Safety prompts answered by the clinician (DOMAIN.md: rules never decide silently).
    dose_outside_range_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    bp_acknowledgement: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rems_submitted_on: Mapped[date | None] = mapped_column(Date)
    rems_submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    course: Mapped[TreatmentCourse] = relationship(back_populates="sessions")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="session", order_by="Assessment.id"
    )
    addenda: Mapped[list[SessionAddendum]] = relationship(
        back_populates="session", order_by="SessionAddendum.id"
    )

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class SessionAddendum(Base):
    """A note added to a signed session: the original stays as it was signed."""

    __tablename__ = "session_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[TreatmentSession] = relationship(back_populates="addenda")
    author: Mapped[User] = relationship()


class Assessment(Base):
    """A rating scale answered item by item; total and band computed by portal.scales.scoring."""

    __tablename__ = "assessment"
    # The measures' outcomes: a range's referrals' scores per scale, read from the index alone
    # (PostgreSQL's INCLUDE), one short probe per referral.
    __table_args__ = (
        Index(
            "ix_assessment_referral_scale",
            "referral_id",
            "scale",
            postgresql_include=["is_baseline", "taken_on", "id", "total"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_session.id"))
    scale: Mapped[str] = mapped_column(String(10))
    taken_on: Mapped[date] = mapped_column(Date)
    answers: Mapped[list[int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(40))
    is_baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="assessments")
    session: Mapped[TreatmentSession | None] = relationship(back_populates="assessments")


class SafetyAlert(Base):
    """PHQ-9 item 9 above 0: open until a clinician records that it was reviewed."""

    __tablename__ = "safety_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), unique=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")

    referral: Mapped[Referral] = relationship()
    assessment: Mapped[Assessment] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
