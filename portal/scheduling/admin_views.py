"""Administrators: the clinic's scheduling settings, closed dates, calendar link, protocols."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.audit.service import record
from portal.clock import clinic_today
from portal.extensions import db
from portal.guards import require_roles
from portal.roles import Role
from portal.scheduling import bp, feed, queries
from portal.scheduling.forms import ClinicSettingsForm, ClosedDateForm, ProtocolForm
from portal.scheduling.generation import parse_phases
from portal.scheduling.models import ClosedDate
from portal.scheduling.settings import clinic_schedule


def _settings_page(form=None, closed_form=None, new_link: str | None = None, status=200):
    settings = clinic_schedule(current_user.clinic_id)
    form = form or ClinicSettingsForm(
        formdata=None,
        data={
            "treatment_weekdays": settings.treatment_weekdays,
            "chairs_per_day": settings.chairs_per_day,
            "sla_urgent_days": settings.sla_urgent_days,
            "sla_routine_days": settings.sla_routine_days,
        },
    )
    closed = db.session.scalars(
        select(ClosedDate)
        .where(ClosedDate.clinic_id == current_user.clinic_id, ClosedDate.day >= clinic_today())
        .order_by(ClosedDate.day)
    ).all()
    page = render_template(
        "scheduling/settings.html",
        settings=settings,
        form=form,
        closed_form=closed_form or ClosedDateForm(formdata=None),
        closed=closed,
        new_link=new_link,
    )
    db.session.commit()
    return page, status


@bp.get("/settings")
@require_roles(Role.ADMIN)
def settings():
    return _settings_page()


@bp.post("/settings")
@require_roles(Role.ADMIN)
def save_settings():
    form = ClinicSettingsForm()
    if not form.validate_on_submit() or not form.treatment_weekdays.data:
        if not form.treatment_weekdays.data:
            form.treatment_weekdays.errors = [
                *form.treatment_weekdays.errors,
                "Tick at least one day.",
            ]
        return _settings_page(form=form, status=422)
    settings = clinic_schedule(current_user.clinic_id)
    settings.treatment_weekdays = sorted(set(form.treatment_weekdays.data))
    settings.chairs_per_day = form.chairs_per_day.data
    settings.sla_urgent_days = form.sla_urgent_days.data
    settings.sla_routine_days = form.sla_routine_days.data
    record("clinic.schedule_settings", "clinic", current_user.clinic_id, actor=current_user)
    db.session.commit()
    flash("Scheduling settings saved.", "success")
    return redirect(url_for("scheduling.settings"))


@bp.post("/settings/closed")
@require_roles(Role.ADMIN)
def add_closed_date():
    form = ClosedDateForm()
    if not form.validate_on_submit():
        return _settings_page(closed_form=form, status=422)
    exists = db.session.scalar(
        select(ClosedDate).where(
            ClosedDate.clinic_id == current_user.clinic_id, ClosedDate.day == form.day.data
        )
    )
    if exists:
        flash(f"{form.day.data:%a %d %b %Y} is already closed.", "info")
        return redirect(url_for("scheduling.settings"))
    db.session.add(
        ClosedDate(
            clinic_id=current_user.clinic_id, day=form.day.data, reason=form.reason.data.strip()
        )
    )
    record("clinic.closed_date_add", "clinic", current_user.clinic_id, actor=current_user)
    db.session.commit()
    flash(
        f"The clinic is closed on {form.day.data:%a %d %b %Y}. Appointments already booked that "
        "day stay booked: check the day view and move them.",
        "success",
    )
    return redirect(url_for("scheduling.settings"))


@bp.post("/settings/closed/<int:closed_id>/delete")
@require_roles(Role.ADMIN)
def delete_closed_date(closed_id: int):
    closed = db.session.get(ClosedDate, closed_id)
    if closed is None or closed.clinic_id != current_user.clinic_id:
        abort(404)
    db.session.delete(closed)
    record("clinic.closed_date_delete", "clinic", current_user.clinic_id, actor=current_user)
    db.session.commit()
    flash("The day is open again.", "success")
    return redirect(url_for("scheduling.settings"))


@bp.post("/settings/calendar")
@require_roles(Role.ADMIN)
def calendar_link():
    """Create (or replace) the secret calendar link; it is shown on this page once."""
    settings = clinic_schedule(current_user.clinic_id)
    if request.form.get("action") == "revoke":
        feed.revoke_calendar_link(settings, actor=current_user)
        db.session.commit()
        flash("The calendar link is revoked: calendars using it stop updating.", "success")
        return redirect(url_for("scheduling.settings"))
    token = feed.new_calendar_link(settings, actor=current_user)
    db.session.commit()
    link = url_for("calendar.feed", token=token, _external=True)
    return _settings_page(new_link=link)


@bp.get("/protocols")
@require_roles(Role.ADMIN)
def protocols():
    return render_template("scheduling/protocols.html", protocols=queries.protocols())


@bp.route("/protocols/<int:protocol_id>", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def edit_protocol(protocol_id: int):
    protocol = queries.get_protocol_or_404(protocol_id)
    if request.method == "GET":
        rows = protocol.phases + [{}] * (5 - len(protocol.phases))
        form = ProtocolForm(
            formdata=None,
            data={
                "name": protocol.name,
                "description": protocol.description,
                "preferred_weekdays": protocol.preferred_weekdays,
                "phases": rows[:5],
            },
        )
    else:
        form = ProtocolForm()
    if form.validate_on_submit():
        typed = [p for p in form.phases.data if p["weeks"] and p["per_week"]]
        try:
            phases = parse_phases([{**p, "every": p["every"] or 1} for p in typed])
        except ValueError as invalid:
            form.phases.errors.append(str(invalid))
        else:
            protocol.name = form.name.data.strip()
            protocol.description = (form.description.data or "").strip()
            protocol.preferred_weekdays = sorted(set(form.preferred_weekdays.data or []))
            protocol.phases = [p.as_dict() for p in phases]
            record("protocol.edit", "protocol_template", protocol.id, actor=current_user)
            db.session.commit()
            flash(f"Protocol “{protocol.name}” saved.", "success")
            return redirect(url_for("scheduling.protocols"))
    status = 422 if request.method == "POST" else 200
    return render_template("scheduling/protocol_form.html", protocol=protocol, form=form), status
