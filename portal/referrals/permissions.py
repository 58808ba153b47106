"""Who may see a referral. Pure functions over already-loaded objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.referrals.states import State
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
