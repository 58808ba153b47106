"""Recording a referral's prior authorization (or self-pay agreement) and working out what to
warn about from what the portal already has: documented doses and booked visits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from portal.audit.service import record
from portal.authorizations.models import PriorAuthorization
from portal.authorizations.rules import STATUS_LABELS, AuthorizationFacts, warnings
from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.scheduling.models import Appointment, AppointmentStatus
from portal.treatment.models import TreatmentCourse, TreatmentSession

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

SELF_PAY = "iv_ketamine"  # DOMAIN.md: IV ketamine is rarely covered: self-pay, written agreement


class StaleAuthorization(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "Someone else saved this authorization meanwhile: reload the page to see it, "
            "then make your change again."
        )


@dataclass
class AuthorizationValues:
    status: str
    payer: str = ""
    number: str = ""
    approved_units: int | None = None
    approved_visits: int | None = None
    dose_mg: int = 56
    starts_on: date | None = None
    ends_on: date | None = None
    submitted_on: date | None = None
    documents_sent: str = ""
    note: str = ""
    self_pay_agreed_on: date | None = None


def treatment_of(referral: Referral) -> str:
    """The treatment the authorization is for: the course's, else the one requested."""
    return referral.course.modality if referral.course else referral.requested_modality


def is_self_pay(referral: Referral) -> bool:
    return treatment_of(referral) == SELF_PAY


def authorization_of(referral: Referral) -> PriorAuthorization | None:
    return db.session.scalar(
        select(PriorAuthorization).where(PriorAuthorization.referral_id == referral.id)
    )


def save(
    referral: Referral, values: AuthorizationValues, *, actor: User, expected_version: int
) -> PriorAuthorization:
    """Create or update the referral's authorization; refuse a stale copy."""
    if values.status not in STATUS_LABELS:
        raise Invalid("Choose a status.", field="status")
    if values.starts_on and values.ends_on and values.ends_on < values.starts_on:
        raise Invalid("The last covered day is before the first.", field="ends_on")
    if values.status == "approved" and not values.ends_on and not is_self_pay(referral):
        raise Invalid("An approval covers dates: enter the last covered day.", field="ends_on")
    row = authorization_of(referral)
    action = "authorization.update"
    if row is None:
        if expected_version != 0:
            raise StaleAuthorization()
        row = PriorAuthorization(referral_id=referral.id)
        db.session.add(row)
        action = "authorization.create"
    elif row.version != expected_version:
        record(action, "referral", referral.id, actor=actor, outcome="conflict")
        raise StaleAuthorization()
    for name, value in vars(values).items():
        setattr(row, name, value)
    row.updated_by_id = actor.id
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleAuthorization() from error
    record(action, "referral", referral.id, actor=actor, detail=values.status)
    return row


def _booked_days(referral_ids: list[int], today: date) -> dict[int, list[date]]:
    days: dict[int, list[date]] = {}
    rows = db.session.execute(
        select(Appointment.referral_id, Appointment.day)
        .where(
            Appointment.referral_id.in_(referral_ids),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.day >= today,
        )
        .order_by(Appointment.day)
    )
    for referral_id, day in rows:
        days.setdefault(referral_id, []).append(day)
    return days


def _used(referral_ids: list[int]) -> dict[int, tuple[int, int]]:
    """mg given and SPRAVATO sessions documented inside each authorization's span (one
    statement for a whole queue page)."""
    span = PriorAuthorization
    rows = db.session.execute(
        select(
            TreatmentCourse.referral_id,
            func.coalesce(func.sum(TreatmentSession.dose_mg), 0),
            func.count(TreatmentSession.id),
        )
        .join(TreatmentCourse, TreatmentCourse.id == TreatmentSession.course_id)
        .join(span, span.referral_id == TreatmentCourse.referral_id)
        .where(
            TreatmentCourse.referral_id.in_(referral_ids),
            TreatmentSession.modality == "spravato",
            or_(span.starts_on.is_(None), TreatmentSession.session_date >= span.starts_on),
            or_(span.ends_on.is_(None), TreatmentSession.session_date <= span.ends_on),
        )
        .group_by(TreatmentCourse.referral_id)
    )
    return {rid: (int(mg), int(count)) for rid, mg, count in rows}


def _facts(
    auth: PriorAuthorization, used: tuple[int, int], booked: list[date]
) -> AuthorizationFacts:
    return AuthorizationFacts(
        status=auth.status,
        starts_on=auth.starts_on,
        ends_on=auth.ends_on,
        approved_units=auth.approved_units,
        approved_visits=auth.approved_visits,
        dose_mg=auth.dose_mg,
        used_units=used[0],
        used_visits=used[1],
        booked=tuple(booked),
    )


def referral_warnings(referral: Referral, today: date) -> list[str]:
    """What the course page and the schedule page warn about for this referral."""
    auth = authorization_of(referral)
    booked = _booked_days([referral.id], today).get(referral.id, [])
    if is_self_pay(referral):
        if booked and (auth is None or auth.self_pay_agreed_on is None):
            return [
                f"{len(booked)} IV ketamine session(s) booked and no self-pay agreement "
                "recorded (IV ketamine is not covered)."
            ]
        return []
    if auth is None:
        return (
            [f"{len(booked)} session(s) booked and no prior authorization recorded."]
            if booked
            else []
        )
    used = _used([referral.id]).get(referral.id, (0, 0))
    return warnings(_facts(auth, used, booked), today)


def flagged_referral_ids(referral_ids: list[int], today: date) -> set[int]:
    """Of these (a queue page), the referrals whose approved authorization expires within 14
    days or has fewer units or visits left than the booked sessions need."""
    if not referral_ids:
        return set()
    auths = {
        a.referral_id: a
        for a in db.session.scalars(
            select(PriorAuthorization).where(
                PriorAuthorization.referral_id.in_(referral_ids),
                PriorAuthorization.status == "approved",
            )
        )
    }
    if not auths:
        return set()
    booked = _booked_days(list(auths), today)
    used = _used(list(auths))
    return {
        rid
        for rid, auth in auths.items()
        if warnings(_facts(auth, used.get(rid, (0, 0)), booked.get(rid, [])), today)
    }
