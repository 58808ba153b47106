"""Loading referrals for a user: deny by default, 404 for what they may not see, audit each read."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

from flask import abort
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from portal.audit.service import record, record_denied
from portal.auth.models import User
from portal.extensions import db
from portal.referrals.models import Patient, Referral, ReferralEvent
from portal.referrals.permissions import can, can_view_referral
from portal.referrals.states import State


@cache
def core_loads() -> tuple[LoaderOption, ...]:
    """What every page of a referral shows (and the permission checks read): its own rows. A
    page that shows what the features added (letters, the course) passes their loads as
    `options`. Built at the first query, not at import: a loader option configures every
    mapper, and a process that queries no referral (a CLI command) need not pay for that."""
    # A row the referral points at (one each) is joined into the referral's own query; a
    # collection is a query of its own (selectin), with what each of its rows points at
    # joined in: a statement fewer per relationship, each of which costs the web ~0.5 ms.
    return (
        joinedload(Referral.patient),
        joinedload(Referral.referrer).joinedload(User.practice),
        joinedload(Referral.practice),
        selectinload(Referral.events).joinedload(ReferralEvent.actor),
        selectinload(Referral.assessments),
    )


@lru_cache(maxsize=32)
def _by_id(options: tuple[LoaderOption, ...]) -> Select:
    """The referral by its id with what the page loads: built once per set of loads (the
    pages pass theirs, themselves built once), not on every request."""
    return (
        select(Referral)
        .where(Referral.id == bindparam("referral_id"))
        .options(*core_loads(), *options)
    )


def get_referral_or_404(
    referral_id: int,
    user: User,
    action: str = "view",
    *,
    options: Sequence[LoaderOption] = (),
) -> Referral:
    """The referral if `user` may see it (action 'view'), change it ('act'), or document its
    treatment ('document'); otherwise 404, and the attempt is audited either way. `options`
    eager-load more than the referral's own rows, for the page about to show them."""
    referral = db.session.scalar(_by_id(tuple(options)), {"referral_id": referral_id})
    allowed = referral is not None and can(user, referral, action)
    if not allowed:
        record_denied(f"referral.{action}", "referral", referral_id, actor=user)
        abort(404)
    record(f"referral.{action}", "referral", referral.id, actor=user, read=True)
    return referral


def visible_to_referrer(user: User) -> Select:
    """The referrals a referring provider may see: their own, and their practice's sent ones
    when it shares referrals. Whether it shares is read first (the user's practice, loaded
    with the user by the session check), so the condition is plain columns that indexes
    serve."""
    practice = user.practice if user.practice_id else None
    mine = Referral.referrer_id == user.id
    if practice is None or not practice.share_referrals:
        return select(Referral).where(mine)
    shared = (Referral.practice_id == practice.id) & (Referral.state != State.DRAFT)
    return select(Referral).where(or_(mine, shared))


def get_patient_or_404(patient_id: int, user: User) -> tuple[Patient, list[Referral]]:
    """A patient, with the referrals of theirs that the user may see; 404 if none."""
    patient = db.session.get(Patient, patient_id)
    referrals = []
    if patient is not None:
        referrals = [r for r in patient.referrals if can_view_referral(user, r)]
    if not referrals:
        record_denied("patient.view", "patient", patient_id, actor=user)
        abort(404)
    record("patient.view", "patient", patient_id, actor=user, read=True)
    return patient, referrals
