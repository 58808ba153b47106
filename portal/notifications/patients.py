"""Appointment reminders to patients (issue 18, item 6): an email two days before each booked
visit, to the address on the referral, unless the patient opted out (recorded on the referral).

The email carries no clinical fact (DOMAIN.md, "Notifications without PHI"): no name, no
treatment, no diagnosis, not even the clinic's name (it may name the treatment). It gives the
date and time, the clinic's address, the rule on getting home, the clinic's phone, and says it
cannot be answered.

Each reminder is sent once for one appointment at one time: the outbox row's idempotency key is
the appointment and its start, so a second run finds it; a moved visit has a new start and gets
a fresh reminder. A reminder still waiting in the outbox when its visit is cancelled or moved is
withdrawn before it leaves. The hourly job (tasks.py) runs remind_patients."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.audit.service import record
from portal.clock import clinic_today
from portal.extensions import db
from portal.notifications.models import DISMISSED, PENDING, OutboxMessage
from portal.referrals.models import Referral
from portal.scheduling.models import Appointment, AppointmentStatus

KIND = "patient_reminder"
# Days before the visit (issue 18: "2 days before each appointment"). A visit booked or moved
# nearer than that is reminded at the next hourly run, if it is still ahead.
LEAD_DAYS = 2
KEY_PREFIX = "patient-reminder-"


def reminder_key(appointment: Appointment) -> str:
    """One key per appointment and start: a moved visit has a new one."""
    return f"{KEY_PREFIX}{appointment.id}-{appointment.starts_at:%Y%m%dT%H%M}"


def patient_email(referral: Referral) -> str:
    patient = (referral.intake or {}).get("patient") or {}
    return str(patient.get("email") or "").strip()


def when(appointment: Appointment) -> str:
    day = appointment.day
    return f"{day:%A} {day.day} {day:%B %Y} at {appointment.start_time:%H:%M}"


def subject(appointment: Appointment) -> str:
    day = appointment.day
    return f"Appointment reminder: {day:%a} {day.day} {day:%b %Y} at {appointment.start_time:%H:%M}"


def body(appointment: Appointment) -> str:
    clinic = appointment.referral.clinic
    address = "\n".join(f"  {line}" for line in clinic.address_lines()) or "  (ask the clinic)"
    call = f"call the clinic on {clinic.phone}" if clinic.phone else "call the clinic"
    return (
        f"This is a reminder of your appointment on {when(appointment)}.\n\n"
        f"Where:\n{address}\n\n"
        "Please arrange for an adult to take you home after the visit: you must not drive "
        "until the next day.\n\n"
        f"This email cannot be answered. To change or cancel the appointment, {call}, "
        f"and give the reference {appointment.referral.number}.\n\n"
        f"If you do not want these reminders, {call} and ask for them to stop.\n"
    )


def due(today: date) -> list[Appointment]:
    """Booked visits from tomorrow to LEAD_DAYS ahead whose patient has an email and did not
    opt out."""
    appointments = db.session.scalars(
        select(Appointment)
        .join(Referral, Referral.id == Appointment.referral_id)
        .where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.day > today,
            Appointment.day <= today + timedelta(days=LEAD_DAYS),
            Referral.patient_reminders_opt_out.is_(False),
        )
        .options(selectinload(Appointment.referral).selectinload(Referral.clinic))
        .order_by(Appointment.day, Appointment.start_time, Appointment.id)
    )
    return [a for a in appointments if patient_email(a.referral)]


def _queued(key: str) -> bool:
    return (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
        is not None
    )


def queue_reminder(appointment: Appointment) -> OutboxMessage | None:
    """The reminder for this visit at its present time, in the outbox; None if it already is."""
    key = reminder_key(appointment)
    if _queued(key):
        return None
    row = OutboxMessage(
        idempotency_key=key,
        user_id=None,
        to_email=patient_email(appointment.referral),
        kind=KIND,
        subject=subject(appointment),
        body=body(appointment),
    )
    try:
        with db.session.begin_nested():  # another run that got there first wins, quietly
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return None
    record("patient_reminder.queue", "appointment", appointment.id, detail=f"outbox {row.id}")
    return row


def withdraw_stale() -> int:
    """Reminders not yet sent whose visit was since cancelled or moved: dismissed, unsent."""
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == KIND, OutboxMessage.status == PENDING)
    ).all()
    withdrawn = 0
    for row in rows:
        appointment_id = int(row.idempotency_key[len(KEY_PREFIX) :].split("-", 1)[0])
        appointment = db.session.get(Appointment, appointment_id)
        if (
            appointment is not None
            and appointment.is_booked
            and reminder_key(appointment) == row.idempotency_key
        ):
            continue
        row.status, row.last_error = DISMISSED, "withdrawn: the appointment was cancelled or moved"
        record("patient_reminder.withdraw", "outbox_message", row.id)
        withdrawn += 1
    db.session.flush()
    return withdrawn


def remind_patients(today: date | None = None) -> int:
    """Queue every reminder due today (once each); return how many were queued."""
    today = today or clinic_today()
    withdraw_stale()
    return sum(1 for a in due(today) if queue_reminder(a) is not None)
