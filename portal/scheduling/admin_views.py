"""Administrators: the clinic's scheduling settings, closed dates, calendar link, protocols."""

from __future__ import annotations

from datetime import time

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.clock import clinic_today
from portal.errors import Invalid
from portal.extensions import db
from portal.guards import require_roles
from portal.roles import Role
from portal.scheduling import bp, feed, queries, settings_service
from portal.scheduling.forms import (
    ClinicianHoursForm,
    ClinicSettingsForm,
    ClosedDateForm,
    ProtocolForm,
)
from portal.scheduling.models import DEFAULT_HOURS
from portal.scheduling.permissions import (
    get_clinician_or_404,
    get_closed_date_or_404,
    get_protocol_or_404,
)
from portal.scheduling.settings import (
    chairs,
    clinic_clinicians,
    clinic_schedule,
    clinician_hours,
    opening_hours,
    upcoming_closed_dates,
)
from portal.scheduling.slots import WEEKDAY_NAMES

DEFAULT = tuple(time.fromisoformat(t) for t in DEFAULT_HOURS)


def _settings_form(settings) -> ClinicSettingsForm:
    hours = opening_hours(settings)
    return ClinicSettingsForm(
        formdata=None,
        data={
            "days": [
                {
                    "open": d in hours,
                    "opens": hours.get(d, DEFAULT)[0],
                    "closes": hours.get(d, DEFAULT)[1],
                }
                for d in range(7)
            ],
            "chair_names": "\n".join(c.name for c in chairs(settings.clinic_id)),
            **{name: getattr(settings, name) for name in settings_service.DURATION_FIELDS},
            "chairs_per_clinician": settings.chairs_per_clinician,
            "sla_urgent_days": settings.sla_urgent_days,
            "sla_routine_days": settings.sla_routine_days,
        },
    )


def _hours_forms(clinic_id: int, posted: ClinicianHoursForm | None = None):
    """One form per clinician with the hours stored (or as posted, with its errors)."""
    stored = clinician_hours(clinic_id)
    forms = []
    for clinician in clinic_clinicians(clinic_id):
        if posted is not None and posted.clinician_id.data == clinician.id:
            forms.append((clinician, posted))
            continue
        own = stored.get(clinician.id, {})
        first = next(iter(own.values()), (None, None))
        forms.append(
            (
                clinician,
                ClinicianHoursForm(
                    formdata=None,
                    prefix=f"c{clinician.id}",
                    data={
                        "clinician_id": clinician.id,
                        "weekdays": sorted(own),
                        "starts": first[0],
                        "ends": first[1],
                    },
                ),
            )
        )
    return forms


def _settings_page(
    form=None, closed_form=None, new_link: str | None = None, status=200, hours=None
):
    settings = clinic_schedule(current_user.clinic_id)
    page = render_template(
        "scheduling/settings.html",
        settings=settings,
        form=form or _settings_form(settings),
        weekday_names=WEEKDAY_NAMES,
        hours_forms=_hours_forms(current_user.clinic_id, hours),
        closed_form=closed_form or ClosedDateForm(formdata=None),
        closed=upcoming_closed_dates(current_user.clinic_id, clinic_today()),
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
    if not form.validate_on_submit():
        return _settings_page(form=form, status=422)
    settings_service.update_settings(
        clinic_schedule(current_user.clinic_id),
        hours={n: (d["opens"], d["closes"]) for n, d in enumerate(form.days.data) if d["open"]},
        chair_names=form.chair_list(),
        minutes={name: getattr(form, name).data for name in settings_service.DURATION_FIELDS},
        chairs_per_clinician=form.chairs_per_clinician.data,
        sla_urgent_days=form.sla_urgent_days.data,
        sla_routine_days=form.sla_routine_days.data,
        actor=current_user,
    )
    db.session.commit()
    flash("Scheduling settings saved.", "success")
    return redirect(url_for("scheduling.settings"))


@bp.post("/settings/clinicians/<int:clinician_id>")
@require_roles(Role.ADMIN)
def save_clinician_hours(clinician_id: int):
    clinician = get_clinician_or_404(clinician_id, current_user)
    form = ClinicianHoursForm(prefix=f"c{clinician.id}")
    if not form.validate_on_submit() or form.clinician_id.data != clinician.id:
        return _settings_page(hours=form, status=422)
    settings_service.set_clinician_hours(
        current_user.clinic_id,
        clinician.id,
        form.weekdays.data or [],
        form.starts.data,
        form.ends.data,
        actor=current_user,
    )
    db.session.commit()
    flash(f"Working hours of {clinician.display_name} saved.", "success")
    return redirect(url_for("scheduling.settings"))


@bp.post("/settings/closed")
@require_roles(Role.ADMIN)
def add_closed_date():
    form = ClosedDateForm()
    if not form.validate_on_submit():
        return _settings_page(closed_form=form, status=422)
    try:
        settings_service.close_day(
            current_user.clinic_id, form.day.data, form.reason.data, actor=current_user
        )
    except settings_service.DayAlreadyClosed as already:
        flash(str(already), "info")
        return redirect(url_for("scheduling.settings"))
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
    closed = get_closed_date_or_404(closed_id, current_user, "delete")
    settings_service.reopen_day(closed, actor=current_user)
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
    protocol = get_protocol_or_404(protocol_id, current_user, "edit")
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
        try:
            settings_service.update_protocol(
                protocol,
                name=form.name.data,
                description=form.description.data or "",
                preferred_weekdays=form.preferred_weekdays.data or [],
                phases=form.typed_phases(),
                actor=current_user,
            )
        except Invalid as invalid:
            form.phases.errors.append(str(invalid))
        else:
            db.session.commit()
            flash(f"Protocol “{protocol.name}” saved.", "success")
            return redirect(url_for("scheduling.protocols"))
    status = 422 if request.method == "POST" else 200
    return render_template("scheduling/protocol_form.html", protocol=protocol, form=form), status
