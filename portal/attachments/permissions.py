"""Who may attach files to a referral, download them, or take one off a draft; and the loader
for an attachment reached by id (404 for whoever may not, as for its referral)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort

from portal.attachments.models import Attachment
from portal.extensions import db
from portal.referrals import permissions as referrals
from portal.referrals.queries import get_referral_or_404
from portal.referrals.states import CLOSED

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

# The referral action each attachment action needs; the read is audited on the referral.
REFERRAL_ACTION = {"view": "view", "remove": "act"}


def can_attach(user: User, referral: Referral) -> bool:
    """Add files to a referral: whoever may change it, until it is closed."""
    return referrals.can(user, referral, "act") and referral.state not in CLOSED


def can(user: User, attachment: Attachment, action: str) -> bool:
    """'view' (download): whoever may see its referral; 'remove': the referrer who may change
    it (only a draft's files go: the service refuses the others with its reason)."""
    referral = attachment.referral
    if action == "view":
        return referrals.can(user, referral, "view")
    if action == "remove":
        return user.is_referrer and referrals.can(user, referral, "act")
    return False


def get_attachment_or_404(
    attachment_id: int, user: User, action: str = "view", *, referral_id: int | None = None
) -> Attachment:
    """The attachment if `user` may `action` it, otherwise 404. Reached through its referral's
    address (`referral_id`), that referral is checked first and must be the attachment's. The
    referral's read or refusal is audited (referral.view or referral.act)."""
    if referral_id is not None:
        get_referral_or_404(referral_id, user, REFERRAL_ACTION[action])
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or referral_id not in (None, attachment.referral_id):
        abort(404)
    if referral_id is None:
        get_referral_or_404(attachment.referral_id, user, REFERRAL_ACTION[action])
    if not can(user, attachment, action):
        abort(404)
    return attachment
