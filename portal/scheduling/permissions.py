"""Who may do what in scheduling, and the loaders of its objects reached by id.

`can` is pure (it reads only the objects given). A loader answers 404, never 403, for what
the user may not see or change, and audits exactly what was audited before it existed: the
appointment's reads and refusals; closed dates and protocols, guarded for administrators,
were never audited on reading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.service import record, record_denied
from portal.auth.models import User
from portal.extensions import db
from portal.referrals.models import Referral
from portal.referrals.permissions import can_act_as_clinic
from portal.referrals.queries import get_referral_or_404
from portal.referrals.states import IN_CARE
from portal.roles import Role
from portal.scheduling.feed import settings_for_token
from portal.scheduling.models import Appointment, ClinicSchedule, ClosedDate, ProtocolTemplate


def can_schedule(user: User, referral: Referral) -> bool:
    """Book and change visits: the clinic's staff, once the referral is accepted into a
    course and until it ends (what the referral page's "Schedule the series" offers)."""
    return (
        can_act_as_clinic(user, referral)
        and referral.course is not None
        and referral.state in IN_CARE
    )


def can_change_appointment(user: User, appointment: Appointment) -> bool:
    """Move, cancel, mark a no-show, record the preparation: staff of its referral's clinic."""
    return can_act_as_clinic(user, appointment.referral)


def is_clinic_admin(user: User, clinic_id: int) -> bool:
    return user.role == Role.ADMIN and user.clinic_id == clinic_id


# (type of object, action) -> rule; a pair not listed is refused.
RULES: dict[tuple[type, str], Callable[[User, Any], bool]] = {
    (Referral, "schedule"): can_schedule,
    (Appointment, "act"): can_change_appointment,
    (ClosedDate, "delete"): lambda user, closed: is_clinic_admin(user, closed.clinic_id),
    # Protocol templates are shared by the whole portal; administrators edit them.
    (ProtocolTemplate, "edit"): lambda user, protocol: user.role == Role.ADMIN,
}


def can(user: User, obj: object, action: str) -> bool:
    """Whether `user` may do `action` to `obj` (deny by default)."""
    rule = RULES.get((type(obj), action))
    return rule is not None and user.is_authenticated and rule(user, obj)


def get_appointment_or_404(appointment_id: int, user: User, action: str = "act") -> Appointment:
    """The appointment if `user` may `action` it; otherwise 404 (audited either way)."""
    appointment = db.session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .options(joinedload(Appointment.referral).joinedload(Referral.patient))
    )
    if appointment is None or not can(user, appointment, action):
        record_denied(f"appointment.{action}", "appointment", appointment_id, actor=user)
        abort(404)
    record(f"appointment.{action}", "appointment", appointment.id, actor=user, read=True)
    return appointment


def get_closed_date_or_404(closed_id: int, user: User, action: str = "delete") -> ClosedDate:
    """A closed date of the user's clinic that they may `action`; otherwise 404."""
    closed = db.session.get(ClosedDate, closed_id)
    if closed is None or not can(user, closed, action):
        abort(404)
    return closed


def get_protocol_or_404(protocol_id: int, user: User, action: str = "edit") -> ProtocolTemplate:
    """A protocol template the user may `action`; otherwise 404."""
    protocol = db.session.get(ProtocolTemplate, protocol_id)
    if protocol is None or not can(user, protocol, action):
        abort(404)
    return protocol


def get_referral_for_schedule_or_404(referral_id: int, user: User) -> Referral:
    """The referral whose series the user may see and book: one they may act on as the
    clinic (audited as the referral's loader does) that has a course; otherwise 404."""
    referral = get_referral_or_404(referral_id, user, "act")
    if referral.course is None:
        abort(404)
    return referral


def get_clinician_or_404(clinician_id: int, user: User) -> User:
    """A clinician of the administrator's clinic (their working hours); otherwise 404."""
    clinician = db.session.scalar(select(User).where(User.id == clinician_id))
    if (
        clinician is None
        or clinician.role != Role.CLINICIAN
        or not is_clinic_admin(user, clinician.clinic_id or -1)
    ):
        abort(404)
    return clinician


def get_calendar_or_404(token: str) -> ClinicSchedule:
    """The clinic whose calendar link `token` is; otherwise 404. The token is the
    credential: the feed is read without signing in."""
    settings = settings_for_token(token)
    if settings is None:
        abort(404)
    return settings
