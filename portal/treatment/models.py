"""A referral's treatment course, its sessions and the rating scales recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text
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

    referral: Mapped[Referral] = relationship(back_populates="course")
    clinician: Mapped[User | None] = relationship()
    sessions: Mapped[list[TreatmentSession]] = relationship(
        back_populates="course", order_by="(TreatmentSession.session_date, TreatmentSession.id)"
    )


class TreatmentSession(Base):
    __tablename__ = "treatment_session"

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

    course: Mapped[TreatmentCourse] = relationship(back_populates="sessions")
    recorded_by: Mapped[User] = relationship()
    assessments: Mapped[list[Assessment]] = relationship(back_populates="session")


class Assessment(Base):
    """A rating scale answered item by item; total and band computed by portal.treatment.scales."""

    __tablename__ = "assessment"

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
