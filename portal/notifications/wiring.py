"""Wiring the notifications into the app: the triggers connected, the queue's tasks registered."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Connect the triggers and register the queue's tasks."""
    from portal.notifications import tasks, triggers  # noqa: F401 - tasks register on import

    triggers.connect()
