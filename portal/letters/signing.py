"""Asking the signer who they are again before a letter is signed.

The one place the letters feature checks identity: the lead swaps in the portal-wide
re-authentication step (password and TOTP) here at merge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.auth.passwords import verify_password

if TYPE_CHECKING:
    from portal.auth.models import User


def confirm_identity(user: User, password: str) -> bool:
    """True when `password` is the signer's current password."""
    return bool(password) and verify_password(user.password_hash, password)
