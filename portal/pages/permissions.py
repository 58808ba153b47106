"""What the referral page offers of the actions that belong to treatment, letters, scheduling
and triage: each answer as those features give it, gathered here for the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from portal.referrals.permissions import can_document, may_move
from portal.referrals.states import IN_CARE, State

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral


def _document(user: User, referral: Referral) -> bool:
    """Document a session: a clinician of the clinic, on a course in care."""
    return (
        can_document(user, referral) and referral.course is not None and referral.state in IN_CARE
    )


def _complete(user: User, referral: Referral) -> bool:
    """Complete the course: the state machine allows it and a session is documented."""
    return may_move(user, referral, State.COMPLETED) and bool(
        referral.course and referral.course.sessions
    )


def _write_letter(user: User, referral: Referral) -> bool:
    """Write a letter: a clinician of the clinic, once a session is documented."""
    return (
        can_document(user, referral)
        and referral.course is not None
        and bool(referral.course.sessions)
    )


def _schedule(user: User, referral: Referral) -> bool:
    """Schedule the series: the clinic's staff, on a course in care."""
    return user.is_clinic_staff and referral.course is not None and referral.state in IN_CARE


def _screen(user: User, referral: Referral) -> bool:
    """The screening page: the clinic's staff."""
    return user.is_clinic_staff


RULES: dict[str, Callable[[User, Referral], bool]] = {
    "document": _document,
    "complete": _complete,
    "write_letter": _write_letter,
    "schedule": _schedule,
    "screen": _screen,
}
ACTIONS = frozenset(RULES)


def can(user: User, referral: Referral, action: str) -> bool:
    """Whether the referral page offers `user` the action (one of ACTIONS)."""
    rule = RULES.get(action)
    return rule is not None and rule(user, referral)
