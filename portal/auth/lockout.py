"""Throttling failed sign-ins so that the attacker is held back, not the account's owner.

Two counters, both kept in the database (they hold across workers and restarts) and both
raised by one SQL statement *before* the password or code is checked, the decision taken on
the value the statement returns: requests racing each other cannot check more guesses than
the threshold allows.

- Per account and address (`login_throttle`): after LOCKOUT_THRESHOLD attempts in a row
  without success, that address is blocked for that account for 5 minutes, doubling with
  each further attempt once the block ends (at most a day). Other addresses are not.
- Per account (`user_account.failed_logins`, `locked_until`): after
  LOCKOUT_ACCOUNT_THRESHOLD attempts in a row from anywhere (30: three addresses' worth, so
  one address alone, blocked and waiting out doubling delays, hardly ever gets there) the
  account is *under attack* for the same growing time.
  This is a soft lock: a right password followed by a right second step (authenticator or
  recovery code) still signs in; an account without a second step is let in with its
  password only from an address it signed in from before. The owner is told at the next
  sign-in, and administrators see it under "Sign-in attempts".

NIST SP 800-63B 5.2.2: consecutive failures are limited without a permanent lockout."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app, has_request_context, request
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit.service import record
from portal.auth.models import LoginThrottle, User, UserSession
from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from collections.abc import Sequence

FIRST_LOCK = timedelta(minutes=5)
LONGEST_LOCK = timedelta(hours=24)


def lock_duration(failures: int, threshold: int) -> timedelta:
    """5 minutes at the threshold, doubling with each further failure, at most a day."""
    return min(FIRST_LOCK * 2 ** max(failures - threshold, 0), LONGEST_LOCK)


def client_address() -> str:
    return ((request.remote_addr or "") if has_request_context() else "")[:64]


def _threshold() -> int:
    return current_app.config["LOCKOUT_THRESHOLD"]


def _account_threshold() -> int:
    return current_app.config["LOCKOUT_ACCOUNT_THRESHOLD"]


def is_locked(user: User) -> bool:
    """The account is under attack (the soft lock): see the module's docstring."""
    return user.locked_until is not None and user.locked_until > utcnow()


def is_blocked(user: User, ip: str | None = None) -> bool:
    """This address (the request's by default) may not try this account's password now."""
    ip = client_address() if ip is None else ip
    until = db.session.scalar(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.user_id == user.id, LoginThrottle.ip == ip
        )
    )
    return until is not None and until > utcnow()


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def begin_attempt(user: User, ip: str | None = None) -> bool:
    """Count an attempt to sign in (or confirm it is `user`) before its password or code is
    checked; False if this address is blocked for this account, and then nothing may be
    checked. The count is taken back by `register_success`.

    Committed at once, with whatever the request had pending: the count holds whatever
    happens to the request afterwards, and no lock is held while the slow password hash is
    checked (on SQLite the write lock would otherwise stall every other request)."""
    ip = client_address() if ip is None else ip
    now = utcnow()
    threshold = _threshold()
    # The account's row first, as a sign-in that succeeds does (claiming its code, then
    # forgetting the address's count): one order of locks, so no deadlock on PostgreSQL.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    upsert = _insert(LoginThrottle).values(user_id=user.id, ip=ip, failures=1, last_failure_at=now)
    row = db.session.execute(
        upsert.on_conflict_do_update(
            index_elements=[LoginThrottle.user_id, LoginThrottle.ip],
            set_={"failures": LoginThrottle.failures + 1, "last_failure_at": now},
            where=or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        ).returning(LoginThrottle.id, LoginThrottle.failures)
    ).first()
    if row is None:  # the address is blocked: the row was left as it was
        db.session.commit()
        return False
    if row.failures >= threshold:
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.id == row.id)
            .values(locked_until=now + lock_duration(row.failures, threshold))
        )
        if row.failures == threshold:
            record("auth.lockout", "user", user.id, actor=user, detail="one address blocked")
    threshold = _account_threshold()
    account = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if account >= threshold:
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=now + lock_duration(account, threshold))
            .execution_options(synchronize_session=False)
        )
        if account == threshold:
            record("auth.under_attack", "user", user.id, actor=user, detail=f"{account} failures")
    db.session.commit()
    return True


def may_use_password_alone(user: User, ip: str | None = None) -> bool:
    """Under attack, an account without a second step signs in with its password only from an
    address it signed in from before."""
    if not is_locked(user):
        return True
    ip = client_address() if ip is None else ip
    known = db.session.scalar(
        select(UserSession.id).where(UserSession.user_id == user.id, UserSession.ip == ip).limit(1)
    )
    return known is not None


def register_success(user: User, ip: str | None = None) -> None:
    """Every step passed from this address: its count and the account's are forgotten (the
    counts of other addresses stay, so an attacker elsewhere stays blocked)."""
    ip = client_address() if ip is None else ip
    user.failed_logins = 0
    user.locked_until = None
    db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.user_id == user.id, LoginThrottle.ip == ip)
    )


def failures_elsewhere(user: User, since: datetime | None) -> tuple[int, int]:
    """Failed attempts on the account from other addresses since `since`: (attempts,
    addresses), for the notice at sign-in."""
    query = select(LoginThrottle.failures).where(
        LoginThrottle.user_id == user.id, LoginThrottle.ip != client_address()
    )
    if since is not None:
        query = query.where(LoginThrottle.last_failure_at > since)
    counts = db.session.scalars(query).all()
    return sum(counts), len(counts)


def under_attack(accounts, limit: int = 200) -> Sequence[tuple[User, int, int, datetime]]:
    """Accounts (among those `accounts`, a condition on User) with failed attempts in the
    last day, most recent first: the user, the attempts, the addresses they came from, the
    latest."""
    since = utcnow() - timedelta(days=1)
    rows = db.session.execute(
        select(
            User,
            func.sum(LoginThrottle.failures),
            func.count(LoginThrottle.id),
            func.max(LoginThrottle.last_failure_at),
        )
        .join(LoginThrottle, LoginThrottle.user_id == User.id)
        .where(LoginThrottle.last_failure_at > since, accounts)
        .group_by(User.id)
        .order_by(func.max(LoginThrottle.last_failure_at).desc())
        .limit(limit)
    ).all()
    return [(u, int(n), int(a), at) for u, n, a, at in rows]


def blocked_addresses(user: User) -> list[LoginThrottle]:
    return list(
        db.session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.user_id == user.id)
            .order_by(LoginThrottle.last_failure_at.desc())
        )
    )


def unlock(user: User, *, actor: User) -> None:
    """An administrator releases the account and every address's block on it."""
    user.failed_logins = 0
    user.locked_until = None
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.user_id == user.id))
    record("account.unlock", "user", user.id, actor=actor)
