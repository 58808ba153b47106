"""Outcomes at the end of induction: PHQ-9 (and MADRS where recorded) response and remission
among the referrals whose planned sessions are done, by treatment and by referring practice.

Baseline: the referral's baseline score, else the first recorded (as portal/treatment/outcomes
does). End of induction: the latest later score taken on or before the day of the last planned
session. Response: a drop of at least 50%; remission: PHQ-9 below 5, MADRS 10 or below
(DOMAIN.md, portal/scales/scoring.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, and_, case, cast, func, literal, select, union_all

from portal.clinics.models import Practice
from portal.extensions import db
from portal.measures.cohort import milestones
from portal.measures.scope import Scope
from portal.measures.suppression import Cell, share_cells, small
from portal.measures.tables import Table
from portal.referrals.vocab import MODALITY_SHORT
from portal.scales.scoring import MADRS, PHQ9
from portal.treatment.models import Assessment

SCALES = (PHQ9, MADRS)


def _scored(scope: Scope):
    """Per referral that completed induction and scale: baseline and end-of-induction totals,
    read in one pass over the scores (two window functions, then one aggregate)."""
    m = milestones(scope)
    inducted = (
        select(m.c.id, m.c.modality, m.c.practice_id, m.c.referrer_id, m.c.induction_end_on)
        .where(m.c.first_session_on.is_not(None), m.c.sessions_done >= m.c.planned)
        .subquery("inducted")
    )
    keys = (Assessment.referral_id, Assessment.scale)
    ranked = (
        select(
            inducted.c.id,
            inducted.c.modality,
            inducted.c.practice_id,
            inducted.c.referrer_id,
            inducted.c.induction_end_on,
            Assessment.scale,
            Assessment.taken_on,
            Assessment.total,
            Assessment.id.label("assessment_id"),
            func.row_number()
            .over(
                partition_by=keys,
                order_by=(Assessment.is_baseline.desc(), Assessment.taken_on, Assessment.id),
            )
            .label("from_start"),
        )
        .join(inducted, inducted.c.id == Assessment.referral_id)
        .where(Assessment.scale.in_([s.code for s in SCALES]))
        .subquery("ranked")
    )
    # A score after the baseline, on or before the day of the last planned session.
    candidate = and_(ranked.c.from_start > 1, ranked.c.taken_on <= ranked.c.induction_end_on)
    flagged = select(
        ranked,
        candidate.label("candidate"),
        func.row_number()
        .over(
            partition_by=(ranked.c.id, ranked.c.scale, candidate),
            order_by=(ranked.c.taken_on.desc(), ranked.c.assessment_id.desc()),
        )
        .label("from_end"),
    ).subquery("flagged")
    final = func.max(case((flagged.c.candidate & (flagged.c.from_end == 1), flagged.c.total)))
    return (
        select(
            flagged.c.id,
            flagged.c.modality,
            flagged.c.practice_id,
            flagged.c.referrer_id,
            flagged.c.scale,
            func.max(case((flagged.c.from_start == 1, flagged.c.total))).label("baseline"),
            final.label("final"),
        )
        .group_by(
            flagged.c.id,
            flagged.c.modality,
            flagged.c.practice_id,
            flagged.c.referrer_id,
            flagged.c.scale,
        )
        .having(final.is_not(None))
        .cte("scored")
    )


def _remission(scored):
    return case(
        *[(scored.c.scale == s.code, scored.c.final <= s.remission_at_or_below) for s in SCALES],
        else_=False,
    )


def outcomes_query(scope: Scope, *, by: tuple[str, ...]):
    """Per (grouping, group, scale): referrals scored, responders, remitters, for each grouping
    of `by` ("modality", "practice_id", "referrer_id") and "all", from one reading of the
    scores (a common table expression the groupings share)."""
    scored = _scored(scope)
    response = (scored.c.baseline > 0) & (
        (scored.c.baseline - scored.c.final) * 2 >= scored.c.baseline
    )
    columns = (
        func.count().label("scored"),
        func.sum(case((response, 1), else_=0)).label("responders"),
        func.sum(case((_remission(scored), 1), else_=0)).label("remitters"),
    )
    parts = [
        select(
            literal(name).label("grouping"), cast(scored.c[name], String).label("grp"),
            scored.c.scale, *columns,
        ).group_by(scored.c[name], scored.c.scale)
        for name in by
    ]  # fmt: skip
    everyone = select(literal("all").label("grouping"), literal("all").label("grp"))
    parts.append(everyone.add_columns(scored.c.scale, *columns).group_by(scored.c.scale))
    return union_all(*parts)


def outcomes_by(scope: Scope, by: tuple[str, ...]) -> dict[str, dict[tuple[str, str], Outcome]]:
    """{grouping: {(group as text or "all", scale code): Outcome}}; "all" in every grouping."""
    found: dict[str, dict] = {name: {} for name in by}
    for row in db.session.execute(outcomes_query(scope, by=by)):
        outcome = Outcome(row.scored, int(row.responders), int(row.remitters))
        for name in by if row.grouping == "all" else (row.grouping,):
            found[name][(row.grp, row.scale)] = outcome
    return found


@dataclass(frozen=True)
class Outcome:
    scored: int
    responders: int
    remitters: int

    def cells(self) -> list[Cell]:
        response, response_pct = share_cells(self.responders, self.scored)
        remission, remission_pct = share_cells(self.remitters, self.scored)
        return [Cell(self.scored, small(self.scored)), response_pct, remission_pct]


def outcomes(scope: Scope, *, by: str) -> dict[tuple[str, str], Outcome]:
    """{(group as text or "all", scale code): Outcome}."""
    return outcomes_by(scope, (by,))[by]


EMPTY = Outcome(0, 0, 0)
COLUMNS = [
    "Patients who completed induction, scored",
    "Response (50% drop or more)",
    "Remission",
]


def _table(key: str, title: str, first: str, groups: list[tuple[str, str]], found) -> Table:
    rows = []
    for scale in SCALES:
        for code, label in [*groups, ("all", "All")]:
            outcome = found.get((code, scale.code), EMPTY)
            if code != "all" and outcome is EMPTY:
                continue
            rows.append([scale.code, label, *outcome.cells()])
    return Table(
        key=key,
        title=title,
        columns=["Scale", first, *COLUMNS],
        rows=rows,
        note=(
            "Baseline (the referral's, else the first score) against the last score on or "
            "before the last planned induction session. Remission: PHQ-9 below 5, MADRS 10 or "
            "below."
        ),
    )


def by_modality_table(scope: Scope, found=None) -> Table:
    found = outcomes(scope, by="modality") if found is None else found
    groups = [(code, label) for code, label in MODALITY_SHORT.items()]
    return _table(
        "outcomes-treatment",
        "Outcomes at the end of induction, by treatment",
        "Treatment",
        groups,
        found,
    )


def by_practice_table(scope: Scope, found=None) -> Table:
    found = outcomes(scope, by="practice_id") if found is None else found
    ids = sorted({int(g) for g, _ in found if g not in ("all", None)})
    rows = db.session.execute(select(Practice.id, Practice.name).where(Practice.id.in_(ids)))
    names = {i: name for i, name in rows}  # noqa: C416 - dict() refuses Row
    groups = [(str(i), names.get(i, "")) for i in ids]
    return _table(
        "outcomes-practice",
        "Outcomes at the end of induction, by referring practice",
        "Referring practice",
        groups,
        found,
    )
