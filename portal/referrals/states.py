"""The referral state machine: states, allowed transitions and who may make them.

Pure module: no database, no Flask. Every change of state goes through
portal.referrals.service.change_state, which consults this module.
"""

from __future__ import annotations

from enum import StrEnum

from portal.errors import DomainError
from portal.roles import CLINIC_ROLES, Role


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    IN_TREATMENT = "in_treatment"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    State.DRAFT: "Draft",
    State.SUBMITTED: "Submitted",
    State.IN_REVIEW: "In review",
    State.NEEDS_INFO: "Needs information",
    State.ACCEPTED: "Accepted",
    State.DECLINED: "Declined",
    State.SCHEDULED: "Scheduled",
    State.IN_TREATMENT: "In treatment",
    State.COMPLETED: "Completed",
    State.CANCELLED: "Cancelled",
}

# The groups of states the portal reasons with, each declared once, in the machine's order.
# Code imports them; templates reach them through the `states` Jinja global.


def _group(*members: State) -> tuple[State, ...]:
    return tuple(s for s in State if s in members)


# Finished one way or another: nothing more happens to it unless a coordinator reopens it.
CLOSED = _group(State.COMPLETED, State.DECLINED, State.CANCELLED)
# Everything the clinic sees: every state but the referrer's private draft (the queue's states).
SENT = _group(*(s for s in State if s != State.DRAFT))
# Sent and not closed: still in the clinic's hands (the queue's default view).
OPEN = _group(*(s for s in SENT if s not in CLOSED))
# The referrer may still change the intake: a draft, or while the clinic waits for an answer.
EDITABLE = _group(State.DRAFT, State.NEEDS_INFO)
# Waiting for the clinic's first decision (the service levels count these).
AWAITING_DECISION = _group(State.SUBMITTED, State.IN_REVIEW)
# Accepted and not finished: a course exists, visits can be booked, sessions documented.
IN_CARE = _group(State.ACCEPTED, State.SCHEDULED, State.IN_TREATMENT)
# Accepted, treatment not yet begun.
ACCEPTED_NOT_STARTED = _group(State.ACCEPTED, State.SCHEDULED)
# The clinic's first answer to a referral: what the service levels to a decision measure.
FIRST_DECISIONS = _group(State.NEEDS_INFO, State.ACCEPTED, State.DECLINED)
# Each group by name, for the templates (`states.CLOSED`, `states.State.DRAFT`).
GROUPS = {
    "CLOSED": CLOSED,
    "SENT": SENT,
    "OPEN": OPEN,
    "EDITABLE": EDITABLE,
    "AWAITING_DECISION": AWAITING_DECISION,
    "IN_CARE": IN_CARE,
    "ACCEPTED_NOT_STARTED": ACCEPTED_NOT_STARTED,
    "FIRST_DECISIONS": FIRST_DECISIONS,
}

# FHIR Task.status for a lossless export (DOMAIN.md).
FHIR_TASK_STATUS = {
    State.DRAFT: "draft",
    State.SUBMITTED: "requested",
    State.IN_REVIEW: "received",
    State.NEEDS_INFO: "on-hold",
    State.ACCEPTED: "accepted",
    State.DECLINED: "rejected",
    State.SCHEDULED: "accepted",
    State.IN_TREATMENT: "in-progress",
    State.COMPLETED: "completed",
    State.CANCELLED: "cancelled",
}

REFERRER = Role.REFERRER
CLINICIAN = Role.CLINICIAN
STAFF: frozenset[str] = CLINIC_ROLES

# (from, to) -> roles allowed to make the move.
TRANSITIONS: dict[tuple[State, State], frozenset[str]] = {
    (State.DRAFT, State.SUBMITTED): frozenset({REFERRER}),
    (State.DRAFT, State.CANCELLED): frozenset({REFERRER}),
    (State.SUBMITTED, State.IN_REVIEW): STAFF,
    (State.SUBMITTED, State.CANCELLED): frozenset({REFERRER}) | STAFF,
    (State.IN_REVIEW, State.NEEDS_INFO): STAFF,
    (State.IN_REVIEW, State.ACCEPTED): STAFF,
    (State.IN_REVIEW, State.DECLINED): STAFF,
    (State.IN_REVIEW, State.CANCELLED): frozenset({REFERRER}) | STAFF,
    # The referrer's answer returns the referral to review.
    (State.NEEDS_INFO, State.IN_REVIEW): frozenset({REFERRER}) | STAFF,
    (State.NEEDS_INFO, State.CANCELLED): frozenset({REFERRER}) | STAFF,
    (State.ACCEPTED, State.SCHEDULED): STAFF,
    # A first session documented without a booking made in the portal.
    (State.ACCEPTED, State.IN_TREATMENT): frozenset({CLINICIAN}),
    (State.ACCEPTED, State.CANCELLED): frozenset({REFERRER}) | STAFF,
    (State.SCHEDULED, State.IN_TREATMENT): frozenset({CLINICIAN}),
    (State.SCHEDULED, State.CANCELLED): frozenset({REFERRER}) | STAFF,
    (State.IN_TREATMENT, State.COMPLETED): frozenset({CLINICIAN}),
    (State.IN_TREATMENT, State.CANCELLED): frozenset({REFERRER}) | STAFF,
    # Mistakes are reopened with a reason, never deleted (DOMAIN.md).
    (State.DECLINED, State.IN_REVIEW): STAFF,
    (State.CANCELLED, State.IN_REVIEW): STAFF,
}

# States that need a written reason on the event.
REASON_REQUIRED = frozenset({State.DECLINED, State.CANCELLED, State.NEEDS_INFO})


class InvalidTransition(DomainError):
    """The referral cannot move from its state to the one asked, or not by this role."""

    def __init__(self, current: State, target: State, role: str) -> None:
        self.current, self.target, self.role = current, target, role
        super().__init__(
            f"A referral that is {current.label.lower()} cannot be moved to "
            f"{target.label.lower()} by a {role}."
        )


def allowed_targets(current: State, role: str) -> list[State]:
    """The states a user of `role` may move a referral in `current` to."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == current and role in roles]


def check_transition(current: State, target: State, role: str) -> None:
    """Raise InvalidTransition unless `role` may move a referral from `current` to `target`."""
    if role not in TRANSITIONS.get((current, target), frozenset()):
        raise InvalidTransition(current, target, role)
