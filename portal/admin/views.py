"""The administrator's pages."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from portal.audit.queries import PAGE_SIZE, AuditFilterForm, actors_of, csv_lines, filtered
from portal.audit.service import record
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated or current_user.role != Role.ADMIN:
        abort(404)


def _filters() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.fill_choices()
    form.validate()
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


from portal.admin import accounts as _accounts  # noqa: E402, F401 - registers its routes on bp
