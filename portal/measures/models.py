"""One row per submitted referral with its milestones along the loop, kept in step with the
timeline, the course, the sessions and the summary letters by portal/measures/milestones.py
(in the same transaction as the change): the measures read a date range of it instead of
working the milestones out from every event on each page."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, EnumText, UTCDateTime
from portal.referrals.states import State


class ReferralMilestone(Base):
    __tablename__ = "referral_milestone"
    __table_args__ = (
        # The measures' cohort: a clinic's referrals received in a date range.
        Index("ix_referral_milestone_received", "clinic_id", "received_at"),
        # The measures' sessions in a date range, per patient: the courses with a session on
        # or after the range's first day, read from the index alone (PostgreSQL) instead of
        # every course the clinic ever had.
        Index(
            "ix_referral_milestone_sessions",
            "clinic_id",
            "last_session_on",
            postgresql_include=[
                "course_id",
                "patient_id",
                "modality",
                "practice_id",
                "referrer_id",
            ],
        ),
    )

    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    clinic_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    practice_id: Mapped[int | None] = mapped_column(Integer)
    referrer_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[State] = mapped_column(EnumText(State, 20))
    urgency: Mapped[str] = mapped_column(String(10))
    requested_modality: Mapped[str] = mapped_column(String(20))
    modality: Mapped[str] = mapped_column(String(20))  # the course's, else the one requested
    course_id: Mapped[int | None] = mapped_column(Integer)
    planned: Mapped[int | None] = mapped_column(Integer)  # the course's planned sessions
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first decision
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first acceptance
    first_session_on: Mapped[date | None] = mapped_column(Date)
    sessions_done: Mapped[int] = mapped_column(Integer, default=0)
    induction_end_on: Mapped[date | None] = mapped_column(Date)  # the last planned session's
    summary_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # summary first opened
    # The latest move to declined or cancelled, with the reason written on the timeline.
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lost_reason: Mapped[str | None] = mapped_column(Text)
    last_session_on: Mapped[date | None] = mapped_column(Date)  # the course's latest session
