"""Server-side sessions. The signed cookie carries a random token; the user_session row
says whether it is still good: not revoked (sign-out, password change, deactivation), not
idle longer than SESSION_IDLE_MINUTES, not older than SESSION_ABSOLUTE_HOURS."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app, g, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from portal.auth.models import User, UserSession
from portal.db import utcnow
from portal.extensions import db

SESSION_KEY = "sid"
# Requests that must not count as activity (the page's own timer asking how long is left).
PASSIVE_ENDPOINTS = frozenset({"account.session_status", "static"})
# Activity is written at most once a minute: the idle limit is counted in minutes, and a
# signed-in page should not pay an UPDATE and a commit of its own on every click.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def absolute_limit() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])


def create_record(user: User, *, mfa: bool) -> tuple[UserSession, str]:
    """A new session row and its token (only the token's hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        mfa_verified=mfa,
        ip=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def start(user: User, *, mfa: bool) -> UserSession:
    """Sign the user in with a fresh session identifier (the old cookie content is dropped)."""
    row, token = create_record(user, mfa=mfa)
    session.clear()
    session[SESSION_KEY] = token
    login_user(user)
    g.user_session = row
    return row


@cache
def _find():
    """Every signed-in request runs it: built once (at the first request, as a loader option
    configures the mappers), not per request."""
    return (
        select(UserSession)
        .where(UserSession.token_hash == bindparam("token_hash"))
        .options(
            joinedload(UserSession.user).joinedload(User.clinic),
            joinedload(UserSession.user).joinedload(User.practice),
        )
    )


def find(token: str | None) -> UserSession | None:
    if not token:
        return None
    # The session, its user, the user's clinic (shown in every page's header) and practice
    # (whether it shares referrals: the referrer's pages ask), in one query.
    return db.session.scalar(_find(), {"token_hash": _hash(token)})


def expiry_reason(row: UserSession, now: datetime) -> str | None:
    if row.revoked_at is not None:
        return "revoked"
    if now - row.created_at > absolute_limit():
        return "absolute"
    if now - row.last_seen_at > idle_limit():
        return "idle"
    return None


def load(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live session row, or None."""
    row = find(session.get(SESSION_KEY))
    if row is None or str(row.user_id) != user_id:
        return None
    now = utcnow()
    reason = expiry_reason(row, now)
    if reason is None and not row.user.is_enabled:
        reason = "revoked"
    if reason is not None:
        if row.revoked_at is None:
            revoke(row, reason)
            db.session.commit()
        g.session_ended = reason
        return None
    g.seconds_left_on_arrival = seconds_left(row)  # before this request counts as activity
    touch_every = min(TOUCH_EVERY, idle_limit() / 10)  # a short idle limit stays near exact
    if request.endpoint not in PASSIVE_ENDPOINTS and now - row.last_seen_at >= touch_every:
        row.last_seen_at = now
        db.session.commit()  # its own small transaction, before the view does anything
    g.user_session = row
    return row.user


def current() -> UserSession | None:
    return g.get("user_session")


def seconds_left(row: UserSession) -> int:
    """Until automatic sign-out, whichever of the idle and absolute limits comes first."""
    now = utcnow()
    ends = min(row.last_seen_at + idle_limit(), row.created_at + absolute_limit())
    return max(int((ends - now).total_seconds()), 0)


def touch(row: UserSession) -> None:
    row.last_seen_at = utcnow()


def revoke(row: UserSession, reason: str) -> None:
    row.revoked_at = utcnow()
    row.revoked_reason = reason


def end_current(reason: str) -> None:
    """Sign the user out now: the session row revoked (a copy of the cookie stops working
    too) and committed, the cookie emptied."""
    row = current()
    if row is not None:
        revoke(row, reason)
    db.session.commit()
    logout_user()
    session.clear()


def restart(user: User, reason: str) -> int:
    """After a password change: the user's other sessions end, and this one continues under
    a fresh identifier; returns how many others ended."""
    old = current()
    others = revoke_all(user, reason, keep=old)
    revoke(old, reason)
    start(user, mfa=old.mfa_verified)
    return others


def revoke_all(user: User, reason: str, *, keep: UserSession | None = None) -> int:
    """Revoke every live session of the user except `keep`; returns how many."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    return db.session.execute(stmt).rowcount


def mark_authenticated(row: UserSession) -> None:
    """The user has just proved who they are again (re-authentication)."""
    row.authenticated_at = utcnow()


def recently_authenticated(row: UserSession | None) -> bool:
    if row is None:
        return False
    window = timedelta(minutes=current_app.config["REAUTH_WINDOW_MINUTES"])
    return utcnow() - row.authenticated_at <= window
