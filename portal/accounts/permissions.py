"""Who may act on invitations and account requests: pure rules, and the loaders that answer
404 for anything else.

Neither object holds patient information, so a read is not audited (the services audit each
change: revoking, approving, refusing), and neither is a refusal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort

from portal.accounts.models import AccountRequest, Invitation
from portal.extensions import db
from portal.roles import Role

if TYPE_CHECKING:
    from portal.auth.models import User

# Who may invite providers and revoke the invitations of their clinic.
INVITERS = (Role.COORDINATOR, Role.ADMIN)


def can(user: User, obj: Invitation | AccountRequest, action: str = "view") -> bool:
    """Invitations: their clinic's coordinators and admins (view, revoke). Account requests
    (view, decide): administrators; a request belongs to no clinic yet."""
    if isinstance(obj, Invitation):
        return (
            action in ("view", "revoke")
            and user.role in INVITERS
            and obj.created_by.clinic_id == user.clinic_id
        )
    if isinstance(obj, AccountRequest):
        return action in ("view", "decide") and user.role == Role.ADMIN
    return False


def get_invitation_or_404(invitation_id: int, user: User, action: str = "view") -> Invitation:
    """The invitation if `user` may `action` it; 404 otherwise."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not can(user, invitation, action):
        abort(404)
    return invitation


def get_account_request_or_404(request_id: int, user: User, action: str = "view") -> AccountRequest:
    """The account request if `user` may `action` it; 404 otherwise."""
    account_request = db.session.get(AccountRequest, request_id)
    if account_request is None or not can(user, account_request, action):
        abort(404)
    return account_request
