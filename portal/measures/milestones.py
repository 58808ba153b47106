"""Keeps referral_milestone (portal/measures/models.py) in step with what it summarises: after
every flush that adds a timeline change of state, changes a referral, its course, a session or
a summary letter, the rows of the referrals concerned are worked out again from those tables,
in SQL and in the same transaction. Every service that changes state goes through the ORM, so
none has to remember to do it; tests/test_measures_milestones.py checks each kind of change."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, case, delete, event, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from portal.letters.models import FINAL, SUMMARY, SUPERSEDED, Letter
from portal.measures.models import ReferralMilestone
from portal.referrals.models import Referral, ReferralEvent
from portal.referrals.states import FIRST_DECISIONS, State
from portal.treatment.models import TreatmentCourse, TreatmentSession

STATE_CHANGE = "state_change"
COLUMNS = [c.name for c in ReferralMilestone.__table__.columns]


def source_query(referrals: ColumnElement[bool] | None = None) -> Select:
    """The milestones of the submitted referrals `referrals` selects (all when None), one row
    each, in the order of COLUMNS: received (submitted), first decided and first accepted (the
    timeline's changes of state), first session and sessions done (the induction is complete
    when the planned sessions are done; `induction_end_on` is the last planned one's date),
    treatment summary first signed and first opened, the latest move to declined or cancelled
    and its reason, and the latest session's date."""
    where = [Referral.submitted_at.is_not(None)]
    if referrals is not None:
        where.append(referrals)
    ids = select(Referral.id).where(*where)
    decisions = [s.value for s in FIRST_DECISIONS]
    events = (
        select(
            ReferralEvent.referral_id,
            func.min(case((ReferralEvent.to_state.in_(decisions), ReferralEvent.at))).label(
                "decided_at"
            ),
            func.min(
                case((ReferralEvent.to_state == State.ACCEPTED.value, ReferralEvent.at))
            ).label("accepted_at"),
        )
        .where(ReferralEvent.referral_id.in_(ids), ReferralEvent.kind == STATE_CHANGE)
        .group_by(ReferralEvent.referral_id)
        .subquery("events")
    )
    numbered = (
        select(
            TreatmentSession.course_id,
            TreatmentSession.session_date,
            TreatmentCourse.planned_sessions.label("planned"),
            func.row_number()
            .over(
                partition_by=TreatmentSession.course_id,
                order_by=(TreatmentSession.session_date, TreatmentSession.id),
            )
            .label("k"),
        )
        .join(TreatmentCourse, TreatmentCourse.id == TreatmentSession.course_id)
        .where(TreatmentCourse.referral_id.in_(ids))
        .subquery("numbered")
    )
    sessions = (
        select(
            numbered.c.course_id,
            func.min(numbered.c.session_date).label("first_session_on"),
            func.count().label("sessions_done"),
            func.max(case((numbered.c.k == numbered.c.planned, numbered.c.session_date))).label(
                "induction_end_on"
            ),
            func.max(numbered.c.session_date).label("last_session_on"),
        )
        .group_by(numbered.c.course_id)
        .subquery("sessions")
    )
    letters = (
        select(
            Letter.referral_id,
            func.min(Letter.created_at).label("summary_signed_at"),
            func.min(Letter.first_downloaded_at).label("opened_at"),
        )
        .where(
            Letter.referral_id.in_(ids),
            Letter.kind == SUMMARY,
            Letter.status.in_((FINAL, SUPERSEDED)),
        )
        .group_by(Letter.referral_id)
        .subquery("letters")
    )
    closing = (
        select(
            ReferralEvent.referral_id,
            ReferralEvent.at,
            ReferralEvent.reason,
            func.row_number()
            .over(
                partition_by=ReferralEvent.referral_id,
                order_by=(ReferralEvent.at.desc(), ReferralEvent.id.desc()),
            )
            .label("rn"),
        )
        .where(
            ReferralEvent.referral_id.in_(ids),
            ReferralEvent.kind == STATE_CHANGE,
            ReferralEvent.to_state.in_((State.DECLINED.value, State.CANCELLED.value)),
        )
        .subquery("closing")
    )
    return (
        select(
            Referral.id,
            Referral.clinic_id,
            Referral.patient_id,
            Referral.practice_id,
            Referral.referrer_id,
            Referral.state,
            Referral.urgency,
            Referral.requested_modality,
            func.coalesce(TreatmentCourse.modality, Referral.requested_modality),
            TreatmentCourse.id,
            TreatmentCourse.planned_sessions,
            Referral.submitted_at,
            events.c.decided_at,
            events.c.accepted_at,
            sessions.c.first_session_on,
            func.coalesce(sessions.c.sessions_done, 0),
            sessions.c.induction_end_on,
            letters.c.summary_signed_at,
            letters.c.opened_at,
            closing.c.at,
            closing.c.reason,
            sessions.c.last_session_on,
        )
        .outerjoin(TreatmentCourse, TreatmentCourse.referral_id == Referral.id)
        .outerjoin(events, events.c.referral_id == Referral.id)
        .outerjoin(sessions, sessions.c.course_id == TreatmentCourse.id)
        .outerjoin(letters, letters.c.referral_id == Referral.id)
        .outerjoin(closing, (closing.c.referral_id == Referral.id) & (closing.c.rn == 1))
        .where(*where)
    )


def refresh(connection, referral_ids: Iterable[int] = (), course_ids: Iterable[int] = ()) -> None:
    """Work the rows of these referrals (and of these courses' referrals) out again.

    The referral rows are locked first, in id order (PostgreSQL; SQLite serialises writers on
    the file): two transactions refreshing the same referral then take turns, and the second's
    DELETE, run after the first commits, sees (and removes) the row the first inserted instead
    of colliding with it on the primary key. FOR NO KEY UPDATE, not FOR UPDATE: the flush that
    got here may already hold the FOR KEY SHARE lock of a foreign key to that referral (a new
    timeline event), which FOR UPDATE would wait on in the other transaction: a deadlock."""
    ids = set(referral_ids)
    if course_ids := sorted(set(course_ids)):
        of_courses = select(TreatmentCourse.referral_id).where(TreatmentCourse.id.in_(course_ids))
        ids.update(connection.execute(of_courses).scalars())
    if not (ids := sorted(ids)):
        return
    if connection.dialect.name == "postgresql":
        lock = select(Referral.id).where(Referral.id.in_(ids)).order_by(Referral.id)
        connection.execute(lock.with_for_update(key_share=True))
    table = ReferralMilestone.__table__
    connection.execute(delete(table).where(table.c.referral_id.in_(ids)))
    connection.execute(insert(table).from_select(COLUMNS, source_query(Referral.id.in_(ids))))


def rebuild(connection) -> None:
    """Every row again, from scratch (the migration's backfill does the same in plain SQL)."""
    connection.execute(delete(ReferralMilestone.__table__))
    connection.execute(insert(ReferralMilestone.__table__).from_select(COLUMNS, source_query()))


def _relevant(obj) -> bool:
    if isinstance(obj, ReferralEvent):
        return obj.kind == STATE_CHANGE
    if isinstance(obj, Letter):
        return obj.kind == SUMMARY
    if isinstance(obj, Referral):
        return obj.submitted_at is not None  # a draft has no milestones yet
    return isinstance(obj, Referral | TreatmentCourse | TreatmentSession)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context, _instances) -> None:
    """The objects this flush adds, changes or deletes that milestones are made of (their ids
    are read after the flush: a new one has none yet)."""
    session.info["milestone_sources"] = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if _relevant(obj)
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]


@event.listens_for(Session, "after_flush_postexec")
def _refresh_after_flush(session: Session, _context) -> None:
    sources = session.info.pop("milestone_sources", [])
    referrals = {
        obj.id if isinstance(obj, Referral) else obj.referral_id
        for obj in sources
        if not isinstance(obj, TreatmentSession)
    }
    courses = {obj.course_id for obj in sources if isinstance(obj, TreatmentSession)}
    refresh(session.connection(), referrals - {None}, courses - {None})
