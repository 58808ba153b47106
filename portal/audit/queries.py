"""Searching the audit trail for the administrator's viewer and its CSV export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, false, func, or_, select

from portal.attachments.models import Attachment
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.clock import clinic_zone
from portal.extensions import db
from portal.letters.models import Letter
from portal.referrals.models import Referral
from portal.scheduling.models import Appointment
from portal.treatment.models import Assessment, SafetyAlert, TreatmentCourse, TreatmentSession

if TYPE_CHECKING:
    from portal.audit.forms import AuditFilterForm

PAGE_SIZE = 50
# Beyond this many rows an export needs a date range (it still streams, whatever its size).
EXPORT_ROWS_WITHOUT_RANGE = 100_000
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
    "seq",
    "row_hash",
)

# Objects that belong to one referral: how to go from the object's id to its referral's.
_OF_REFERRAL = {
    "letter": (Letter.id, Letter.referral_id),
    "attachment": (Attachment.id, Attachment.referral_id),
    "appointment": (Appointment.id, Appointment.referral_id),
    "treatment_course": (TreatmentCourse.id, TreatmentCourse.referral_id),
    "assessment": (Assessment.id, Assessment.referral_id),
    "safety_alert": (SafetyAlert.id, SafetyAlert.referral_id),
}


def _day_start(day, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _of_referral(referral_id: int) -> ColumnElement[bool]:
    """Events about the referral, its patient, or anything that belongs to it."""
    parts = [
        and_(AuditEvent.object_type == "referral", AuditEvent.object_id == referral_id),
        and_(
            AuditEvent.object_type == "patient",
            AuditEvent.object_id.in_(
                select(Referral.patient_id).where(Referral.id == referral_id).scalar_subquery()
            ),
        ),
        and_(
            AuditEvent.object_type == "treatment_session",
            AuditEvent.object_id.in_(
                select(TreatmentSession.id)
                .join(TreatmentCourse, TreatmentSession.course_id == TreatmentCourse.id)
                .where(TreatmentCourse.referral_id == referral_id)
            ),
        ),
    ]
    for object_type, (object_id, owner) in _OF_REFERRAL.items():
        parts.append(
            and_(
                AuditEvent.object_type == object_type,
                AuditEvent.object_id.in_(select(object_id).where(owner == referral_id)),
            )
        )
    return or_(*parts)


def conditions(form: AuditFilterForm) -> list[ColumnElement[bool]]:
    """The (validated) filters as conditions. Values are bound parameters; nothing from the
    query string ever becomes SQL text."""
    where: list[ColumnElement[bool]] = []
    if form.user.data:
        ids = select(User.id).where(func.lower(User.email).contains(form.user.data.strip().lower()))
        where.append(AuditEvent.actor_id.in_(ids))
    if form.action.data:
        where.append(AuditEvent.action == form.action.data)
    if form.object_type.data:
        where.append(AuditEvent.object_type == form.object_type.data)
    if form.object_id.data:
        where.append(AuditEvent.object_id == form.object_id.data)
    if form.referral.data:
        referral_id = form.referral_id()
        where.append(_of_referral(referral_id) if referral_id else false())
    tz = clinic_zone()
    if form.date_from.data:
        where.append(AuditEvent.at >= _day_start(form.date_from.data, tz))
    if form.date_to.data:
        where.append(AuditEvent.at < _day_start(form.date_to.data + timedelta(days=1), tz))
    return where


def filtered(form: AuditFilterForm) -> Select:
    """The events matching the filters, newest first."""
    return select(AuditEvent).where(*conditions(form)).order_by(AuditEvent.id.desc())


@dataclass
class AuditPage:
    events: list[AuditEvent]
    actors: dict[int, User]
    referrals: dict[tuple[str, int], int] = field(default_factory=dict)  # object -> referral id
    older: int | None = None  # ?before= for the next (older) page
    newer: int | None = None  # ?after= for the previous (newer) page


def page(form: AuditFilterForm, *, before: int | None, after: int | None) -> AuditPage:
    """PAGE_SIZE events, newest first, by keyset: those older than `before`, or the page just
    newer than `after`. A constant number of statements, whatever the trail's size."""
    where = conditions(form)
    if after is not None:
        stmt = (
            select(AuditEvent)
            .where(*where, AuditEvent.id > after)
            .order_by(AuditEvent.id.asc())
            .limit(PAGE_SIZE + 1)
        )
        rows = list(db.session.scalars(stmt))
        more_newer = len(rows) > PAGE_SIZE
        events = list(reversed(rows[:PAGE_SIZE]))
        more_older = True
    else:
        stmt = select(AuditEvent).where(*where).order_by(AuditEvent.id.desc())
        if before is not None:
            stmt = stmt.where(AuditEvent.id < before)
        rows = list(db.session.scalars(stmt.limit(PAGE_SIZE + 1)))
        more_older = len(rows) > PAGE_SIZE
        events = rows[:PAGE_SIZE]
        more_newer = before is not None
    return AuditPage(
        events=events,
        actors=actors_of(events),
        referrals=referrals_of(events),
        older=events[-1].id if events and more_older else None,
        newer=events[0].id if events and more_newer else None,
    )


def actors_of(events: Sequence[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def referrals_of(events: Sequence[AuditEvent]) -> dict[tuple[str, int], int]:
    """For each event's object that belongs to a referral, the referral's id: one statement
    per kind of object on the page."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.object_id is not None:
            wanted[e.object_type].add(e.object_id)
    found: dict[tuple[str, int], int] = {}
    for object_id in wanted.pop("referral", set()):
        found[("referral", object_id)] = object_id
    for object_type, ids in wanted.items():
        if object_type in _OF_REFERRAL:
            key, owner = _OF_REFERRAL[object_type]
            stmt = select(key, owner).where(key.in_(ids))
        elif object_type == "treatment_session":
            stmt = (
                select(TreatmentSession.id, TreatmentCourse.referral_id)
                .join(TreatmentCourse, TreatmentSession.course_id == TreatmentCourse.id)
                .where(TreatmentSession.id.in_(ids))
            )
        else:
            continue
        for object_id, referral_id in db.session.execute(stmt):
            found[(object_type, object_id)] = referral_id
    return found


def export_too_big(form: AuditFilterForm) -> int | None:
    """The number of matching rows when there are more than an export without a date range
    may hold and no range is given; None when the export may go ahead."""
    if form.date_from.data and form.date_to.data:
        return None
    count = db.session.scalar(
        select(func.count()).select_from(
            select(AuditEvent.id)
            .where(*conditions(form))
            .limit(EXPORT_ROWS_WITHOUT_RANGE + 1)
            .subquery()
        )
    )
    return count if count and count > EXPORT_ROWS_WITHOUT_RANGE else None


def _cell(value) -> str:
    """No spreadsheet formulas: a cell starting with = + - @ is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_statement(form: AuditFilterForm) -> Select:
    """The matching rows for the CSV, newest first, with the actor's email."""
    return (
        select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.actor_id,
            User.email,
            AuditEvent.actor_role,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.outcome,
            AuditEvent.ip,
            AuditEvent.detail,
            AuditEvent.seq,
            AuditEvent.row_hash,
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(*conditions(form))
        .order_by(AuditEvent.id.desc())
    )


def csv_lines(engine: Engine, stmt: Select, *, chunk: int = 64_000) -> Iterator[str]:
    """The rows of `stmt` as CSV, streamed after the view has returned: on a connection of its
    own (no request context needed), rows read from a server-side cursor a batch at a time and
    written out in chunks, so memory stays constant whatever the number of rows."""
    with engine.connect() as conn:
        yield from _csv_chunks(conn, stmt, chunk)


def _csv_chunks(conn: Connection, stmt: Select, chunk: int) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    rows = conn.execution_options(yield_per=2000).execute(stmt)
    try:
        for row in rows:
            writer.writerow([_cell(v) for v in (row[0], row[1].isoformat(), *row[2:])])
            if out.tell() > chunk:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    finally:
        rows.close()
    yield out.getvalue()
