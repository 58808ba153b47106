"""The administrator's pages."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request

from portal.admin import bp
from portal.audit.forms import AuditFilterForm
from portal.audit.queries import PAGE_SIZE, actors_of, csv_lines, filtered
from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db

# Dates the filters can work with (a day is added to "to": 9999-12-31 would overflow).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _filters() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.fill_choices()
    form.validate()
    for field in (form.date_from, form.date_to):
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            field.errors = [*field.errors, f"Choose a date between {FIRST_DAY} and {LAST_DAY}."]
    for field in form:  # an invalid filter is ignored (and shown as such), never sent as SQL
        if field.errors:
            field.data = None
    return form


@bp.get("/audit")
def audit_log():
    form = _filters()
    events = list(db.session.scalars(filtered(form).limit(PAGE_SIZE)))
    record("audit.view", detail="viewer")
    db.session.commit()
    return render_template(
        "admin/audit.html",
        events=events,
        actors=actors_of(events),
        form=form,
        query=request.query_string.decode(),
        page_size=PAGE_SIZE,
    )


@bp.get("/audit.csv")
def audit_csv():
    form = _filters()
    record("audit.export", detail="csv")
    db.session.commit()
    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        "".join(csv_lines(filtered(form))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
