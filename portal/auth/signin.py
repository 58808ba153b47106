"""The steps of a sign-in: password, then (where enrolled or required) a code from the
authenticator app or a recovery code, then a fresh server-side session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import flash, session, url_for
from sqlalchemy import delete, select

from portal.admin.settings import REFERRER_MFA, get_flag
from portal.audit.service import record
from portal.auth import lockout, sessions
from portal.auth.models import PendingSignIn, User
from portal.auth.service import complete_sign_in
from portal.db import utcnow
from portal.extensions import db
from portal.roles import Role

PENDING_KEY = "pending_sign_in"
PENDING_TTL = timedelta(minutes=5)
HOME_BY_ROLE = {
    Role.REFERRER: "referrals.dashboard",
    Role.COORDINATOR: "triage.queue",
    Role.CLINICIAN: "treatment.courses",
    Role.ADMIN: "admin.audit_log",
}
# One message whatever went wrong, so it never tells whether an account exists or is locked.
SIGN_IN_FAILED = (
    "That email and password do not match an active account. After repeated failures, "
    "sign-in is paused for a while; your clinic's administrator can help."
)


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks,
    no control characters (a CR/LF would split the Location header)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


def safe_target(target: str | None) -> str:
    """Where to go after a sign-in step: `target` if it is a path on this site, else home."""
    return target if is_safe_next(target) else url_for("auth.home")


def mfa_required(user: User) -> bool:
    """Clinic staff and admins always; referrers when an administrator says so."""
    return user.is_clinic_staff or get_flag(REFERRER_MFA)


def password_may_continue(user: User) -> bool:
    """The password was right. Under attack (portal.auth.lockout), an account with a second
    step goes on to it; one without (or one that would set it up now) goes on only from an
    address it signed in from before."""
    if user.has_mfa:
        return True
    if lockout.may_use_password_alone(user):
        return True
    record("auth.login", "user", user.id, outcome="denied", actor=user, detail="under attack")
    return False


def begin_second_step(user: User, target: str | None) -> str:
    """The password was right: remember on the server who is half-way and where to go next;
    the cookie gets only a random token for it."""
    session.clear()
    db.session.execute(  # the user's half-finished sign-ins that ran out of time
        delete(PendingSignIn).where(
            PendingSignIn.user_id == user.id, PendingSignIn.created_at < utcnow() - PENDING_TTL
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(PendingSignIn(token_hash=_hash(token), user_id=user.id, target=target or ""))
    db.session.flush()
    session[PENDING_KEY] = token
    return url_for("mfa.verify") if user.has_mfa else url_for("mfa.enrol")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pending() -> PendingSignIn | None:
    token = session.get(PENDING_KEY)
    if not isinstance(token, str) or not token:
        return None
    row = db.session.scalar(select(PendingSignIn).where(PendingSignIn.token_hash == _hash(token)))
    if row is None or utcnow() - row.created_at > PENDING_TTL:
        session.pop(PENDING_KEY, None)
        return None
    return row


def pending_user() -> User | None:
    """The user who gave the right password in the last few minutes, if any."""
    row = _pending()
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.is_enabled else None


def pending_target() -> str:
    row = _pending()
    return row.target if row is not None else ""


def finish(user: User, *, method: str, target: str | None = None) -> None:
    """Every step passed: a fresh session identifier, this address's failures forgotten, and
    the owner told of failed attempts from elsewhere since the last sign-in."""
    attempts, addresses = complete_sign_in(user, method=method)
    row = _pending()
    if row is not None:  # used once
        db.session.delete(row)
    sessions.start(user, mfa=method != "password")
    session.pop(PENDING_KEY, None)
    if attempts:
        flash(
            f"Since your last sign-in, {attempts} attempt{'s' if attempts != 1 else ''} to sign "
            f"in to your account failed from {addresses} other address"
            f"{'es' if addresses != 1 else ''}. Those addresses are held back. If it was not "
            "you, change your password under Account security and tell your clinic's "
            "administrator.",
            "warning",
        )
