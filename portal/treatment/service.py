"""The rules of treatment: accepting into a course, recording sessions, completing the course."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import TYPE_CHECKING

from portal.audit.service import record
from portal.clinical_limits import DOSE_RANGE_TEXT, dose_outside_range
from portal.extensions import db
from portal.referrals.service import add_event, change_state, lock_for_edit
from portal.referrals.states import ACCEPTED_NOT_STARTED, State
from portal.scales.scoring import CADSS6, PHQ9, score
from portal.scheduling.queries import appointment_of
from portal.scheduling.service import mark_attended
from portal.treatment.assessments import add_assessment
from portal.treatment.errors import (
    AlreadyRecorded,
    CourseRefused,
    DoseNeedsConfirmation,
    NotInCare,
)
from portal.treatment.models import Assessment, TreatmentCourse, TreatmentSession
from portal.treatment.safety import dose_mg as computed_dose

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral
    from portal.scheduling.models import Appointment


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
    # IV ketamine
    weight_kg: Decimal | None = None
    dose_mg_per_kg: Decimal | None = None
    infusion_minutes: int | None = None
    infusion_started_at: time | None = None
    vitals: list[dict] = field(default_factory=list)
    # SPRAVATO
    spravato_dose: str = ""
    devices_used: int | None = None
    lot_number: str = ""
    bp_leave: tuple[int, int] | None = None
    vitals_ok_before: bool | None = None
    vitals_ok_leaving: bool | None = None
    sedation: bool | None = None
    dissociation: bool | None = None
    respiratory_depression: bool | None = None
    lowest_spo2: int | None = None
    serious_adverse_events: bool | None = None
    monitoring_minutes: int | None = None
    ready_to_leave_at: time | None = None
    concomitant_medications: list[str] = field(default_factory=list)
    # both
    adverse_events: list[str] = field(default_factory=list)
    adverse_event_other: str = ""
    cadss6_answers: list[int] | None = None
    interventions: str = ""
    escort_confirmed: bool = False
    # Kept on the visit the session is documented from (one fact, shown and changed from
    # either side); a session with no visit has no place for it and ignores it.
    instructions_given: bool = False
    discharge_at: time | None = None
    dose_outside_range_confirmed: bool = False


def record_session(
    course: TreatmentCourse,
    data: SessionRecord,
    *,
    actor: User,
    expected_version: int,
    appointment: Appointment | None = None,
) -> TreatmentSession:
    """Document one session; the first one moves the referral into treatment. Started from a
    booked `appointment`, the visit becomes attended and shares the session's escort and
    pre-visit instructions."""
    referral = course.referral
    if data.phq9_answers is not None:
        score(PHQ9.code, data.phq9_answers)  # refuse bad answers before anything is written
    if data.cadss6_answers is not None:
        score(CADSS6.code, data.cadss6_answers)
    if dose_outside_range(data.dose_mg_per_kg) and not data.dose_outside_range_confirmed:
        raise DoseNeedsConfirmation()
    if referral.state in ACCEPTED_NOT_STARTED:
        change_state(referral, State.IN_TREATMENT, actor=actor, expected_version=expected_version)
    elif referral.state == State.IN_TREATMENT:
        # Also catches a double-submitted form: the second post carries a spent version.
        lock_for_edit(referral, actor=actor, expected_version=expected_version)
    else:
        raise NotInCare(
            f"Sessions can be recorded only for an accepted referral or one in treatment; "
            f"this one is {referral.state.label.lower()}."
        )
    session = TreatmentSession(course=course, recorded_by_id=actor.id)
    _apply(session, data)
    db.session.add(session)
    db.session.flush()
    record("session.create", "treatment_session", session.id, actor=actor)
    if data.dose_outside_range_confirmed and dose_outside_range(data.dose_mg_per_kg):
        record(
            "session.dose_confirmed",
            "treatment_session",
            session.id,
            actor=actor,
            detail=f"dose outside {DOSE_RANGE_TEXT} confirmed",
        )
    _scales_with(session, CADSS6.code, data.cadss6_answers, actor=actor)
    _scales_with(session, PHQ9.code, data.phq9_answers, actor=actor)
    if appointment is not None:
        mark_attended(appointment, session.id, actor=actor)
        appointment.escort_confirmed = session.escort_confirmed
        appointment.instructions_given = data.instructions_given
        db.session.flush()
    number = len(course.sessions)
    add_event(
        referral,
        "session_recorded",
        actor=actor,
        reason=f"Session {number} of {course.planned_sessions} documented.",
    )
    return session


def _apply(session: TreatmentSession, data: SessionRecord) -> None:
    """Copy the documented values onto the session; the IV dose in mg is computed."""
    dose = data.dose_mg
    if data.weight_kg is not None and data.dose_mg_per_kg is not None:
        dose = computed_dose(data.weight_kg, data.dose_mg_per_kg)
    plain = [
        "session_date",
        "modality",
        "weight_kg",
        "dose_mg_per_kg",
        "infusion_minutes",
        "infusion_started_at",
        "spravato_dose",
        "devices_used",
        "vitals_ok_before",
        "vitals_ok_leaving",
        "sedation",
        "dissociation",
        "respiratory_depression",
        "lowest_spo2",
        "serious_adverse_events",
        "monitoring_minutes",
        "ready_to_leave_at",
        "escort_confirmed",
        "discharge_at",
        "dose_outside_range_confirmed",
    ]
    for name in plain:
        setattr(session, name, getattr(data, name))
    session.dose_mg = dose
    session.bp_pre_systolic, session.bp_pre_diastolic = data.bp_pre
    session.bp_post_systolic, session.bp_post_diastolic = data.bp_post
    session.bp_leave_systolic, session.bp_leave_diastolic = data.bp_leave or (None, None)
    session.vitals = [dict(row) for row in data.vitals]
    session.concomitant_medications = list(data.concomitant_medications)
    session.adverse_events = list(data.adverse_events)
    session.adverse_event_other = data.adverse_event_other.strip()
    session.lot_number = data.lot_number.strip()
    session.interventions = data.interventions.strip()
    session.notes = data.notes.strip()


def complete_course(
    course: TreatmentCourse, *, actor: User, expected_version: int, ended_on: date
) -> None:
    """Finish the series: the referral becomes completed."""
    if not course.sessions:
        raise CourseRefused("A course with no documented session cannot be completed.")
    change_state(
        course.referral,
        State.COMPLETED,
        actor=actor,
        expected_version=expected_version,
        reason=f"Series finished after {len(course.sessions)} sessions.",
    )
    course.ended_on = ended_on
    db.session.flush()


def end_course_early(
    course: TreatmentCourse, *, actor: User, expected_version: int, reason: str, ended_on: date
) -> None:
    """End the series before it is complete: the referral becomes cancelled, with the reason."""
    done = len(course.sessions)
    reason = reason.strip()
    change_state(
        course.referral,
        State.CANCELLED,
        actor=actor,
        expected_version=expected_version,
        reason=f"Course ended early by the clinic after {done} of {course.planned_sessions} "
        f"sessions: {reason}"
        if reason
        else "",
    )
    course.ended_on = ended_on
    course.end_reason = reason
    db.session.flush()


def update_session(
    session: TreatmentSession, data: SessionRecord, *, actor: User, expected_version: int
) -> None:
    """Correct an unsigned session; a signed one changes only by addenda. A CADSS-6 not yet
    recorded with the session can be added; one already recorded stays as it is (and PHQ-9
    answers are not taken here)."""
    if session.is_signed:
        raise AlreadyRecorded("A signed session cannot be edited; add an addendum instead.")
    if data.cadss6_answers is not None:
        if cadss6_of(session) is not None:
            raise AlreadyRecorded(
                "This session already has a CADSS-6; it is not changed by editing the session."
            )
        score(CADSS6.code, data.cadss6_answers)  # refuse bad answers before anything is written
    if dose_outside_range(data.dose_mg_per_kg) and not data.dose_outside_range_confirmed:
        raise DoseNeedsConfirmation()
    referral = session.course.referral
    lock_for_edit(referral, actor=actor, expected_version=expected_version)
    _apply(session, data)
    visit = appointment_of(session.id)
    if visit is not None:  # escort and instructions confirmed on either are the same fact
        visit.escort_confirmed = session.escort_confirmed
        visit.instructions_given = data.instructions_given
    for assessment in session.assessments:  # scales taken with the session share its date
        assessment.taken_on = data.session_date
    db.session.flush()
    record("session.edit", "treatment_session", session.id, actor=actor)
    _scales_with(session, CADSS6.code, data.cadss6_answers, actor=actor)


def record_scale(
    referral: Referral,
    scale: str,
    answers: list[int],
    *,
    taken_on: date,
    actor: User,
    expected_version: int,
    session: TreatmentSession | None = None,
) -> Assessment:
    """A rating scale entered on its own page (on its own date, or with an unsigned session);
    refused if the referral changed since the form was shown."""
    lock_for_edit(referral, actor=actor, expected_version=expected_version)
    return add_assessment(referral, scale, answers, taken_on=taken_on, actor=actor, session=session)


def _scales_with(
    session: TreatmentSession, scale: str, answers: list[int] | None, *, actor: User
) -> None:
    """A scale taken with the session, dated like it (nothing when it was not taken)."""
    if answers is not None:
        add_assessment(
            session.course.referral,
            scale,
            answers,
            taken_on=session.session_date,
            actor=actor,
            session=session,
        )


def cadss6_of(session: TreatmentSession) -> Assessment | None:
    """The CADSS-6 recorded with the session, or None."""
    return next((a for a in session.assessments if a.scale == CADSS6.code), None)
