"""Who may write on a referral's message thread, and the loader for the thread's referral."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask import abort

from portal.referrals import permissions as referrals
from portal.referrals.queries import get_referral_or_404
from portal.referrals.states import State

if TYPE_CHECKING:
    from sqlalchemy.orm.interfaces import LoaderOption

    from portal.auth.models import User
    from portal.referrals.models import Referral


def can(user: User, referral: Referral, action: str = "post") -> bool:
    """'post': whoever may change the referral, once it was sent (the clinic never saw a
    draft, nor a draft discarded unsent)."""
    if action != "post":
        return False
    return (
        referrals.can(user, referral, "act")
        and referral.state != State.DRAFT
        and referral.patient is not None
    )


def get_thread_referral_or_404(
    referral_id: int,
    user: User,
    action: str = "post",
    *,
    options: Sequence[LoaderOption] = (),
) -> Referral:
    """The referral whose thread `user` may `action`, otherwise 404; the read is audited as
    referral.act (see portal.referrals.queries.get_referral_or_404)."""
    referral = get_referral_or_404(referral_id, user, "act", options=options)
    if not can(user, referral, action):
        abort(404)
    return referral
