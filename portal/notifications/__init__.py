"""Notifications: the bell, the email outbox and its worker jobs, each person's preferences.
Other features call portal.notifications.service.notify(kind, people, referral=...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from flask import Flask

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def init_app(app: Flask) -> None:
    """Connect the triggers and register the queue's tasks."""
    from portal.notifications import tasks, triggers  # noqa: F401 - tasks register on import

    triggers.connect()
