"""The funnel from received to the summary letter opened, and the referrals lost on the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.clock import local_time
from portal.extensions import db
from portal.measures.cohort import funnel_query, lost_query
from portal.measures.scope import Scope
from portal.measures.suppression import Cell, chain_cells, small
from portal.measures.tables import Table
from portal.referrals.models import referral_number
from portal.referrals.states import State

LOST_ON_PAGE = 100
STEP_NAMES = [
    "Received",
    "First decision",
    "Accepted",
    "First session",
    "Induction completed (planned sessions done)",
    "Summary letter opened",
]


@dataclass(frozen=True)
class Lost:
    referral_id: int
    what: str  # "Declined", "Cancelled", "Leakage"
    after: str  # the last step reached
    reason: str
    when: datetime | None

    @property
    def number(self) -> str:
        return referral_number(self.referral_id)


def funnel_counts(scope: Scope) -> list[int]:
    row = db.session.execute(funnel_query(scope)).one()
    return [int(v or 0) for v in row]


def funnel_table(scope: Scope, counts: list[int] | None = None) -> Table:
    counts = funnel_counts(scope) if counts is None else counts
    cells = chain_cells(counts)
    received = counts[0]
    rows = []
    for name, count, cell in zip(STEP_NAMES, counts, cells, strict=True):
        hidden = cell.hidden or small(received)
        percent = Cell(100.0 * count / received if received else None, hidden, "%")
        rows.append([name, cell, percent])
    return Table(
        key="funnel",
        title="From referral to letter opened",
        columns=["Step", "Referrals", "Share of those received"],
        rows=rows,
        note=(
            "Each step counts the referrals received in the range that reached it and every "
            "step before it."
        ),
    )


def _lost(row) -> Lost:
    reached = "Received"
    if row.accepted_at is not None:
        reached = "Accepted"
    if row.first_session_on is not None:
        reached = "First session"
    if row.state == State.DECLINED:
        what = "Declined"
    elif row.state == State.CANCELLED:
        what = "Cancelled"
    else:
        what = "Leakage: not started within 30 days of acceptance"
    return Lost(row.id, what, reached, row.reason or "", row.lost_at or row.accepted_at)


def lost_referrals(scope: Scope, limit: int | None = LOST_ON_PAGE) -> tuple[list[Lost], int]:
    """The lost referrals (at most `limit`), and how many there are in all."""
    query = lost_query(scope)
    rows = db.session.execute(query.limit(limit) if limit else query).all()
    total = rows[0].total if rows else 0
    return [_lost(row) for row in rows], total


def lost_table(scope: Scope, limit: int | None = LOST_ON_PAGE) -> Table:
    lost, total = lost_referrals(scope, limit)
    return Table(
        key="lost",
        title="Referrals lost between steps",
        columns=["Referral", "What happened", "Last step reached", "When", "Reason given"],
        rows=[
            [item.number, item.what, item.after, local_time(item.when, "%Y-%m-%d"), item.reason]
            for item in lost
        ],
        note=(
            "For the clinic's own follow-up: each line is a referral the clinic can open. "
            "Lists are not counts and are not shown outside the clinic."
        ),
        more=max(0, total - len(lost)),
        extra={"ids": [item.referral_id for item in lost]},
    )
