"""Account lockout kept in the database: after LOCKOUT_THRESHOLD consecutive failures the
account is locked, for longer after each further failure."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app

from portal.audit.service import record
from portal.db import utcnow

if TYPE_CHECKING:
    from portal.auth.models import User

FIRST_LOCK = timedelta(minutes=5)
LONGEST_LOCK = timedelta(hours=24)


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def lock_duration(failures: int, threshold: int) -> timedelta:
    """5 minutes at the threshold, doubling with each further failure, at most a day."""
    return min(FIRST_LOCK * 2 ** max(failures - threshold, 0), LONGEST_LOCK)


def register_failure(user: User) -> None:
    """A wrong password or code for this account."""
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= threshold:
        user.locked_until = utcnow() + lock_duration(user.failed_logins, threshold)
        record("auth.lockout", "user", user.id, actor=user, detail=f"{user.failed_logins} failures")


def register_success(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def unlock(user: User, *, actor: User) -> None:
    """An administrator releases the lock."""
    register_success(user)
    record("account.unlock", "user", user.id, actor=actor)
