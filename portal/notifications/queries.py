"""Reads for the bell and the list."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select, update

from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import Notification

if TYPE_CHECKING:
    from portal.auth.models import User

PAGE = 100


@cache
def _unread_count():
    """Every signed-in page asks (the bell): built once, not per request."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)
    )


def unread_count(user: User) -> int:
    return db.session.scalar(_unread_count(), {"user_id": user.id})


def latest(user: User, limit: int = PAGE) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = utcnow()


def mark_all_read(user: User) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
