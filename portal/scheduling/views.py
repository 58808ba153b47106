"""Scheduling pages for clinic staff: a referral's series, its appointments, the day view."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.clock import clinic_today
from portal.extensions import db
from portal.forms import choices
from portal.guards import restrict_blueprint
from portal.referrals import queries as referral_queries
from portal.referrals.actions import REFUSALS, refusal_message
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
from portal.scheduling.settings import clinic_schedule, closed_dates

SCHEDULING_REFUSALS = (*REFUSALS, service.StaleAppointment)


restrict_blueprint(bp, *CLINIC_ROLES)


def _propose_form(referral, protocols) -> ProposeForm:
    form = ProposeForm(request.args, meta={"csrf": False})
    form.protocol_id.choices = choices([(p.id, p.name) for p in protocols])
    if not request.args:
        wanted = "spravato_label" if referral.course.modality == "spravato" else "iv_induction"
        form.protocol_id.data = referral.protocol_id or next(
            (p.id for p in protocols if p.code == wanted), None
        )
        form.start.data = clinic_today() + timedelta(days=1)
    return form


@bp.route("/referrals/<int:referral_id>", methods=["GET", "POST"])
def referral_schedule(referral_id: int):
    """The referral's appointments; a proposed series (GET with a protocol); booking (POST)."""
    referral = referral_queries.get_referral_or_404(referral_id, current_user, "act")
    if referral.course is None:
        abort(404)
    protocols = queries.protocols()
    form = _propose_form(referral, protocols)
    visits, protocol, error, status = None, None, None, 200
    series = SeriesForm(data={"version": referral.version})
    if request.method == "POST":
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
            except SCHEDULING_REFUSALS as refusal:
                error = refusal_message(refusal)
            else:
                db.session.commit()
                flash(
                    f"{len(booked)} appointments booked for referral {referral.number}.", "success"
                )
                return redirect(url_for("scheduling.referral_schedule", referral_id=referral.id))
        else:
            error = (
                f"Nothing was booked: every proposed visit needs a day within "
                f"{SCHEDULE_YEARS} years of today."
            )
        notes = request.form.getlist("note")
        visits = [(day, notes[i] if i < len(notes) else "") for i, day in enumerate(_raw_days())]
        status = 409 if error and "changed by" in error else 422
    elif request.args and form.validate():
        protocol = next((p for p in protocols if p.id == form.protocol_id.data), None)
        try:
            phases = queries.protocol_phases(protocol, form.weeks.data, form.per_week.data)
        except ValueError as invalid:
            error = str(invalid)
        else:
            settings = clinic_schedule(referral.clinic_id)
            proposed = queries.proposal(settings, protocol, phases, form.start.data)
            visits = [(v.day.isoformat() if v.day else "", v.note) for v in proposed]
            series = SeriesForm(data={"version": referral.version, "protocol_id": protocol.id})
    appointments = service.referral_appointments(referral)
    visits = [(day, note, _weekday(day)) for day, note in visits or []]
    page = render_template(
        "scheduling/referral.html",
        referral=referral,
        form=form,
        protocols=protocols,
        protocol=protocol,
        visits=visits,
        series=series,
        error=error,
        appointments=appointments,
        add_form=AddVisitForm(formdata=None, data={"version": referral.version}),
        today=clinic_today(),
    )
    db.session.commit()
    return page, status


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
    referral = referral_queries.get_referral_or_404(referral_id, current_user, "act")
    form = AddVisitForm()
    back = redirect(url_for("scheduling.referral_schedule", referral_id=referral.id))
    if not form.validate_on_submit():
        for message in form.day.errors or ["Choose a day for the added visit."]:
            flash(message, "error")
        return back
    try:
        service.book_series(
            referral,
            [form.day.data],
            protocol=None,
            actor=current_user,
            expected_version=form.expected_version(),
        )
    except SCHEDULING_REFUSALS as refusal:
        flash(refusal_message(refusal), "error")
        return back
    db.session.commit()
    flash(f"Visit on {form.day.data:%a %d %b %Y} added.", "success")
    return back


def _appointment_action(appointment_id: int, form, act, success: str):
    """Validate, change one appointment, commit; go back where the user came from."""
    appointment = queries.get_appointment_or_404(appointment_id, current_user)
    referral_id = appointment.referral_id
    if request.form.get("back") == "day":
        back = url_for("scheduling.day", date=appointment.day.isoformat())
    else:
        back = url_for("scheduling.referral_schedule", referral_id=referral_id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(back)
    try:
        act(appointment, form)
    except SCHEDULING_REFUSALS as refusal:
        flash(refusal_message(refusal), "error")
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
    closed = closed_dates(current_user.clinic_id, shown, shown).get(shown)
    if closed is None and shown.weekday() not in settings.treatment_weekdays:
        closed = "not a treatment day"
    rows = queries.day_schedule(current_user, shown)
    page = render_template(
        "scheduling/day.html",
        rows=rows,
        day=shown,
        today=clinic_today(),
        settings=settings,
        booked=sum(1 for r in rows if r.appointment.is_booked),
        closed=closed,
        timedelta=timedelta,
    )
    db.session.commit()
    return page
