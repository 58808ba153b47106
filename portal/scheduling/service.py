"""The rules of booking: a series, one more visit, moving, cancelling, no-shows, preparation,
attendance.

Every booking checks each visit against the clinic's calendar (treatment day, not closed,
within opening hours, a free chair for the whole visit, the clinician's hours and how many
patients they supervise at once) with the clinic's settings row locked (SELECT ... FOR UPDATE
on PostgreSQL), so two coordinators book one after the other and the second sees the first's
visits. PostgreSQL's exclusion constraint appointment_chair_no_overlap is the last guard: a
chair cannot hold two overlapping visits whatever the code does. A series is booked whole or
not at all. The first booking of an accepted referral moves it to `scheduled` through
change_state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.audit.service import record
from portal.clock import clinic_today
from portal.errors import Conflict, Invalid, NotAllowed
from portal.extensions import db
from portal.referrals.service import (
    StaleEdit,
    add_event,
    change_state,
    flush_or_stale,
    lock_for_edit,
)
from portal.referrals.states import IN_CARE, State
from portal.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ProtocolTemplate,
)
from portal.scheduling.placing import (
    BookingConflict,
    VisitRequest,
    calendar_for,
    lost_race,
    place,
    place_all,
)
from portal.scheduling.settings import as_booked, clinic_schedule
from portal.treatment.models import TreatmentSession

__all__ = ["BookingConflict", "VisitRequest"]

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


class StaleAppointment(Conflict):
    """Someone else changed the appointment after this user loaded it."""

    def __init__(self) -> None:
        super().__init__(
            "Someone else changed this appointment while you were looking at it; nothing was "
            "saved. The page now shows it as it is."
        )


class BeyondPlan(Conflict):
    """Booking more visits than the course plans needs a reason."""

    status = 422

    def __init__(self, total: int, planned: int) -> None:
        self.total, self.planned = total, planned
        super().__init__(
            f"This makes {total} sessions for a course planned for {planned}: write why the "
            "extra visits are booked."
        )


def referral_appointments(referral: Referral) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.referral_id == referral.id)
            .order_by(Appointment.day, Appointment.start_time, Appointment.id)
        )
    )


def sessions_counted(referral: Referral) -> int:
    """Visits that count against the plan: those booked or attended, and sessions documented
    without an appointment."""
    appointments = [a for a in referral_appointments(referral) if a.holds_chair]
    linked = {a.session_id for a in appointments if a.session_id}
    unlinked = [
        s for s in (referral.course.sessions if referral.course else []) if s.id not in linked
    ]
    return len(appointments) + len(unlinked)


def _start_or_lock(referral: Referral, *, actor: User, expected_version: int, reason: str):
    """The first booking moves an accepted referral to scheduled; later ones lock it."""
    if referral.state not in IN_CARE:
        raise NotAllowed(f"A referral that is {referral.state.label.lower()} cannot be scheduled.")
    if referral.state == State.ACCEPTED:
        change_state(
            referral, State.SCHEDULED, actor=actor, expected_version=expected_version, reason=reason
        )
    else:
        lock_for_edit(referral, actor=actor, expected_version=expected_version)


def book_series(
    referral: Referral,
    visits: Sequence[date | VisitRequest],
    *,
    protocol: ProtocolTemplate | None,
    actor: User,
    expected_version: int,
    preferred: time | None = None,
    beyond_plan_reason: str = "",
) -> list[Appointment]:
    """Book a series (or one added visit) whole or not at all, each visit in a free chair."""
    requests = [v if isinstance(v, VisitRequest) else VisitRequest(v) for v in visits]
    placed = place_all(referral, requests, preferred=preferred)
    planned = referral.course.planned_sessions if referral.course else None
    total = sessions_counted(referral) + len(placed)
    reason = beyond_plan_reason.strip()
    if planned is not None and total > planned and not reason:
        raise BeyondPlan(total, planned)
    modality = referral.course.modality if referral.course else referral.requested_modality
    name = protocol.name if protocol else "Additional visit"
    first = min(placed, key=lambda b: b.start)
    summary = (
        f"{len(placed)} appointment{'s' if len(placed) != 1 else ''} from "
        f"{first.start:%a %d %b %Y %H:%M}"
    )
    if planned is not None and total > planned:
        summary += f" ({total} sessions for {planned} planned: {reason})"
    booked = [
        Appointment(
            referral_id=referral.id,
            clinic_id=referral.clinic_id,
            protocol_id=protocol.id if protocol else None,
            day=visit.start.date(),
            start_time=visit.start.time(),
            end_time=visit.end.time(),
            chair_id=visit.chair_id,
            clinician_id=visit.clinician_id,
            modality=modality,
            created_by_id=actor.id,
        )
        for visit in sorted(placed, key=lambda b: b.start)
    ]
    try:
        with db.session.begin_nested():
            _start_or_lock(
                referral,
                actor=actor,
                expected_version=expected_version,
                reason=f"{name}: {summary}.",
            )
            db.session.add_all(booked)
            db.session.flush()
    except IntegrityError as error:
        raise lost_race(error) from error
    add_event(referral, "appointments_booked", actor=actor, reason=f"{name}: {summary}.")
    db.session.flush()
    for appointment in booked:
        record("appointment.book", "appointment", appointment.id, actor=actor)
    if planned is not None and total > planned:
        record(
            "appointment.beyond_plan",
            "referral",
            referral.id,
            actor=actor,
            detail=f"{total} sessions for {planned} planned",
        )
    return booked


def _versioned(
    appointment: Appointment,
    expected_version: int,
    *,
    actor: User,
    action: str,
    attended_too: bool = False,
):
    if appointment.version != expected_version:
        record(action, "appointment", appointment.id, actor=actor, outcome="conflict")
        raise StaleAppointment()
    attended = attended_too and appointment.session_id is not None
    if not appointment.is_booked and not attended:
        raise NotAllowed("Only a booked appointment can be changed.")


def _flush_appointment() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None) from error


def move_appointment(
    appointment: Appointment,
    new_day: date,
    *,
    actor: User,
    expected_version: int,
    start: time | None = None,
    chair_id: int | None = None,
    with_later: bool = False,
) -> list[Appointment]:
    """Move a booked visit to a free time (the same time and chair if free, else the first free
    one at or after it); `with_later` moves the later booked visits of the series by the same
    number of days. All move or none; the chairs left are free for others."""
    _versioned(appointment, expected_version, actor=actor, action="appointment.move")
    if (
        new_day == appointment.day
        and start in (None, appointment.start_time)
        and chair_id
        in (
            None,
            appointment.chair_id,
        )
    ):
        raise Invalid("Choose a different day or time to move the appointment to.", field="day")
    referral = appointment.referral
    shift = new_day - appointment.day
    moving = [appointment]
    if with_later:
        moving += [
            a
            for a in referral_appointments(referral)
            if a.is_booked and a is not appointment and a.starts_at > appointment.starts_at
        ]
    targets = [new_day] + [a.day + shift for a in moving[1:]]
    settings = clinic_schedule(referral.clinic_id, for_update=True)
    calendar = calendar_for(
        referral,
        settings,
        min([*targets, *(a.day for a in moving)]),
        max([*targets, *(a.day for a in moving)]),
    )
    for a in moving:  # their own chairs are free for them
        calendar.remove(as_booked(a))
    placed, problems = [], []
    for a, day in zip(moving, targets, strict=True):
        asked_start = start if a is appointment else None
        calendar.prefer(asked_start or a.start_time)
        request = VisitRequest(day, asked_start or a.start_time, chair_id or a.chair_id)
        visit, why = place(calendar, request)
        if why and not (a is appointment and start):  # a time typed is kept or refused
            visit, why = place(calendar, VisitRequest(day))
        if why:
            problems.append(f"{day:%a %d %b %Y}: {why}")
        placed.append(visit)
    if problems:
        raise BookingConflict(problems)
    lines = [
        f"{a.starts_at:%a %d %b %Y %H:%M} moved to {visit.start:%a %d %b %Y %H:%M}"
        for a, visit in zip(moving, placed, strict=True)
    ]
    # One visit at a time, the last first when moving later (the first first when earlier),
    # so no two rows overlap in a chair even for a moment (the exclusion constraint is checked
    # row by row).
    pairs = sorted(zip(moving, placed, strict=True), key=lambda p: p[0].starts_at)
    for a, visit in reversed(pairs) if shift.days > 0 else pairs:
        a.day, a.start_time, a.end_time = visit.start.date(), visit.start.time(), visit.end.time()
        a.chair_id = visit.chair_id
        try:
            _flush_appointment()
        except IntegrityError as error:
            raise lost_race(error) from error
    add_event(
        referral, "appointment_changed", actor=actor, reason="Appointment " + "; ".join(lines) + "."
    )
    _flush_appointment()
    for a in moving:
        record("appointment.move", "appointment", a.id, actor=actor)
    return moving


def cancel_appointment(
    appointment: Appointment, reason: str, *, actor: User, expected_version: int
) -> None:
    """Cancel one appointment; its chair is free again."""
    _versioned(appointment, expected_version, actor=actor, action="appointment.cancel")
    reason = reason.strip()
    if not reason:
        raise Invalid("Write why the appointment is cancelled.", field="reason")
    appointment.status, appointment.note = AppointmentStatus.CANCELLED, reason[:500]
    add_event(
        appointment.referral,
        "appointment_changed",
        actor=actor,
        reason=f"Appointment of {appointment.starts_at:%a %d %b %Y %H:%M} cancelled: {reason}",
    )
    _flush_appointment()
    record("appointment.cancel", "appointment", appointment.id, actor=actor)


def mark_attended(appointment: Appointment, session_id: int, *, actor: User) -> None:
    """The visit took place: the session documented from it is linked (treatment calls this)."""
    if appointment.status != AppointmentStatus.BOOKED:
        raise NotAllowed(
            f"This appointment is {appointment.status.label.lower()}; a session starts only "
            "from a booked one."
        )
    appointment.status = AppointmentStatus.ATTENDED
    appointment.session_id = session_id
    _flush_appointment()
    record("appointment.attend", "appointment", appointment.id, actor=actor)


def mark_no_show(appointment: Appointment, *, actor: User, expected_version: int) -> None:
    """The patient did not come: a no-show event on the timeline, not a referral state."""
    _versioned(appointment, expected_version, actor=actor, action="appointment.no_show")
    if appointment.day > clinic_today():
        raise NotAllowed("An appointment in the future cannot be a no-show yet.")
    appointment.status = AppointmentStatus.NO_SHOW
    add_event(
        appointment.referral,
        "no_show",
        actor=actor,
        reason=f"Missed the appointment of {appointment.starts_at:%a %d %b %Y %H:%M}.",
    )
    _flush_appointment()
    record("appointment.no_show", "appointment", appointment.id, actor=actor)


def set_preparation(
    appointment: Appointment,
    *,
    escort_confirmed: bool,
    instructions_given: bool,
    actor: User,
    expected_version: int,
) -> None:
    """Record that the ride home is confirmed and the pre-visit instructions were given. The
    session documented from this visit shares them: its escort follows (the instructions are
    kept here only); a signed session no longer changes."""
    session = (
        db.session.get(TreatmentSession, appointment.session_id) if appointment.session_id else None
    )
    if session is not None and session.is_signed:
        raise Conflict(
            "The session of this visit is signed: its escort and instructions no longer change."
        )
    _versioned(
        appointment, expected_version, actor=actor, action="appointment.prepare", attended_too=True
    )
    appointment.escort_confirmed = escort_confirmed
    appointment.instructions_given = instructions_given
    if session is not None:
        session.escort_confirmed = escort_confirmed
    _flush_appointment()
    record("appointment.prepare", "appointment", appointment.id, actor=actor)


def set_reminders_opt_out(
    referral: Referral, opted_out: bool, *, actor: User, expected_version: int
) -> None:
    """Record on the referral that the patient wants no appointment reminder emails (or wants
    them again); portal/notifications/patients.py reads it."""
    lock_for_edit(referral, actor=actor, expected_version=expected_version)
    referral.patient_reminders_opt_out = opted_out
    flush_or_stale(referral)
    action = "patient_reminder.opt_out" if opted_out else "patient_reminder.opt_in"
    record(action, "referral", referral.id, actor=actor)
