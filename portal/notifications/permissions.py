"""Who may see a notification: only the person it was written for (others get 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Notification

if TYPE_CHECKING:
    from portal.auth.models import User


def get_notification_or_404(notification_id: int, user: User) -> Notification:
    """The user's own notification; anyone else's answers 404."""
    note = db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if note is None:
        abort(404)
    return note
