"""Searching the audit trail for the administrator's viewer and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.clock import clinic_zone
from portal.extensions import db

if TYPE_CHECKING:
    from portal.audit.forms import AuditFilterForm

PAGE_SIZE = 200
CSV_MAX_ROWS = 100_000
CSV_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_email",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "ip",
    "detail",
    "row_hash",
)


def _day_start(day, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def filtered(form: AuditFilterForm) -> Select:
    """The events matching the (validated) filters, newest first. Values are bound
    parameters; nothing from the query string ever becomes SQL text."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if form.user.data:
        ids = select(User.id).where(func.lower(User.email).contains(form.user.data.strip().lower()))
        stmt = stmt.where(AuditEvent.actor_id.in_(ids))
    if form.action.data:
        stmt = stmt.where(AuditEvent.action == form.action.data)
    if form.object_type.data:
        stmt = stmt.where(AuditEvent.object_type == form.object_type.data)
    if form.object_id.data:
        stmt = stmt.where(AuditEvent.object_id == form.object_id.data)
    tz = clinic_zone()
    if form.date_from.data:
        stmt = stmt.where(AuditEvent.at >= _day_start(form.date_from.data, tz))
    if form.date_to.data:
        stmt = stmt.where(AuditEvent.at < _day_start(form.date_to.data + timedelta(days=1), tz))
    return stmt


def actors_of(events: Iterable[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id}
    return (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    )


def _cell(value) -> str:
    """No spreadsheet formulas: a cell starting with = + - @ is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(stmt: Select) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    events = list(db.session.scalars(stmt.limit(CSV_MAX_ROWS)))
    actors = actors_of(events)
    for e in events:
        actor = actors.get(e.actor_id)
        writer.writerow(
            _cell(v)
            for v in (
                e.id,
                e.at.isoformat(),
                e.actor_id,
                actor.email if actor else "",
                e.actor_role,
                e.action,
                e.object_type,
                e.object_id,
                e.outcome,
                e.ip,
                e.detail,
                e.row_hash,
            )
        )
        if out.tell() > 64_000:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
