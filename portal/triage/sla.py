"""Service levels to a first decision, counted in business days (Monday to Friday). Pure."""

from __future__ import annotations

from datetime import date, timedelta


def add_business_days(day: date, days: int) -> date:
    """The business day `days` business days after `day` (a weekend day counts from Monday)."""
    current = day
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def due_on(submitted_on: date, business_days: int) -> date:
    """The last day on which a first decision is on time."""
    return add_business_days(submitted_on, business_days)


def is_overdue(submitted_on: date, business_days: int, today: date) -> bool:
    return today > due_on(submitted_on, business_days)


def latest_overdue_submission(today: date, business_days: int) -> date:
    """The latest submission day that is overdue today: overdue iff submitted on or before it.

    Lets the queue filter overdue referrals in SQL with one comparison per urgency."""
    day = today - timedelta(days=1)
    while is_overdue(day + timedelta(days=1), business_days, today):
        day += timedelta(days=1)
    while not is_overdue(day, business_days, today):
        day -= timedelta(days=1)
    return day
