"""The clinic's calendar pages: the day view (a grid by chair and time, the list with what
each patient still needs, escorts to confirm), the week view and the front desk's print."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, render_template, request
from flask_login import current_user

from portal.clock import clinic_today
from portal.extensions import db
from portal.scheduling import bp, queries
from portal.scheduling.daygrid import build_grid
from portal.scheduling.forms import SCHEDULE_YEARS, within_schedule
from portal.scheduling.settings import (
    chairs,
    clinic_clinicians,
    clinic_schedule,
    closed_reason,
    opening_hours,
)


def _day_asked(value: str) -> date:
    """The day in ?date=, or today for a missing or malformed one; a day more than
    SCHEDULE_YEARS from today is refused with a notice (dates near year 9999 overflow)."""
    today = clinic_today()
    if not value:
        return today
    try:
        asked = date.fromisoformat(value)
    except ValueError:
        flash("That is not a date (use YYYY-MM-DD); today is shown.", "error")
        return today
    if not within_schedule(asked):
        flash(f"Choose a day within {SCHEDULE_YEARS} years of today; today is shown.", "error")
        return today
    return asked


def _clinician_asked(clinicians) -> int | None:
    raw = request.args.get("clinician", "")
    ids = {c.id for c in clinicians}
    return int(raw) if raw.isdigit() and int(raw) in ids else None


def _day_context(shown: date):
    settings = clinic_schedule(current_user.clinic_id)
    clinicians = clinic_clinicians(current_user.clinic_id)
    clinician_id = _clinician_asked(clinicians)
    rows = queries.day_schedule(current_user, shown, clinician_id=clinician_id)
    chair_list = [(c.id, c.name) for c in chairs(current_user.clinic_id)]
    return {
        "rows": rows,
        "day": shown,
        "today": clinic_today(),
        "settings": settings,
        "clinicians": clinicians,
        "clinician_id": clinician_id,
        "chairs": chair_list,
        "grid": build_grid(shown, opening_hours(settings).get(shown.weekday()), chair_list, rows),
        "booked": sum(1 for r in rows if r.appointment.holds_chair),
        "closed": closed_reason(settings, shown),
        "timedelta": timedelta,
    }


@bp.get("/day")
def day():
    page = render_template(
        "scheduling/day.html", **_day_context(_day_asked(request.args.get("date", "")))
    )
    db.session.commit()
    return page


@bp.get("/day/print")
def day_print():
    """The front desk's sheet: times, chairs, initials and referral numbers only."""
    page = render_template(
        "scheduling/day_print.html", **_day_context(_day_asked(request.args.get("date", "")))
    )
    db.session.commit()
    return page


@bp.get("/week")
def week():
    shown = _day_asked(request.args.get("date", ""))
    monday = shown - timedelta(days=shown.weekday())
    settings = clinic_schedule(current_user.clinic_id)
    clinicians = clinic_clinicians(current_user.clinic_id)
    clinician_id = _clinician_asked(clinicians)
    rows = queries.day_schedule(
        current_user, monday, end=monday + timedelta(days=6), clinician_id=clinician_id
    )
    days = [monday + timedelta(days=i) for i in range(7)]
    shown_days = [d for d in days if d.weekday() in settings.treatment_weekdays] or days[:5]
    by_day = {d: [r for r in rows if r.appointment.day == d] for d in shown_days}
    page = render_template(
        "scheduling/week.html",
        monday=monday,
        days=shown_days,
        by_day=by_day,
        closed={d: closed_reason(settings, d) for d in shown_days},
        today=clinic_today(),
        clinicians=clinicians,
        clinician_id=clinician_id,
        timedelta=timedelta,
    )
    db.session.commit()
    return page
