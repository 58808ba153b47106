"""The clinic's clock: dates that people see and type are the clinic's local dates
(CLINIC_TIMEZONE), never the server's; stored moments stay in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def clinic_today() -> date:
    """Today where the clinic is: a referral sent at 9 pm in New York is dated that day."""
    return datetime.now(clinic_zone()).date()


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC moment as the clinic's pages show it: on the clinic's clock."""
    if moment is None:
        return ""
    return moment.astimezone(clinic_zone()).strftime(fmt)
