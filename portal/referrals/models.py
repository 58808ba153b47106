"""Patients, referrals and the referral timeline."""

from __future__ import annotations

from datetime import date, datetime
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
    case,
    false,
    literal,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, EnumText, UTCDateTime, utcnow
from portal.referrals.states import OPEN, State

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.clinics.models import Clinic, Practice
    from portal.letters.models import Letter
    from portal.treatment.models import Assessment, TreatmentCourse


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    # SPRAVATO REMS patient enrolment, recorded by the clinic; None until enrolled.
    rems_enrolled_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    referrals: Mapped[list[Referral]] = relationship(back_populates="patient")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Referral(Base):
    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"), index=True)
    # None only while a draft has no valid patient details yet (they live in form_data).
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    state: Mapped[State] = mapped_column(EnumText(State, 20), default=State.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    diagnosis_code: Mapped[str] = mapped_column(String(10))
    requested_modality: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10), default="routine")
    reason: Mapped[str] = mapped_column(Text, default="")
    # The full intake as the referrer entered it (sections of DOMAIN.md "What a referral
    # carries"), kept as one document; what is queried lives in columns.
    intake: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Worked out on submit and stored: [{"code", "label", "answer"}], see referrals/screening.
    screening_flags: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    trd_met: Mapped[bool | None] = mapped_column(Boolean)
    # The patient asked for no appointment reminder emails (portal/notifications/patients.py).
    patient_reminders_opt_out: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # The intake form exactly as last typed (field name -> values), so a draft or a refused
    # submit loses nothing; `form_key` makes a double submit of the same form harmless.
    form_data: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    assigned_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The clinic's first decision (question, acceptance or decline), for the service levels.
    first_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The protocol chosen on acceptance (portal.scheduling.models.ProtocolTemplate).
    protocol_id: Mapped[int | None] = mapped_column(ForeignKey("protocol_template.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Who made the last change (every change bumps `version`; see referrals.service.mark_changed),
    # so that a refused stale edit can say who changed the referral and when.
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    # Optimistic locking: every UPDATE checks and bumps the version.
    __mapper_args__ = {"version_id_col": version}
    # The coordinators' queue: a page's ids (other orders than the default, see
    # ix_referral_open_queue below) read from the first index alone, the counts per state from
    # the second (ten times smaller). The first also carries what "needs action" tests (the
    # first decision, the coordinator), so the default tab's counts and page read the index
    # alone, not each of the clinic's referral rows (PostgreSQL; SQLite has no INCLUDE).
    __table_args__ = (
        Index(
            "ix_referral_queue",
            "clinic_id",
            "state",
            "urgency",
            "submitted_at",
            "id",
            postgresql_include=["first_decided_at", "assigned_coordinator_id"],
        ),
        Index("ix_referral_clinic_state", "clinic_id", "state"),
        # The measures' cohort: a clinic's referrals received in a date range.
        Index("ix_referral_clinic_submitted", "clinic_id", "submitted_at"),
        # The provider's dashboard: their referrals, latest change first, a page at a time.
        Index("ix_referral_referrer_updated", "referrer_id", "updated_at", "id"),
    )

    clinic: Mapped[Clinic] = relationship()
    practice: Mapped[Practice | None] = relationship()
    referrer: Mapped[User] = relationship(foreign_keys=[referrer_id])
    assigned_coordinator: Mapped[User | None] = relationship(foreign_keys=[assigned_coordinator_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    patient: Mapped[Patient | None] = relationship(back_populates="referrals")
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="(ReferralEvent.at, ReferralEvent.id)"
    )
    course: Mapped[TreatmentCourse | None] = relationship(back_populates="referral")
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="referral", order_by="Assessment.id"
    )
    letters: Mapped[list[Letter]] = relationship(back_populates="referral", order_by="Letter.id")

    @property
    def number(self) -> str:
        """The referral number shown to users: opaque, no PHI."""
        return referral_number(self.id)


def referral_number(referral_id: int) -> str:
    return f"KR-{referral_id:06d}"


def _inline(value):
    """A constant written into the SQL itself (an allow-listed value, never user input), so
    that the statement matches the partial index below, also in a generic plan."""
    return literal(value, literal_execute=True)


# Urgent first: the "urgency" sort.
URGENCY_ORDER = case((Referral.urgency == "urgent", 0), else_=1)
# The same order read from the column: "urgent" sorts after "routine", the only other urgency
# (portal.referrals.vocab.URGENCIES; tests/test_queue.py checks it).
URGENT_FIRST = Referral.urgency.desc()
# Still in the clinic's hands (states.OPEN): what the queue shows by default.
OPEN_STATE_CONDITION = Referral.state.in_([_inline(s.value) for s in OPEN])
# The open queue in its default order (urgent first, then submitted_at, id) read in order, a
# page at a time, instead of sorting every open referral of the clinic.
Index(
    "ix_referral_open_queue",
    Referral.clinic_id,
    URGENT_FIRST,
    Referral.submitted_at,
    Referral.id,
    postgresql_where=OPEN_STATE_CONDITION,
    sqlite_where=OPEN_STATE_CONDITION,
)


class ReferralEvent(Base):
    """One entry on the referral's timeline: a change of state or another visible event."""

    __tablename__ = "referral_event"
    # The measures read each referral's first decision and acceptance from the index alone.
    __table_args__ = (
        Index("ix_referral_event_milestones", "referral_id", "kind", "to_state", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
