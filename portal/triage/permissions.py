"""Who may screen a referral. Pure: reads only the objects given.

Triage's own records (the checklist, internal notes) are reached through their referral,
never by an id of their own: the referral's loader (portal.referrals.queries.
get_referral_or_404) loads and audits the referral, and the triage blueprint is for the
clinic's staff only (portal.guards.restrict_blueprint). The clinic's decisions on a
referral (open, accept, ask, decline) are moves of its state machine: referrals' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.referrals.permissions import can_act_as_clinic

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

# The screening page and what is done on it.
SCREENING_ACTIONS = frozenset({"screen", "checklist", "note", "assign"})


def can_screen(user: User, referral: Referral) -> bool:
    """The screening page, its checklist, internal notes and the assigned coordinator: the
    staff of the referral's clinic, once it is sent (what the referral page's "Screening"
    offers)."""
    return can_act_as_clinic(user, referral)


def can(user: User, referral: Referral, action: str) -> bool:
    """Whether `user` may do `action` in triage to `referral` (deny by default)."""
    return action in SCREENING_ACTIONS and user.is_authenticated and can_screen(user, referral)
