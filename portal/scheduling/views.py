"""Scheduling pages for clinic staff: a referral's series (its appointments, a proposed series,
booking it), changes to one appointment. The day and week views are in day_views."""

from __future__ import annotations

from datetime import date, time, timedelta

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
    RemindersForm,
    SeriesForm,
    within_schedule,
)
from portal.scheduling.permissions import (
    get_appointment_or_404,
    get_referral_for_schedule_or_404,
)
from portal.scheduling.settings import chairs

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
        visits=list(visits),
        chairs=chairs(referral.clinic_id),
        counted=service.sessions_counted(referral),
        series=series or SeriesForm(formdata=None, data={"version": referral.version}),
        error=error,
        appointments=service.referral_appointments(referral),
        add_form=AddVisitForm(formdata=None, data={"version": referral.version}),
        today=clinic_today(),
        authorization_warnings=authorizations.referral_warnings(referral, clinic_today()),
        patient_email=bool(((referral.intake or {}).get("patient") or {}).get("email")),
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
            referral,
            protocol,
            form.start.data,
            weeks=form.weeks.data,
            per_week=form.per_week.data,
            preferred=form.preferred.data,
        )
    except Invalid as invalid:
        return _schedule_page(referral, protocols, form=form, error=str(invalid))
    return _schedule_page(
        referral,
        protocols,
        form=form,
        protocol=protocol,
        visits=[_proposed_row(v) for v in proposed],
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
    requests = _posted_visits()
    if series.validate_on_submit() and requests:
        try:
            booked = service.book_series(
                referral,
                requests,
                protocol=protocol,
                actor=current_user,
                expected_version=series.expected_version(),
                beyond_plan_reason=series.beyond_plan_reason.data or "",
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
            f"{SCHEDULE_YEARS} years of today, and a time as HH:MM."
        )
        status = 422
    return _schedule_page(
        referral,
        protocols,
        protocol=protocol,
        visits=_typed_rows(),
        series=series,
        error=error,
        status=status,
    )


def _proposed_row(visit) -> dict:
    slot = visit.slot
    return {
        "day": visit.day.isoformat() if visit.day else "",
        "weekday": f"{visit.day:%A}" if visit.day else "",
        "time": f"{slot.start:%H:%M}" if slot else "",
        "end": f"{slot.end:%H:%M}" if slot else "",
        "chair_id": slot.chair_id if slot else None,
        "note": visit.note,
        "alternatives": [a.describe() for a in visit.alternatives],
    }


def _typed_rows() -> list[dict]:
    """The series as posted, to show it again after a refusal (nothing typed is lost)."""
    form = request.form
    days, times = form.getlist("day")[:60], form.getlist("time")
    chairs_, notes = form.getlist("chair"), form.getlist("note")
    rows = []
    for i, day in enumerate(days):
        chair = chairs_[i] if i < len(chairs_) else ""
        rows.append(
            {
                "day": day,
                "weekday": _weekday(day),
                "time": times[i] if i < len(times) else "",
                "end": "",
                "chair_id": int(chair) if chair.isdigit() else None,
                "note": notes[i] if i < len(notes) else "",
                "alternatives": [],
            }
        )
    return rows


def _weekday(raw: str) -> str:
    try:
        return f"{date.fromisoformat(raw):%A}"
    except ValueError:
        return ""


def _posted_visits() -> list[service.VisitRequest] | None:
    """The visits posted (day, HH:MM, chair), or None if any is malformed."""
    form = request.form
    days, times, chairs_ = form.getlist("day")[:60], form.getlist("time"), form.getlist("chair")
    visits = []
    for i, raw in enumerate(days):
        try:
            day = date.fromisoformat(raw)
            raw_time = times[i] if i < len(times) else ""
            start = time.fromisoformat(raw_time) if raw_time else None
            raw_chair = chairs_[i] if i < len(chairs_) else ""
            chair = int(raw_chair) if raw_chair else None
        except ValueError:
            return None
        if not within_schedule(day):
            return None
        visits.append(service.VisitRequest(day, start, chair))
    return visits or None


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
            [service.VisitRequest(form.day.data)],
            protocol=None,
            actor=current_user,
            expected_version=form.expected_version(),
            preferred=form.start.data,
            beyond_plan_reason=form.beyond_plan_reason.data or "",
        )
    except DomainError as refusal:
        flash(refusal_message(refusal), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return back
    db.session.commit()
    flash(f"Visit on {form.day.data:%a %d %b %Y} added.", "success")
    return back


@bp.post("/referrals/<int:referral_id>/reminders")
def reminders(referral_id: int):
    """Record the patient's opt-out of (or back into) appointment reminder emails."""
    referral = get_referral_or_404(referral_id, current_user, "act")
    form = RemindersForm()
    back = redirect(url_for("scheduling.referral_schedule", referral_id=referral.id))
    try:
        if not form.validate_on_submit():
            raise Invalid("The form expired: load the page again.", field="opt_out")
        service.set_reminders_opt_out(
            referral,
            form.opt_out.data,
            actor=current_user,
            expected_version=form.expected_version(),
        )
    except DomainError as refusal:
        flash(refusal_message(refusal), "error")
        db.session.commit()  # the read and the refusal's audit rows
        return back
    db.session.commit()
    flash("Reminders stopped." if form.opt_out.data else "Reminders will be sent.", "success")
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
            a,
            f.day.data,
            actor=current_user,
            expected_version=f.expected_version(),
            start=f.start.data,
            with_later=f.with_later.data,
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
