"""Reminders the hourly job raises, each once per thing: a first decision one business day
from its deadline (coordinators), a REMS monitoring form two days from its 7-day deadline
(clinicians)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.clock import clinic_today, clinic_zone
from portal.extensions import db
from portal.notifications.models import Notification
from portal.notifications.service import clinicians_of, coordinators_of, notify
from portal.referrals.models import Referral
from portal.referrals.states import AWAITING_DECISION
from portal.scheduling.settings import clinic_schedule
from portal.treatment.models import TreatmentCourse, TreatmentSession
from portal.treatment.safety import days_left
from portal.triage.sla import add_business_days, due_on

FORM_REMINDER_DAYS_LEFT = 2


def _already(kind: str, referral_id: int, link: str | None = None) -> bool:
    stmt = select(Notification.id).where(
        Notification.kind == kind, Notification.referral_id == referral_id
    )
    if link is not None:
        stmt = stmt.where(Notification.link == link)
    return db.session.scalar(stmt.limit(1)) is not None


def remind_near_overdue(today: date) -> int:
    """Coordinators of each referral whose first decision is due on the next business day."""
    tomorrow = add_business_days(today, 1)
    told = 0
    referrals = db.session.scalars(
        select(Referral)
        .where(
            Referral.state.in_(AWAITING_DECISION),
            Referral.first_decided_at.is_(None),
            Referral.submitted_at.is_not(None),
        )
        .options(selectinload(Referral.assigned_coordinator))
    )
    for referral in referrals:
        settings = clinic_schedule(referral.clinic_id)
        days = (
            settings.sla_urgent_days if referral.urgency == "urgent" else settings.sla_routine_days
        )
        submitted_on = referral.submitted_at.astimezone(clinic_zone()).date()
        if due_on(submitted_on, days) != tomorrow or _already("near_overdue", referral.id):
            continue
        notify("near_overdue", coordinators_of(referral), referral=referral)
        told += 1
    return told


def remind_forms_due(today: date) -> int:
    """Clinicians of each SPRAVATO session whose REMS form is two days from its deadline."""
    sessions = db.session.scalars(
        select(TreatmentSession)
        .where(
            TreatmentSession.modality == "spravato",
            TreatmentSession.rems_submitted_on.is_(None),
        )
        .options(selectinload(TreatmentSession.course).selectinload(TreatmentCourse.referral))
    )
    told = 0
    for session in sessions:
        if days_left(session.session_date, today) != FORM_REMINDER_DAYS_LEFT:
            continue
        referral = session.course.referral
        link = f"/treatment/referrals/{referral.id}/course#session-{session.id}"
        if _already("form_due", referral.id, link):
            continue
        notify("form_due", clinicians_of(referral), referral=referral, link=link)
        told += 1
    return told


def remind_due(today: date | None = None) -> int:
    today = today or clinic_today()
    return remind_near_overdue(today) + remind_forms_due(today)
