"""Notifications: the bell, the email outbox and its worker jobs, each person's preferences
(portal/notifications/wiring.py connects them to the app).
Other features call portal.notifications.service.notify(kind, people, referral=...)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
