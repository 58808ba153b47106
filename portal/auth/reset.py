"""Password reset by email. A link is single-use, lives PASSWORD_RESET_MINUTES (30), is kept
only as a sha256, and is bound to the password it replaces: once the password changes, by the
link or any other way, every older link dies. Asking for a link answers the same whatever the
address (the view also evens out the timing); every step is audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal.audit.service import record
from portal.auth import sessions
from portal.auth.models import PasswordReset, User
from portal.auth.password_policy import password_problems
from portal.auth.passwords import hash_password, verify_password
from portal.auth.service import AccountError, find_by_email
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.notifications.service import email_link


class ResetLinkInvalid(DomainError):
    """The link cannot be used; the message says why and what to do."""


ASK_AGAIN = "Ask for a new link below."


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def fingerprint(user: User) -> str:
    """Changes whenever the password does (its hash is salted afresh each time)."""
    return _digest(user.password_hash)


def request_reset(email: str) -> None:
    """Email a reset link if an enabled account uses `email`; the caller commits. The same
    token work is done either way."""
    token = secrets.token_urlsafe(32)
    token_hash = _digest(token)
    user = find_by_email(email)
    if user is None or not user.is_enabled:
        record("auth.password_reset_request", "user", None, outcome="unknown")
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    row = PasswordReset(
        token_hash=token_hash,
        user_id=user.id,
        password_fingerprint=fingerprint(user),
        expires_at=utcnow() + timedelta(minutes=minutes),
    )
    db.session.add(row)
    db.session.flush()
    record("auth.password_reset_request", "password_reset", row.id, actor=user)
    email_link(
        user.email,
        kind="password_reset",
        subject="Reset your password for the referral portal",
        sentence=(
            "Someone, we hope you, asked to reset your password. If it was not you, ignore this "
            f"email: your password stays as it is. The link works once, for {minutes} minutes. "
            "Choose a new password:"
        ),
        path=f"/password-reset/{token}",
        user=user,
    )


def open_reset(token: str) -> PasswordReset:
    """The reset behind a link, or ResetLinkInvalid saying why (audited either way)."""
    row = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _digest(token or ""))
    )
    why = None
    if row is None:
        why = "This password reset link is not valid: it may have been cut short or changed."
    elif row.used_at is not None:
        why = "This password reset link has been used already: each link works once."
    elif row.expires_at <= utcnow():
        minutes = current_app.config["PASSWORD_RESET_MINUTES"]
        why = f"This password reset link has expired: links work for {minutes} minutes."
    elif row.password_fingerprint != fingerprint(row.user):
        why = "This password reset link no longer works: the password was changed since."
    if why is not None:
        record(
            "auth.password_reset_open",
            "password_reset",
            row.id if row else None,
            outcome="denied",
            detail=why[:60],
        )
        raise ResetLinkInvalid(f"{why} {ASK_AGAIN}")
    return row


def complete_reset(token: str, new: str) -> User:
    """Set the new password (the usual rules), use up the link, end every session of the
    account; two-step sign-in is still asked at the next sign-in. Raises ResetLinkInvalid or
    AccountError (field "new")."""
    row = open_reset(token)
    user = row.user
    problems = password_problems(new, email=user.email, full_name=user.full_name)
    if problems:
        raise AccountError(problems[0], field="new")
    if verify_password(user.password_hash, new):
        raise AccountError("The new password must differ from the current one.", field="new")
    user.password_hash = hash_password(new)
    user.password_changed_at = row.used_at = utcnow()
    ended = sessions.revoke_all(user, "password-reset")
    record("auth.password_reset", "password_reset", row.id, actor=user, detail=f"{ended} sessions")
    return user
