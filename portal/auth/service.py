"""Accounts: creating them and checking a sign-in."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.service import record
from portal.auth import lockout
from portal.auth.models import User
from portal.auth.password_policy import clinic_names, password_problems
from portal.auth.passwords import hash_password, needs_rehash, verify_password
from portal.db import utcnow
from portal.errors import Invalid
from portal.extensions import db
from portal.roles import Role


class AccountError(Invalid):
    """The account cannot be created or changed as asked; `field` names the form field."""


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role | str,
    credentials: str = "",
    clinic_id: int | None = None,
    practice_id: int | None = None,
    phone: str = "",
) -> User:
    """A new account with one role; referrers belong to a practice, staff to a clinic."""
    role = Role(role)
    if find_by_email(email) is not None:
        raise AccountError("An account with that email already exists.", field="email")
    problems = password_problems(
        password, email=email, full_name=full_name, context=tuple(clinic_names())
    )
    if problems:
        raise AccountError(problems[0], field="password")
    user = User(
        email=email.strip().lower(),
        password_hash=hash_password(password),
        full_name=full_name.strip(),
        credentials=credentials.strip(),
        role=role.value,
        clinic_id=clinic_id,
        practice_id=practice_id,
        phone=phone,
    )
    db.session.add(user)
    db.session.flush()
    record("user.create", "user", user.id)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The account for these credentials, or None whatever the reason (unknown, wrong
    password, disabled, this address blocked); the audit row never names the email. The
    attempt is counted before the password is checked (portal.auth.lockout). Sign-in is
    complete only after complete_sign_in, once any second step has passed."""
    user = find_by_email(email)
    if user is None or not user.is_enabled:
        verify_password(None, password)  # timed alike
        record("auth.login", "user", user.id if user else None, outcome="failed", actor=user)
        return None
    if not lockout.begin_attempt(user):
        verify_password(None, password)
        record("auth.login", "user", user.id, outcome="denied", actor=user, detail="blocked")
        return None
    if not verify_password(user.password_hash, password):
        record("auth.login", "user", user.id, outcome="failed", actor=user)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def complete_sign_in(user: User, *, method: str) -> tuple[int, int]:
    """Every step passed: forget this address's failures and record the sign-in. Returns the
    failed attempts from other addresses since the last sign-in (attempts, addresses), which
    the owner is told about."""
    attempts, addresses = lockout.failures_elsewhere(user, user.last_login_at)
    lockout.register_success(user)
    user.last_login_at = utcnow()
    record("auth.login", "user", user.id, actor=user, detail=method)
    return attempts, addresses


def change_password(user: User, *, current: str, new: str) -> None:
    """Set a new password after checking the current one; raises AccountError at the field
    at fault. The attempt counts toward the throttling until the current password is right
    (counted at once); after a change the caller renews the sessions (sessions.restart)."""
    if not lockout.begin_attempt(user) or not verify_password(user.password_hash, current):
        record("account.password_change", "user", user.id, outcome="failed", actor=user)
        raise AccountError("The current password is not right.", field="current")
    lockout.register_success(user)
    problems = password_problems(
        new, email=user.email, full_name=user.full_name, context=tuple(clinic_names())
    )
    if problems:
        raise AccountError(problems[0], field="new")
    if verify_password(user.password_hash, new):
        raise AccountError("The new password must differ from the current one.", field="new")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    record("account.password_change", "user", user.id, actor=user)
