"""What the referral page offers of the actions that belong to treatment, letters, scheduling
and triage: each answer is the owning feature's own `can`, gathered here for the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from portal.letters import permissions as letters
from portal.scheduling import permissions as scheduling
from portal.treatment import permissions as treatment
from portal.triage import permissions as triage

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

# action on the referral page -> the feature's `can` that answers it.
RULES: dict[str, Callable[[User, Referral, str], bool]] = {
    "document": treatment.can,
    "complete": treatment.can,
    "write_letter": letters.can,
    "schedule": scheduling.can,
    "screen": triage.can,
}
ACTIONS = frozenset(RULES)


def can(user: User, referral: Referral, action: str) -> bool:
    """Whether the referral page offers `user` the action (one of ACTIONS)."""
    rule = RULES.get(action)
    return rule is not None and rule(user, referral, action)
