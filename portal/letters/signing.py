"""Asking the signer who they are again before a letter is signed: the password typed with
the signature, counted like any other password attempt (a wrong one moves the account
toward the lockout; a locked account cannot sign)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.auth import lockout
from portal.auth.passwords import verify_password

if TYPE_CHECKING:
    from portal.auth.models import User


def confirm_identity(user: User, password: str) -> bool:
    """True when `password` is the signer's current password and the account is not locked."""
    if lockout.is_locked(user):
        return False
    if password and verify_password(user.password_hash, password):
        lockout.register_success(user)
        return True
    lockout.register_failure(user)
    return False
