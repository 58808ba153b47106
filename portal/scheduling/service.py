"""The rules of booking: a series, one more visit, moving, cancelling, no-shows, preparation.

Every booking checks the day against the clinic's calendar (treatment day, not closed, a free
chair) with the clinic's settings row locked, so nothing is double-booked silently. The first
booking of an accepted referral moves it to `scheduled` through change_state."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.audit.service import record
from portal.clock import clinic_today
from portal.errors import Conflict, Invalid, NotAllowed
from portal.extensions import db
from portal.referrals.service import StaleEdit, add_event, change_state, lock_for_edit
from portal.referrals.states import IN_CARE, State
from portal.scheduling.models import Appointment, AppointmentStatus, ProtocolTemplate
from portal.scheduling.settings import clinic_calendar, clinic_schedule

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


class BookingConflict(Conflict):
    """One or more days cannot be booked; each message names the day and why."""

    # The days typed are refused and shown again to be changed: the form's problem (422),
    # not a page gone stale (409).
    status = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Nothing was booked: " + "; ".join(problems) + ".")


class StaleAppointment(Conflict):
    """Someone else changed the appointment after this user loaded it."""

    def __init__(self) -> None:
        super().__init__(
            "Someone else changed this appointment while you were looking at it; nothing was "
            "saved. The page now shows it as it is."
        )


def referral_appointments(referral: Referral) -> list[Appointment]:
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.referral_id == referral.id)
            .order_by(Appointment.day, Appointment.id)
        )
    )


def _check_days(referral: Referral, days: list[date], *, moving: Appointment | None = None):
    """Raise BookingConflict unless every day is free; the clinic's settings row is locked."""
    if not days:
        raise BookingConflict(["no date was given"])
    settings = clinic_schedule(referral.clinic_id, for_update=True)
    calendar = clinic_calendar(settings, min(days), max(days), ignore=moving)
    taken = {a.day for a in referral_appointments(referral) if a.is_booked and a is not moving}
    problems, seen = [], Counter(days)
    for day in sorted(set(days)):
        why = calendar.refusal(day)
        if why is None and calendar.booked.get(day, 0) + seen[day] > settings.chairs_per_day:
            why = f"only {settings.chairs_per_day - calendar.booked.get(day, 0)} chair(s) free"
        if why is None and (day in taken or seen[day] > 1):
            why = "the patient already has an appointment that day"
        if why is None and day < clinic_today() - timedelta(days=1):
            why = "the day is in the past"
        if why:
            problems.append(f"{day:%a %d %b %Y}: {why}")
    if problems:
        raise BookingConflict(problems)


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
    days: list[date],
    *,
    protocol: ProtocolTemplate | None,
    actor: User,
    expected_version: int,
) -> list[Appointment]:
    """Book the confirmed days of a series (or one added visit)."""
    _check_days(referral, days)
    modality = referral.course.modality if referral.course else referral.requested_modality
    name = protocol.name if protocol else "Additional visit"
    summary = f"{len(days)} appointment{'s' if len(days) != 1 else ''} from {min(days):%a %d %b %Y}"
    _start_or_lock(
        referral, actor=actor, expected_version=expected_version, reason=f"{name}: {summary}."
    )
    booked = [
        Appointment(
            referral_id=referral.id,
            clinic_id=referral.clinic_id,
            protocol_id=protocol.id if protocol else None,
            day=day,
            modality=modality,
            created_by_id=actor.id,
        )
        for day in sorted(days)
    ]
    db.session.add_all(booked)
    add_event(referral, "appointments_booked", actor=actor, reason=f"{name}: {summary}.")
    db.session.flush()
    for appointment in booked:
        record("appointment.book", "appointment", appointment.id, actor=actor)
    return booked


def _versioned(appointment: Appointment, expected_version: int, *, actor: User, action: str):
    if appointment.version != expected_version:
        record(action, "appointment", appointment.id, actor=actor, outcome="conflict")
        raise StaleAppointment()
    if not appointment.is_booked:
        raise NotAllowed("Only a booked appointment can be changed.")


def _flush_appointment() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None) from error


def move_appointment(
    appointment: Appointment, new_day: date, *, actor: User, expected_version: int
) -> None:
    """Move a booked appointment to another free day."""
    _versioned(appointment, expected_version, actor=actor, action="appointment.move")
    if new_day == appointment.day:
        raise Invalid("Choose a different day to move the appointment to.", field="day")
    _check_days(appointment.referral, [new_day], moving=appointment)
    old = appointment.day
    appointment.day = new_day
    add_event(
        appointment.referral,
        "appointment_changed",
        actor=actor,
        reason=f"Appointment of {old:%a %d %b %Y} moved to {new_day:%a %d %b %Y}.",
    )
    _flush_appointment()
    record("appointment.move", "appointment", appointment.id, actor=actor)


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
        reason=f"Appointment of {appointment.day:%a %d %b %Y} cancelled: {reason}",
    )
    _flush_appointment()
    record("appointment.cancel", "appointment", appointment.id, actor=actor)


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
        reason=f"Missed the appointment of {appointment.day:%a %d %b %Y}.",
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
    """Record that the ride home is confirmed and the pre-visit instructions were given."""
    _versioned(appointment, expected_version, actor=actor, action="appointment.prepare")
    appointment.escort_confirmed = escort_confirmed
    appointment.instructions_given = instructions_given
    _flush_appointment()
    record("appointment.prepare", "appointment", appointment.id, actor=actor)
