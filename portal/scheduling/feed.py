"""The clinic's appointments as an iCalendar feed behind a revocable secret link.

Only the sha256 of the secret is stored. Events show the referral number and the patient's
initials, never a name."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.service import record
from portal.auth.models import User
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


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def initials(first: str, last: str) -> str:
    return "".join(f"{part[:1].upper()}." for part in (first, last) if part)


def calendar_text(settings: ClinicSchedule, host: str, today: date) -> str:
    """The feed: one all-day event per booked appointment, a window around today."""
    appointments = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.clinic_id == settings.clinic_id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.day.between(
                today - timedelta(days=FEED_PAST_DAYS), today + timedelta(days=FEED_FUTURE_DAYS)
            ),
        )
        .options(joinedload(Appointment.referral).joinedload(Referral.patient))
        .order_by(Appointment.day, Appointment.id)
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Ketamine referral portal//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Treatment appointments",
    ]
    for a in appointments:
        patient = a.referral.patient
        summary = (
            f"{a.referral.number} {initials(patient.first_name, patient.last_name)} "
            f"{MODALITY_SHORT.get(a.modality, a.modality)}"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:appointment-{a.id}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{a.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{a.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(summary)}",
            f"SEQUENCE:{a.version}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    record("calendar.feed", "clinic", settings.clinic_id, actor=None)
    return "\r\n".join(lines) + "\r\n"
