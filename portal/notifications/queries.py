"""Reads for the bell and the list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from portal.db import utcnow
from portal.extensions import db
from portal.notifications.models import Notification

if TYPE_CHECKING:
    from portal.auth.models import User

PAGE = 100


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


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
