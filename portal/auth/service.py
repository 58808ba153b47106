"""Accounts: creating them and checking a sign-in."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.service import record
from portal.auth.models import Role, User
from portal.auth.passwords import hash_password, needs_rehash, verify_password
from portal.db import utcnow
from portal.extensions import db


class AccountError(ValueError):
    """The account cannot be created as asked."""


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
        raise AccountError("An account with that email already exists.")
    if len(password) < 12:
        raise AccountError("The password must be at least 12 characters long.")
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
    """The account for these credentials, or None; the audit row never names the email."""
    user = find_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_enabled:
        record("auth.login", "user", user.id if user else None, outcome="failed", actor=user)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record("auth.login", "user", user.id, actor=user)
    return user
