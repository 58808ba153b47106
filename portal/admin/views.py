"""The administrator's pages."""

from __future__ import annotations

from datetime import date

from flask import Response, render_template, request

from portal.admin import bp
from portal.audit.actions import describe, describe_outcome
from portal.audit.forms import AuditFilterForm
from portal.audit.queries import (
    EXPORT_ROWS_WITHOUT_RANGE,
    PAGE_SIZE,
    csv_lines,
    export_statement,
    export_too_big,
    page,
)
from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db

# Dates the filters can work with (a day is added to "to": 9999-12-31 would overflow).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
MAX_ID = 2**31 - 1


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


def _keyset(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


@bp.get("/audit")
def audit_log():
    form = _filters()
    shown = page(form, before=_keyset("before"), after=_keyset("after"))
    record("audit.view", detail="viewer")
    db.session.commit()
    args = {k: v for k, v in request.args.items() if k not in ("before", "after") and v}
    return render_template(
        "admin/audit.html",
        page=shown,
        form=form,
        args=args,
        query=request.query_string.decode(),
        page_size=PAGE_SIZE,
        describe=describe,
        describe_outcome=describe_outcome,
    )


@bp.get("/audit.csv")
def audit_csv():
    form = _filters()
    too_many = export_too_big(form)
    if too_many:
        db.session.rollback()
        return render_template(
            "admin/audit_export_too_big.html",
            count=too_many,
            limit=EXPORT_ROWS_WITHOUT_RANGE,
            query=request.query_string.decode(),
        ), 422
    record("audit.export", detail="csv")
    db.session.commit()
    name = f"audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        csv_lines(db.engine, export_statement(form)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
