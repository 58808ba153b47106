"""The clinic's appointments as an iCalendar feed behind a revocable secret link.

Only the sha256 of the secret is stored. Events show the referral number, the patient's
initials and the chair, never a name."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.service import record
from portal.auth.models import User
from portal.clock import clinic_zone
from portal.db import utcnow
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.vocab import MODALITY_SHORT
from portal.scheduling.models import Appointment, AppointmentStatus, ClinicSchedule

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 366


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_calendar_link(settings: ClinicSchedule, *, actor: User) -> str:
    """A new secret for the feed; the previous link stops working. Shown once, stored hashed."""
    token = secrets.token_urlsafe(32)
    settings.calendar_token_hash = token_hash(token)
    settings.calendar_token_created_at = utcnow()
    db.session.flush()
    record("calendar.link_create", "clinic", settings.clinic_id, actor=actor)
    return token


def revoke_calendar_link(settings: ClinicSchedule, *, actor: User) -> None:
    settings.calendar_token_hash = None
    settings.calendar_token_created_at = None
    db.session.flush()
    record("calendar.link_revoke", "clinic", settings.clinic_id, actor=actor)


def settings_for_token(token: str) -> ClinicSchedule | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(ClinicSchedule).where(ClinicSchedule.calendar_token_hash == token_hash(token))
    )


def initials(first: str, last: str) -> str:
    return "".join(f"{part[:1].upper()}." for part in (first, last) if part)


def calendar_text(settings: ClinicSchedule, host: str, today: date) -> bytes:
    """The feed: one timed event per visit in a window around today, in the clinic's zone
    (with its VTIMEZONE). A cancelled visit or a no-show stays in the feed as STATUS:CANCELLED,
    and every change raises SEQUENCE (the appointment's version), so subscribed calendars
    update. Written by the icalendar library, which folds and escapes."""
    zone = clinic_zone()
    appointments = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.clinic_id == settings.clinic_id,
            Appointment.day.between(
                today - timedelta(days=FEED_PAST_DAYS), today + timedelta(days=FEED_FUTURE_DAYS)
            ),
        )
        .options(
            joinedload(Appointment.referral).joinedload(Referral.patient),
            joinedload(Appointment.chair),
        )
        .order_by(Appointment.day, Appointment.start_time, Appointment.id)
    )
    from icalendar import Calendar, Event  # loaded by the first feed served, not at start

    calendar = Calendar()
    calendar.add("prodid", "-//Ketamine referral portal//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Treatment appointments")
    calendar.add("x-wr-timezone", zone.key)
    stamp = datetime.now(UTC)
    for a in appointments:
        patient = a.referral.patient
        event = Event()
        event.add("uid", f"appointment-{a.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", datetime.combine(a.day, a.start_time, tzinfo=zone))
        event.add("dtend", datetime.combine(a.day, a.end_time, tzinfo=zone))
        event.add(
            "summary",
            f"{a.referral.number} {initials(patient.first_name, patient.last_name)} "
            f"{MODALITY_SHORT.get(a.modality, a.modality)}",
        )
        event.add("location", a.chair.name)
        event.add("sequence", a.version)
        event.add("last-modified", a.updated_at)
        cancelled = a.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if a.status == AppointmentStatus.NO_SHOW:
            event.add("description", "No-show")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    record("calendar.feed", "clinic", settings.clinic_id, actor=None)
    return calendar.to_ical()
