"""The rules of a referral: creating it, and every change of its state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from portal.audit.service import record
from portal.auth.models import User
from portal.clinics.models import Clinic
from portal.clock import local_time
from portal.db import utcnow
from portal.errors import Conflict, Invalid
from portal.extensions import db
from portal.referrals.models import Referral, ReferralEvent
from portal.referrals.states import FIRST_DECISIONS, REASON_REQUIRED, State, check_transition

# Sent with every timeline event (a change of state or another entry), in the same unit of work,
# so that the features above the ground floor can react without referrals importing them
# (portal/notifications/triggers.py turns events into notifications). Receivers get the
# referral as sender and `event=`, `actor=`; what they add to the session commits with it.
referral_event = Namespace().signal("referral-event")

RACE_MESSAGE = (
    "Someone else changed this referral at the same moment; nothing was saved. "
    "Reload the page to see its current state."
)


class StaleEdit(Conflict):
    """Someone else changed the referral after this user loaded it.

    The message names who made the referral's last change and when (Referral.updated_by and
    updated_at, set by mark_changed wherever the version moves), on the clinic's clock as
    the pages show times. A race lost at the very moment of writing (StaleDataError on flush:
    `lost_race_on` the referral's id) can only be explained once the transaction is rolled
    back: call `reload()` after the rollback (portal.referrals.actions.refusal_message)."""

    def __init__(self, referral: Referral | None, *, lost_race_on: int | None = None) -> None:
        self.referral = referral
        self.referral_id = referral.id if referral is not None else lost_race_on
        self.lost_race = referral is None
        self.who: str | None = None
        self.when = None
        super().__init__(RACE_MESSAGE if self.lost_race else self._explain(referral))

    def _explain(self, referral: Referral) -> str:
        self.who = referral.updated_by.display_name if referral.updated_by else "another user"
        self.when = referral.updated_at
        return (
            f"This referral was changed by {self.who} at {local_time(self.when)} while you "
            f"were looking at it. It is now {referral.state.label.lower()}; "
            "nothing was saved."
        )

    def reload(self) -> StaleEdit:
        """After the rollback: read the referral as the winner left it and say who that was."""
        if self.lost_race and self.referral_id is not None:
            referral = db.session.get(Referral, self.referral_id, populate_existing=True)
            if referral is not None:
                self.referral, self.lost_race = referral, False
                self.message = self._explain(referral)
                self.args = (self.message,)
        return self


class MissingReason(Invalid):
    """The move needs a written reason."""


@dataclass(frozen=True)
class NewReferral:
    """The essentials of a referral, for the demo, imports and tests; the rest of the intake
    takes typical values (see portal.referrals.intake.document_from), or `intake` overrides
    whole sections of the intake document. portal.pages.submission.submit_referral sends one."""

    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    diagnosis_code: str
    requested_modality: str
    reason: str
    urgency: str
    phq9_answers: list[int]
    intake: dict = field(default_factory=dict)


def receiving_clinic_id() -> int:
    """The clinic that receives referrals: the portal serves one clinic per deployment."""
    clinic_id = db.session.scalar(select(Clinic.id).order_by(Clinic.id).limit(1))
    if clinic_id is None:
        raise RuntimeError("No clinic is set up; run `flask --app portal seed-demo` or add one.")
    return clinic_id


def mark_changed(referral: Referral, *, actor: User) -> None:
    """Note who changes the referral now; every change of a referral (each bumps its version)
    goes through here, so that a refused stale edit names the right person and time."""
    referral.updated_by_id = actor.id
    referral.updated_at = utcnow()


def lock_for_edit(referral: Referral, *, actor: User, expected_version: int) -> None:
    """Optimistic lock: refuse if the referral moved on since the user loaded it, and bump its
    version so that a concurrent edit of the same version fails instead of overwriting."""
    refuse_if_stale(referral, actor=actor, expected_version=expected_version)
    mark_changed(referral, actor=actor)
    flush_or_stale(referral)


def refuse_if_stale(
    referral: Referral,
    *,
    actor: User,
    expected_version: int,
    action: str = "referral.edit",
    detail: str = "",
) -> None:
    """Raise StaleEdit, audited as a conflict, if the referral moved on since the user saw it."""
    if referral.version != expected_version:
        record(action, "referral", referral.id, actor=actor, outcome="conflict", detail=detail)
        raise StaleEdit(referral)


def flush_or_stale(referral: Referral | None = None) -> None:
    """Flush; a concurrent UPDATE of the same version (StaleDataError) becomes StaleEdit, to be
    explained with StaleEdit.reload() once the caller has rolled back."""
    referral_id = referral.id if referral is not None else None  # not readable after a failure
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, lost_race_on=referral_id) from error


def change_state(
    referral: Referral,
    target: State,
    *,
    actor: User,
    expected_version: int,
    reason: str = "",
) -> ReferralEvent:
    """Move the referral to `target`, recording the timeline event and the audit row."""
    refuse_if_stale(
        referral,
        actor=actor,
        expected_version=expected_version,
        action="referral.transition",
        detail=f"{referral.state}->{target}",
    )
    current = referral.state
    check_transition(current, target, actor.role)
    reason = reason.strip()
    if target in REASON_REQUIRED and not reason:
        raise MissingReason(
            f"Moving a referral to {target.label.lower()} needs a reason.", field="reason"
        )
    with db.session.no_autoflush:  # one flush below, where a lost race is recognised
        referral.state = target
        mark_changed(referral, actor=actor)
        if target in FIRST_DECISIONS and referral.first_decided_at is None:
            referral.first_decided_at = utcnow()  # the service level is met (triage/sla.py)
        event = ReferralEvent(
            referral=referral,
            actor_id=actor.id,
            kind="state_change",
            from_state=current,
            to_state=target,
            reason=reason,
        )
        db.session.add(event)
    flush_or_stale(referral)
    record(
        "referral.transition", "referral", referral.id, actor=actor, detail=f"{current}->{target}"
    )
    referral_event.send(referral, event=event, actor=actor)
    return event


def add_event(referral: Referral, kind: str, *, actor: User, reason: str = "") -> ReferralEvent:
    """A timeline entry that is not a change of state (a session recorded, a letter sent)."""
    event = ReferralEvent(referral=referral, actor_id=actor.id, kind=kind, reason=reason)
    db.session.add(event)
    referral_event.send(referral, event=event, actor=actor)
    return event
