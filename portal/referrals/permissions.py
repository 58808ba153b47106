"""Who may see a referral, and do what to it. Pure functions over already-loaded objects.

`can(user, referral, action)` answers for the referral's own actions; each feature that acts
on a referral (attachments, messages, ...) answers for its own in its permissions module."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from portal.referrals.states import EDITABLE, State, allowed_targets
from portal.roles import Role

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


def can_view_referral(user: User, referral: Referral) -> bool:
    """Referrers see what they sent (and their sharing practice's); staff their clinic's."""
    if user.is_referrer:
        if referral.referrer_id == user.id:
            return True
        return (
            referral.state != State.DRAFT
            and referral.practice_id is not None
            and referral.practice_id == user.practice_id
            and referral.practice is not None
            and referral.practice.share_referrals
        )
    if user.is_clinic_staff:
        return referral.clinic_id == user.clinic_id and referral.state != State.DRAFT
    return False


def can_act_as_clinic(user: User, referral: Referral) -> bool:
    """Clinic staff of the referral's clinic may decide on it and document treatment."""
    return user.is_clinic_staff and can_view_referral(user, referral)


def can_act(user: User, referral: Referral) -> bool:
    """Change the referral: its own referrer (not practice colleagues), or the clinic's staff."""
    if user.is_referrer:
        return referral.referrer_id == user.id
    return can_act_as_clinic(user, referral)


def can_document(user: User, referral: Referral) -> bool:
    """Document treatment and sign letters: clinicians of the referral's clinic only."""
    return user.role == Role.CLINICIAN and can_act_as_clinic(user, referral)


def may_move(user: User, referral: Referral, target: State) -> bool:
    """The state machine lets the user's role move the referral from its state to `target`."""
    return target in allowed_targets(referral.state, user.role)


def _clinic_moves_to(target: State) -> Callable[[User, Referral], bool]:
    """A decision of the clinic: its staff, when the state machine allows the move."""

    def rule(user: User, referral: Referral) -> bool:
        return can_act_as_clinic(user, referral) and may_move(user, referral, target)

    return rule


def _edit_intake(user: User, referral: Referral) -> bool:
    """The referrer changes the intake of a draft, or while the clinic waits for an answer."""
    return user.is_referrer and can_act(user, referral) and referral.state in EDITABLE


def _answer(user: User, referral: Referral) -> bool:
    """The referrer answers the clinic's question (the answer returns it to review)."""
    return user.is_referrer and can_act(user, referral) and referral.state == State.NEEDS_INFO


def _cancel(user: User, referral: Referral) -> bool:
    return can_act(user, referral) and may_move(user, referral, State.CANCELLED)


def _open(user: User, referral: Referral) -> bool:
    """Open a newly sent referral for review (reopening a closed one is not this)."""
    return referral.state == State.SUBMITTED and _clinic_moves_to(State.IN_REVIEW)(user, referral)


RULES: dict[str, Callable[[User, Referral], bool]] = {
    "view": can_view_referral,
    "act": can_act,
    "document": can_document,
    "edit_intake": _edit_intake,
    "answer": _answer,
    "cancel": _cancel,
    "open": _open,
    "accept": _clinic_moves_to(State.ACCEPTED),
    "ask": _clinic_moves_to(State.NEEDS_INFO),
    "decline": _clinic_moves_to(State.DECLINED),
}
ACTIONS = frozenset(RULES)


def can(user: User, referral: Referral, action: str) -> bool:
    """Whether `user` may `action` the referral (one of ACTIONS; any other is refused)."""
    rule = RULES.get(action)
    return rule is not None and rule(user, referral)
