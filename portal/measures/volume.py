"""Volume: referrals received per week by requested treatment, and by referring practice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.clinics.models import Practice
from portal.extensions import db
from portal.measures.cohort import milestones
from portal.measures.scope import Scope
from portal.measures.sql import day_of, number_of
from portal.measures.suppression import table_cells
from portal.measures.tables import Table
from portal.referrals.vocab import MODALITY_SHORT, REQUESTED_MODALITIES


def _monday(day_number):
    return day_number - (day_number + 3) % 7


def weekly_table(scope: Scope) -> Table:
    c = milestones(scope)
    week = _monday(c.c.received_day).label("week")
    counts = {
        (w, modality): n
        for w, modality, n in db.session.execute(
            select(week, c.c.requested_modality, func.count()).group_by(
                week, c.c.requested_modality
            )
        )
    }
    modalities = [code for code, _ in REQUESTED_MODALITIES]
    first = number_of(scope.start) - (number_of(scope.start) + 3) % 7
    weeks = list(range(first, number_of(scope.end) + 1, 7))
    cells = table_cells([[counts.get((w, m), 0) for m in modalities] for w in weeks])
    labels = [f"Week of {day_of(w):%a %Y-%m-%d}" for w in weeks] + ["All weeks"]
    return Table(
        key="volume-weekly",
        title="Referrals received per week, by requested treatment",
        columns=["Week", *[MODALITY_SHORT[m] for m in modalities], "All treatments"],
        rows=[[label, *row] for label, row in zip(labels, cells, strict=True)],
        note="Weeks start on Monday; the first and last may be partly outside the range.",
        extra={"week_days": [day_of(w) for w in weeks], "last_day": scope.end + timedelta(0)},
    )


def practice_table(scope: Scope) -> Table:
    c = milestones(scope)
    rows = db.session.execute(
        select(Practice.name, func.count())
        .select_from(c)
        .outerjoin(Practice, Practice.id == c.c.practice_id)
        .group_by(c.c.practice_id, Practice.name)
        .order_by(func.count().desc(), Practice.name)
    ).all()
    cells = table_cells([[n] for _, n in rows])
    labels = [name or "No practice recorded" for name, _ in rows] + ["All practices"]
    return Table(
        key="volume-practice",
        title="Referrals received, by referring practice",
        columns=["Referring practice", "Received"],
        rows=[[label, row[0]] for label, row in zip(labels, cells, strict=True)],
    )
