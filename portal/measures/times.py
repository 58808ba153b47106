"""Times along the loop, each as median and 90th percentile, and the share of first decisions
within the service level (urgent and routine apart), from the timeline's events."""

from __future__ import annotations

from sqlalchemy import case, func, literal, select, union_all

from portal.extensions import db
from portal.measures.cohort import milestones
from portal.measures.scope import Scope
from portal.measures.sql import business_days, number_of, percentiles, within_service_level
from portal.measures.suppression import Cell, share_cells, statistic_cell, table_cells
from portal.measures.tables import Table
from portal.referrals.states import AWAITING_DECISION

# (key, label, unit)
MEASURES = [
    ("decision", "Received to first decision", " business days"),
    ("decision_urgent", "Received to first decision, urgent referrals", " business days"),
    ("decision_routine", "Received to first decision, routine referrals", " business days"),
    ("first_session", "Received to first session", " days"),
    ("summary", "Received to signed treatment summary letter", " days"),
    ("opened", "Summary letter signed to first opened", " days"),
]


def times_query(scope: Scope):
    m = milestones(scope)
    received = m.c.received_day
    decided = m.c.decided_day

    def rows(key, value, *conditions):
        return select(literal(key).label("measure"), value.label("value")).where(*conditions)

    decision = business_days(received, decided)
    values = union_all(
        rows("decision", decision, m.c.decided_at.is_not(None)),
        rows("decision_urgent", decision, m.c.decided_at.is_not(None), m.c.urgency == "urgent"),
        rows("decision_routine", decision, m.c.decided_at.is_not(None), m.c.urgency != "urgent"),
        rows(
            "first_session",
            m.c.first_session_day - received,
            m.c.first_session_on.is_not(None),
        ),
        rows(
            "summary",
            m.c.summary_day - received,
            m.c.summary_signed_at.is_not(None),
        ),
        rows(
            "opened",
            m.c.opened_day - m.c.summary_day,
            m.c.opened_at.is_not(None),
        ),
    ).subquery("measured")
    return percentiles(values, "measure")


def times_table(scope: Scope) -> Table:
    found = {row.measure: row for row in db.session.execute(times_query(scope))}
    rows = []
    for key, label, unit in MEASURES:
        row = found.get(key)
        n = row.n if row else 0
        median = float(row.median) if row and row.median is not None else None
        p90 = float(row.p90) if row and row.p90 is not None else None
        rows.append(
            [label, Cell(n, n < 11), statistic_cell(median, n, unit), statistic_cell(p90, n, unit)]
        )
    # All decisions = urgent + routine: one count hidden alone would be the total less the other.
    counts = table_cells([[rows[1][1].value, rows[2][1].value]])[0]
    for i, cell in ((1, counts[0]), (2, counts[1]), (0, counts[2])):
        rows[i][1] = cell
    return Table(
        key="times",
        title="Times along the loop",
        columns=["Measure", "Referrals measured", "Median", "90th percentile"],
        rows=rows,
        note=(
            "Days on the clinic's calendar. Business days count Monday to Friday after the day "
            "of receipt. The 90th percentile is the nearest-rank value: at least 9 in 10 took "
            "that long or less."
        ),
    )


def service_level_query(scope: Scope):
    """Per urgency: the referrals measured against the service level (decided, or still
    waiting past it today) and those decided within it."""
    m = milestones(scope)
    received = m.c.received_day
    level = case((m.c.urgency == "urgent", scope.sla_urgent_days), else_=scope.sla_routine_days)
    decided = m.c.decided_at.is_not(None)
    waiting_late = (
        m.c.decided_at.is_(None)
        & m.c.state.in_(AWAITING_DECISION)
        & ~within_service_level(received, number_of(scope.today), level)
    )
    on_time = decided & within_service_level(received, m.c.decided_day, level)
    flags = select(
        case((m.c.urgency == "urgent", "urgent"), else_="routine").label("urgency"),
        case((decided | waiting_late, 1), else_=0).label("measured"),
        case((on_time, 1), else_=0).label("within"),
    ).subquery("flags")
    return select(
        flags.c.urgency,
        func.sum(flags.c.measured).label("measured"),
        func.sum(flags.c.within).label("within"),
    ).group_by(flags.c.urgency)


def service_level_table(scope: Scope) -> Table:
    found = {row.urgency: row for row in db.session.execute(service_level_query(scope))}
    rows = []
    for urgency, label, days in (
        ("urgent", "Urgent", scope.sla_urgent_days),
        ("routine", "Routine", scope.sla_routine_days),
    ):
        row = found.get(urgency)
        measured, within = (int(row.measured or 0), int(row.within or 0)) if row else (0, 0)
        count, percent = share_cells(within, measured)
        rows.append(
            [
                f"{label} (within {days} business days)",
                Cell(measured, measured < 11),
                count,
                percent,
            ]
        )
    return Table(
        key="service-level",
        title="First decisions within the service level",
        columns=["Urgency", "Referrals measured", "Decided in time", "Share in time"],
        rows=rows,
        note=(
            "Measured: referrals with a first decision (a question, an acceptance or a decline), "
            "and those still waiting for one after their last day."
        ),
    )
