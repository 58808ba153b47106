"""The referrals a measures page is about (received in the range, within the filters) and each
one's milestones, read from referral_milestone (kept in step with the timeline's events, the
sessions and the summary letters): one row per referral, the table the other queries start
from."""

from __future__ import annotations

from sqlalchemy import (
    CTE,
    Column,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    case,
    func,
    insert,
    select,
)
from sqlalchemy.schema import DropTable

from portal.db import EnumText, UTCDateTime
from portal.measures.models import ReferralMilestone
from portal.measures.scope import Scope
from portal.referrals.states import State

# Each milestone's day on the clinic's calendar (a day number, portal/measures/sql.py),
# worked out once with the milestones.
DAY_COLUMNS = (
    "received_day",
    "decided_day",
    "accepted_day",
    "first_session_day",
    "summary_day",
    "opened_day",
)
LEAKAGE_DAYS = 30  # DOMAIN.md: accepted but never started within 30 days


def milestones(scope: Scope):
    """The scope's milestones: its table when `materialize` made one, else the query."""
    return scope.milestones if scope.milestones is not None else milestones_query(scope)


def _temporary_table(slot: int) -> Table:
    """The temporary milestones table of one slot: one Table object per slot for the process,
    so the statements built on it are compiled once and then found in SQLAlchemy's cache (a
    new Table on each page made every statement a new one to compile)."""
    if slot in _TEMPORARY:
        return _TEMPORARY[slot]
    table = Table(
        f"measures_milestone_{slot}",
        MetaData(),
        # No primary key: its index (and the sequence a SERIAL makes) cost a third of the
        # copy, and every query reads the whole table anyway.
        Column("id", Integer),
        Column("patient_id", Integer),
        Column("practice_id", Integer),
        Column("referrer_id", Integer),
        Column("state", EnumText(State, 20)),
        Column("urgency", String(10)),
        Column("requested_modality", String(20)),
        Column("modality", String(20)),
        Column("course_id", Integer),
        Column("planned", Integer),
        Column("received_at", UTCDateTime()),
        Column("decided_at", UTCDateTime()),
        Column("accepted_at", UTCDateTime()),
        Column("first_session_on", Date),
        Column("sessions_done", Integer),
        Column("induction_end_on", Date),
        Column("summary_signed_at", UTCDateTime()),
        Column("opened_at", UTCDateTime()),
        Column("lost_at", UTCDateTime()),
        Column("lost_reason", Text),
        *[Column(name, Integer) for name in DAY_COLUMNS],
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    return _TEMPORARY.setdefault(slot, table)


_TEMPORARY: dict[int, Table] = {}


def materialize(scope: Scope, session) -> Scope:
    """Copy the scope's rows of referral_milestone, with their clinic days, once into a
    temporary table (dropped at commit on PostgreSQL; replaced on the next use of the
    connection on SQLite) that the page's queries then read: a fixed number of statements,
    each reading the range's rows only. Not ANALYZEd: the queries over it are scans and
    aggregates whose plans do not depend on its statistics, and ANALYZE cost as much as the
    copy itself."""
    table = _temporary_table(scope.slot)
    connection = session.connection()
    # One statement whether or not this connection still holds the table (SQLite keeps it until
    # the next use; checkfirst would cost a lookup, plus a DROP only when it is there).
    connection.execute(DropTable(table, if_exists=True))
    table.create(connection)
    query = milestones_query(scope)
    session.execute(insert(table).from_select([c.name for c in table.columns], select(*query.c)))
    return scope.with_milestones(table)


def filters(scope: Scope) -> list:
    """The scope's clinic and filters (not the dates) on referral_milestone's columns: the
    treatment is the course's, else the one requested, as Scope.referral_conditions has it."""
    m = ReferralMilestone.__table__.c
    conditions = [m.clinic_id == scope.clinic_id]
    if scope.modality:
        conditions.append(m.modality == scope.modality)
    if scope.practice_id is not None:
        conditions.append(m.practice_id == scope.practice_id)
    if scope.referrer_id is not None:
        conditions.append(m.referrer_id == scope.referrer_id)
    return conditions


def milestones_query(scope: Scope) -> CTE:
    """One row per referral of the clinic received in the range, within the filters, read from
    referral_milestone (portal/measures/milestones.py keeps it in step with the timeline, the
    sessions and the letters), with each milestone's day on the clinic's calendar."""
    m = ReferralMilestone.__table__.c
    cal = scope.calendar
    low, high = scope.received_between
    conditions = [*filters(scope), m.received_at >= low, m.received_at < high]
    return (
        select(
            m.referral_id.label("id"),
            m.patient_id,
            m.practice_id,
            m.referrer_id,
            m.state,
            m.urgency,
            m.requested_modality,
            m.modality,
            m.course_id,
            m.planned,
            m.received_at,
            m.decided_at,
            m.accepted_at,
            m.first_session_on,
            m.sessions_done,
            m.induction_end_on,
            m.summary_signed_at,
            m.opened_at,
            m.lost_at,
            m.lost_reason,
            cal.moment_day(m.received_at).label("received_day"),
            cal.moment_day(m.decided_at).label("decided_day"),
            cal.moment_day(m.accepted_at).label("accepted_day"),
            cal.date_day(m.first_session_on).label("first_session_day"),
            cal.moment_day(m.summary_signed_at).label("summary_day"),
            cal.moment_day(m.opened_at).label("opened_day"),
        )
        .where(*conditions)
        .cte("milestones")
    )


def steps(m: CTE) -> list[tuple[str, object]]:
    """The funnel's steps as conditions on a milestones row, each including the ones before."""
    decided = m.c.decided_at.is_not(None)
    accepted = decided & m.c.accepted_at.is_not(None)
    started = accepted & m.c.first_session_on.is_not(None)
    inducted = started & (m.c.sessions_done >= m.c.planned)
    opened = inducted & m.c.opened_at.is_not(None)
    return [
        ("Received", m.c.id.is_not(None)),
        ("First decision", decided),
        ("Accepted", accepted),
        ("First session", started),
        ("Induction completed", inducted),
        ("Summary letter opened", opened),
    ]


def leakage(scope: Scope, m: CTE):
    """Accepted, and no session within 30 days of the acceptance, once those days are over."""
    accepted_day = m.c.accepted_day
    late = (m.c.first_session_on.is_(None)) | (m.c.first_session_day > accepted_day + LEAKAGE_DAYS)
    from portal.measures.sql import number_of

    return (
        m.c.accepted_at.is_not(None) & late & (accepted_day + LEAKAGE_DAYS < number_of(scope.today))
    )


def funnel_query(scope: Scope) -> Select:
    m = milestones(scope)
    return select(
        *[
            func.sum(case((condition, 1), else_=0)).label(f"s{i}")
            for i, (_, condition) in enumerate(steps(m))
        ]
    )


def lost_query(scope: Scope) -> Select:
    """Referrals lost between steps: declined or cancelled (with the reason written on the
    timeline) and leakage, newest first."""
    m = milestones(scope)
    leaked = leakage(scope, m)
    closed = m.c.state.in_((State.DECLINED, State.CANCELLED))
    return (
        select(
            m.c.id,
            m.c.state,
            leaked.label("leaked"),
            m.c.received_at,
            m.c.accepted_at,
            m.c.first_session_on,
            m.c.sessions_done,
            m.c.planned,
            case((closed, m.c.lost_at)).label("lost_at"),
            case((closed, m.c.lost_reason)).label("reason"),
            func.count().over().label("total"),  # all of them, when a page shows the first
        )
        .where(closed | leaked)
        .order_by(m.c.received_at.desc(), m.c.id.desc())
    )
