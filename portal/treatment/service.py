"""The rules of treatment: accepting into a course, recording sessions, completing the course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from portal.audit.service import record
from portal.extensions import db
from portal.referrals.service import add_event, change_state, lock_for_edit
from portal.referrals.states import State
from portal.treatment.assessments import add_assessment
from portal.treatment.models import TreatmentCourse, TreatmentSession
from portal.treatment.scales import PHQ9, score

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


def open_course(
    referral: Referral,
    *,
    actor: User,
    modality: str,
    clinician: User | None,
    planned_sessions: int,
) -> TreatmentCourse:
    """The course planned when a referral is accepted."""
    course = TreatmentCourse(
        referral=referral,
        modality=modality,
        clinician=clinician,
        planned_sessions=planned_sessions,
    )
    db.session.add(course)
    db.session.flush()
    record("course.create", "treatment_course", course.id, actor=actor)
    return course


@dataclass(frozen=True)
class SessionRecord:
    session_date: date
    modality: str
    dose_mg: Decimal
    bp_pre: tuple[int, int]
    bp_post: tuple[int, int]
    phq9_answers: list[int] | None
    notes: str = ""


def record_session(
    course: TreatmentCourse, data: SessionRecord, *, actor: User, expected_version: int
) -> TreatmentSession:
    """Document one session; the first one moves the referral into treatment."""
    referral = course.referral
    if data.phq9_answers is not None:
        score(PHQ9.code, data.phq9_answers)  # refuse bad answers before anything is written
    if referral.state in (State.ACCEPTED, State.SCHEDULED):
        change_state(referral, State.IN_TREATMENT, actor=actor, expected_version=expected_version)
    elif referral.state == State.IN_TREATMENT:
        # Also catches a double-submitted form: the second post carries a spent version.
        lock_for_edit(referral, actor=actor, expected_version=expected_version)
    else:
        raise ValueError(
            f"Sessions can be recorded only for an accepted referral or one in treatment; "
            f"this one is {referral.state_enum.label.lower()}."
        )
    session = TreatmentSession(
        course=course,
        session_date=data.session_date,
        modality=data.modality,
        dose_mg=data.dose_mg,
        bp_pre_systolic=data.bp_pre[0],
        bp_pre_diastolic=data.bp_pre[1],
        bp_post_systolic=data.bp_post[0],
        bp_post_diastolic=data.bp_post[1],
        notes=data.notes.strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    record("session.create", "treatment_session", session.id, actor=actor)
    if data.phq9_answers is not None:
        add_assessment(
            referral,
            PHQ9.code,
            data.phq9_answers,
            taken_on=data.session_date,
            actor=actor,
            session=session,
        )
    number = len(course.sessions)
    add_event(
        referral,
        "session_recorded",
        actor=actor,
        reason=f"Session {number} of {course.planned_sessions} documented.",
    )
    return session


def complete_course(
    course: TreatmentCourse, *, actor: User, expected_version: int, ended_on: date
) -> None:
    """Finish the series: the referral becomes completed."""
    if not course.sessions:
        raise ValueError("A course with no documented session cannot be completed.")
    change_state(
        course.referral,
        State.COMPLETED,
        actor=actor,
        expected_version=expected_version,
        reason=f"Series finished after {len(course.sessions)} sessions.",
    )
    course.ended_on = ended_on
    db.session.flush()
