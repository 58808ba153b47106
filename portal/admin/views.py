"""The administrator's pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.models import AuditEvent
from portal.auth.models import Role, User
from portal.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated or current_user.role != Role.ADMIN:
        abort(404)


@bp.get("/audit")
def audit_log():
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)))
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_(actor_ids)).options(selectinload(User.clinic))
        )
    }
    return render_template("admin/audit.html", events=events, actors=actors)
