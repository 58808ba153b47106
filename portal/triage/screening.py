"""Screening a referral: the checklist, internal notes and who is assigned. Clinic only."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.audit.service import record
from portal.auth.models import User
from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.forms import choices
from portal.referrals.models import Referral as ReferralModel
from portal.referrals.permissions import can
from portal.referrals.service import StaleEdit, lock_for_edit
from portal.roles import Role
from portal.triage.forms import SCREENING_CHECKLIST
from portal.triage.models import InternalNote, ScreeningReview

if TYPE_CHECKING:
    from portal.referrals.models import Referral

CHECKLIST_CODES = frozenset(code for code, _ in SCREENING_CHECKLIST)


class StaleChecklist(Conflict):
    """Someone else saved the checklist after this user loaded it."""

    def __init__(self, review: ScreeningReview) -> None:
        who = review.updated_by.display_name if review.updated_by else "another user"
        super().__init__(
            f"The checklist was changed by {who} at {review.updated_at:%Y-%m-%d %H:%M} UTC "
            "while you were looking at it; nothing was saved. It now shows their ticks."
        )


def screening_review(referral: Referral) -> ScreeningReview | None:
    return db.session.scalar(
        select(ScreeningReview)
        .where(ScreeningReview.referral_id == referral.id)
        .options(selectinload(ScreeningReview.updated_by))
    )


def save_checklist(
    referral: Referral, checked: list[str], *, actor: User, expected_version: int
) -> ScreeningReview:
    """Store the ticked items; refuse if someone else saved the checklist meanwhile."""
    review = screening_review(referral)
    if review is None:
        review = ScreeningReview(referral_id=referral.id, checked=[])
        db.session.add(review)
        if expected_version != 0:
            raise Conflict("Reload the page: the checklist could not be matched.")
    elif review.version != expected_version:
        record("screening.checklist", "referral", referral.id, actor=actor, outcome="conflict")
        raise StaleChecklist(review)
    review.checked = [code for code, _ in SCREENING_CHECKLIST if code in set(checked)]
    review.updated_by_id = actor.id
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None) from error
    record("screening.checklist", "referral", referral.id, actor=actor)
    return review


def internal_notes(referral: Referral) -> list[InternalNote]:
    return list(
        db.session.scalars(
            select(InternalNote)
            .where(InternalNote.referral_id == referral.id)
            .options(selectinload(InternalNote.author))
            .order_by(InternalNote.id.desc())
        )
    )


def add_internal_note(referral: Referral, body: str, *, actor: User) -> InternalNote:
    """A note for clinic staff only; the referrer never sees it."""
    note = InternalNote(referral_id=referral.id, author_id=actor.id, body=body.strip())
    db.session.add(note)
    db.session.flush()
    record("referral.note", "referral", referral.id, actor=actor)
    return note


# The clinic's enabled coordinators and admins, by name: every queue page lists them (the
# bulk assignment's menu), so the statements are built once, not per request.
_COORDINATORS_OF_CLINIC = (
    User.clinic_id == bindparam("clinic_id"),
    User.role.in_([Role.COORDINATOR, Role.ADMIN]),
    User.is_enabled.is_(True),
)


@cache
def _clinic_coordinators():
    return select(User).where(*_COORDINATORS_OF_CLINIC).order_by(User.full_name)


def clinic_coordinators(clinic_id: int) -> list[User]:
    return list(db.session.scalars(_clinic_coordinators(), {"clinic_id": clinic_id}))


class Assignee(NamedTuple):
    """A coordinator as the queue's assignment menu shows them."""

    id: int
    display_name: str


@cache
def _assignees():
    return (
        select(User.id, User.full_name, User.credentials)
        .where(*_COORDINATORS_OF_CLINIC)
        .order_by(User.full_name)
    )


def clinic_assignees(clinic_id: int) -> list[Assignee]:
    """clinic_coordinators() as the queue's menu needs them: their ids and names only, read
    as plain rows (every queue page asks; loading the users' whole rows cost it ~0.7 ms)."""
    rows = db.session.execute(_assignees(), {"clinic_id": clinic_id})
    return [Assignee(uid, User.name_shown(name, credentials)) for uid, name, credentials in rows]


NOT_ASSIGNED = (0, "Not assigned")


def coordinator_choices(referral: Referral, coordinators: list[User]) -> list:
    """The assignment menu: the clinic's coordinators, led by "Not assigned" while nobody is
    (so the menu never shows someone who is not assigned)."""
    lead = [] if referral.assigned_coordinator_id else [NOT_ASSIGNED]
    return choices(lead + [(c.id, c.display_name) for c in coordinators])


def assign_many(
    referral_ids: list[int], versions: dict[int, str], coordinator: User, *, actor: User
) -> tuple[int, int]:
    """Assign each referral the actor may act on to `coordinator`, at the version the queue
    showed; (assigned, left because changed meanwhile or not found)."""
    done = left = 0
    rows = db.session.scalars(select(ReferralModel).where(ReferralModel.id.in_(referral_ids)))
    found = {r.id: r for r in rows if can(actor, r, "act")}
    for referral_id in referral_ids:
        referral = found.get(referral_id)
        version = versions.get(referral_id, "")
        if referral is None or not version.isdigit() or int(version) != referral.version:
            left += 1
            continue
        if referral.assigned_coordinator_id == coordinator.id:
            done += 1
            continue
        assign_coordinator(referral, coordinator, actor=actor, expected_version=referral.version)
        done += 1
    return done, left


def assign_coordinator(
    referral: Referral, coordinator: User | None, *, actor: User, expected_version: int
) -> None:
    """Reassign the referral to another coordinator of the clinic."""
    if coordinator is None or coordinator.clinic_id != referral.clinic_id:
        raise Invalid("Choose a coordinator of this clinic.", field="coordinator_id")
    lock_for_edit(referral, actor=actor, expected_version=expected_version)
    referral.assigned_coordinator_id = coordinator.id
    db.session.flush()
    record("referral.assign", "referral", referral.id, actor=actor, detail=f"to {coordinator.id}")
