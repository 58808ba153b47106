"""Scheduling pages for clinic staff: a referral's series (its appointments, a proposed series,
booking it), changes to one appointment, the day view."""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.authorizations import service as authorizations
from portal.clock import clinic_today
from portal.errors import DomainError, Invalid
from portal.extensions import db
from portal.forms import choices
from portal.guards import restrict_blueprint
from portal.referrals.actions import refusal_message
from portal.referrals.queries import get_referral_or_404
from portal.roles import CLINIC_ROLES
from portal.scheduling import bp, queries, service
from portal.scheduling.forms import (
    SCHEDULE_YEARS,
    AddVisitForm,
    CancelVisitForm,
    MoveForm,
    NoShowForm,
    PreparationForm,
    ProposeForm,
    SeriesForm,
    within_schedule,
)
from portal.scheduling.permissions import (
    get_appointment_or_404,
    get_referral_for_schedule_or_404,
)
from portal.scheduling.settings import clinic_schedule, closed_reason

restrict_blueprint(bp, *CLINIC_ROLES)


def _propose_form(referral, protocols, asked=None) -> ProposeForm:
    """The proposal form as asked (?protocol_id=...&start=...), or else the referral's protocol
    (the default one for its treatment) from tomorrow."""
    if asked:
        form = ProposeForm(asked)
    else:
        default = queries.default_protocol_for(referral.course.modality, protocols)
        form = ProposeForm(
            formdata=None,
            data={
                "protocol_id": referral.protocol_id or (default.id if default else None),
                "start": clinic_today() + timedelta(days=1),
            },
        )
    form.protocol_id.choices = choices([(p.id, p.name) for p in protocols])
    return form


def _schedule_page(
    referral,
    protocols,
    *,
    form=None,
    protocol=None,
    visits=(),
    series=None,
    error: str | None = None,
    status: int = 200,
):
    """The referral's appointments with the proposal form, and a proposed or refused series
    (`visits` as (day, note) pairs, from `protocol`) or an `error` if there is one."""
    page = render_template(
        "scheduling/referral.html",
        referral=referral,
        form=form or _propose_form(referral, protocols),
        protocols=protocols,
        protocol=protocol,
        visits=[(day, note, _weekday(day)) for day, note in visits],
        series=series or SeriesForm(formdata=None, data={"version": referral.version}),
        error=error,
        appointments=service.referral_appointments(referral),
        add_form=AddVisitForm(formdata=None, data={"version": referral.version}),
        today=clinic_today(),
        authorization_warnings=authorizations.referral_warnings(referral, clinic_today()),
    )
    db.session.commit()
    return page, status


@bp.get("/referrals/<int:referral_id>")
def referral_schedule(referral_id: int):
    """The referral's appointments, and the form that proposes a series."""
    referral = get_referral_for_schedule_or_404(referral_id, current_user)
    return _schedule_page(referral, queries.protocols())


@bp.get("/referrals/<int:referral_id>/propose")
def propose(referral_id: int):
    """A series proposed from a protocol and a start day; nothing is booked until confirmed."""
    referral = get_referral_for_schedule_or_404(referral_id, current_user)
    protocols = queries.protocols()
    form = _propose_form(referral, protocols, request.args)
    if not (request.args and form.validate()):
        return _schedule_page(referral, protocols, form=form)
    protocol = next(p for p in protocols if p.id == form.protocol_id.data)
    try:
        proposed = queries.propose_series(
            referral, protocol, form.start.data, weeks=form.weeks.data, per_week=form.per_week.data
        )
    except Invalid as invalid:
        return _schedule_page(referral, protocols, form=form, error=str(invalid))
    return _schedule_page(
        referral,
        protocols,
        form=form,
        protocol=protocol,
        visits=[(v.day.isoformat() if v.day else "", v.note) for v in proposed],
        series=SeriesForm(
            formdata=None, data={"version": referral.version, "protocol_id": protocol.id}
        ),
    )


@bp.post("/referrals/<int:referral_id>/book")
def book(referral_id: int):
    """Book the proposed days as confirmed (each may have been changed); a refusal shows the
    series again as typed, with why."""
    referral = get_referral_for_schedule_or_404(referral_id, current_user)
    protocols = queries.protocols()
    series = SeriesForm()
    protocol = next((p for p in protocols if p.id == series.protocol_id.data), None)
    days = _posted_days()
    if series.validate_on_submit() and days:
        try:
            booked = service.book_series(
                referral,
                days,
                protocol=protocol,
                actor=current_user,
                expected_version=series.expected_version(),
            )
        except DomainError as refusal:
            error = refusal_message(refusal)
            # A page gone stale answers 409; any other refusal 422, with the days kept.
            status = 409 if refusal.status == 409 else 422
        else:
            db.session.commit()
            flash(f"{len(booked)} appointments booked for referral {referral.number}.", "success")
            for warning in authorizations.referral_warnings(referral, clinic_today()):
                flash(f"Authorization: {warning}", "warning")  # booked, and warned
            return redirect(url_for("scheduling.referral_schedule", referral_id=referral.id))
    else:
        error = (
            f"Nothing was booked: every proposed visit needs a day within "
            f"{SCHEDULE_YEARS} years of today."
        )
        status = 422
    notes = request.form.getlist("note")
    typed = [(day, notes[i] if i < len(notes) else "") for i, day in enumerate(_raw_days())]
    return _schedule_page(
        referral,
        protocols,
        protocol=protocol,
        visits=typed,
        series=series,
        error=error,
        status=status,
    )


def _weekday(raw: str) -> str:
    try:
        return f"{date.fromisoformat(raw):%A}"
    except ValueError:
        return ""


def _raw_days() -> list[str]:
    return request.form.getlist("day")[:60]


def _posted_days() -> list[date] | None:
    days = []
    for raw in _raw_days():
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return None
        if not within_schedule(day):
            return None
        days.append(day)
    return days or None


@bp.post("/referrals/<int:referral_id>/add")
def add_visit(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user, "act")
    form = AddVisitForm()
    back = redirect(url_for("scheduling.referral_schedule", referral_id=referral.id))
    if not form.validate_on_submit():
        for message in form.day.errors or ["Choose a day for the added visit."]:
            flash(message, "error")
        db.session.commit()  # the read's audit row
        return back
    try:
        service.book_series(
            referral,
            [form.day.data],
            protocol=None,
            actor=current_user,
            expected_version=form.expected_version(),
        )
    except DomainError as refusal:
        flash(refusal_message(refusal), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return back
    db.session.commit()
    flash(f"Visit on {form.day.data:%a %d %b %Y} added.", "success")
    return back


def _appointment_action(appointment_id: int, form, act, success: str):
    """Validate, change one appointment, commit; go back where the user came from."""
    appointment = get_appointment_or_404(appointment_id, current_user, "act")
    if request.form.get("back") == "day":
        back = url_for("scheduling.day", date=appointment.day.isoformat())
    else:
        back = url_for("scheduling.referral_schedule", referral_id=appointment.referral_id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        db.session.commit()  # the read's audit row
        return redirect(back)
    try:
        act(appointment, form)
    except DomainError as refusal:
        flash(refusal_message(refusal), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return redirect(back)
    db.session.commit()
    flash(success, "success")
    return redirect(back)


@bp.post("/appointments/<int:appointment_id>/move")
def move(appointment_id: int):
    return _appointment_action(
        appointment_id,
        MoveForm(),
        lambda a, f: service.move_appointment(
            a, f.day.data, actor=current_user, expected_version=f.expected_version()
        ),
        "Appointment moved.",
    )


@bp.post("/appointments/<int:appointment_id>/cancel")
def cancel(appointment_id: int):
    return _appointment_action(
        appointment_id,
        CancelVisitForm(),
        lambda a, f: service.cancel_appointment(
            a, f.reason.data, actor=current_user, expected_version=f.expected_version()
        ),
        "Appointment cancelled; its chair is free again.",
    )


@bp.post("/appointments/<int:appointment_id>/no-show")
def no_show(appointment_id: int):
    return _appointment_action(
        appointment_id,
        NoShowForm(),
        lambda a, f: service.mark_no_show(
            a, actor=current_user, expected_version=f.expected_version()
        ),
        "Marked as a no-show; it is on the referral's timeline.",
    )


@bp.post("/appointments/<int:appointment_id>/preparation")
def preparation(appointment_id: int):
    return _appointment_action(
        appointment_id,
        PreparationForm(),
        lambda a, f: service.set_preparation(
            a,
            escort_confirmed=f.escort_confirmed.data,
            instructions_given=f.instructions_given.data,
            actor=current_user,
            expected_version=f.expected_version(),
        ),
        "Preparation saved.",
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


@bp.get("/day")
def day():
    shown = _day_asked(request.args.get("date", ""))
    settings = clinic_schedule(current_user.clinic_id)
    rows = queries.day_schedule(current_user, shown)
    page = render_template(
        "scheduling/day.html",
        rows=rows,
        day=shown,
        today=clinic_today(),
        settings=settings,
        booked=sum(1 for r in rows if r.appointment.is_booked),
        closed=closed_reason(settings, shown),
        timedelta=timedelta,
    )
    db.session.commit()
    return page
