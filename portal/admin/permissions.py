"""Which accounts an administrator may act on: a pure rule, and the loader that answers 404
for any other account or action.

As before these rules existed in one place, neither a read nor a refusal is audited: each
action itself is (portal/admin/account_service.py)."""

from __future__ import annotations

from flask import abort

from portal.admin.account_service import ACTIONS
from portal.auth.models import User
from portal.extensions import db
from portal.roles import Role


def can(admin: User, user: User, action: str) -> bool:
    """Administrators act on the staff of their own clinic and on every referring provider,
    with one of the account ACTIONS."""
    return (
        admin.role == Role.ADMIN
        and action in ACTIONS
        and (user.role == Role.REFERRER or user.clinic_id == admin.clinic_id)
    )


def get_account_or_404(user_id: int, admin: User, action: str) -> User:
    """The account `admin` may `action`; 404 for any other account, or an unknown action."""
    user = db.session.get(User, user_id)
    if user is None or not can(admin, user, action):
        abort(404)
    return user
