"""What each timeline event tells whom. Connected to referrals' `referral_event` signal, so
every change of state and every timeline entry is considered in the very unit of work that
made it; the notifications commit with the change or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.extensions import db
from portal.notifications.service import coordinators_of, notify
from portal.referrals.service import referral_event
from portal.referrals.states import State
from portal.roles import Role

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral, ReferralEvent

# A change of state into one of these tells the referrer of this kind.
TO_REFERRER = {
    State.NEEDS_INFO: "question",
    State.ACCEPTED: "accepted",
    State.DECLINED: "declined",
    State.COMPLETED: "course_ended",
}


def on_referral_event(referral: Referral, *, event: ReferralEvent, actor: User | None) -> None:
    if event.kind == "state_change":
        _state_changed(referral, event, actor)
    elif event.kind == "letter_issued":
        notify("letter_ready", [referral.referrer], referral=referral, actor=actor)
    elif event.kind == "appointments_booked":
        notify("scheduled", [referral.referrer], referral=referral, extra="booked", actor=actor)
    elif event.kind == "appointment_changed":
        notify("scheduled", [referral.referrer], referral=referral, extra="changed", actor=actor)


def _state_changed(referral: Referral, event: ReferralEvent, actor: User | None) -> None:
    target = State(event.to_state)
    by_referrer = actor is not None and actor.role == Role.REFERRER
    if target == State.SUBMITTED:
        notify("referral_received", [referral.referrer], referral=referral)
        notify("new_referral", coordinators_of(referral), referral=referral, actor=actor)
    elif target == State.IN_REVIEW and event.from_state == State.NEEDS_INFO and by_referrer:
        notify("answer", coordinators_of(referral), referral=referral, actor=actor)
    elif target == State.CANCELLED and not by_referrer:
        notify("course_ended", [referral.referrer], referral=referral, actor=actor)
    elif target in TO_REFERRER:
        extra = _first_appointment(referral) if target == State.ACCEPTED else ""
        notify(
            TO_REFERRER[target], [referral.referrer], referral=referral, extra=extra, actor=actor
        )


def _first_appointment(referral: Referral) -> str:
    from portal.scheduling.models import Appointment

    first = db.session.scalar(
        select(func.min(Appointment.day)).where(
            Appointment.referral_id == referral.id, Appointment.status == "booked"
        )
    )
    return f" First appointment: {first:%a %d %b %Y}." if first else ""


def connect() -> None:
    referral_event.connect(on_referral_event)
