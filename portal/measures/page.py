"""The clinic's measures page and the referrer's own page, gathered from the measures' queries
(a fixed number of statements whatever the data), with their charts."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import exists, select

from portal.auth.models import User
from portal.clinics.models import Practice
from portal.extensions import db
from portal.measures import activity, funnel, results, times, volume
from portal.measures.charts import Bar, bar_chart
from portal.measures.cohort import materialize
from portal.measures.scope import Scope
from portal.measures.suppression import Cell, share_cells, small, statistic_cell
from portal.measures.tables import Table
from portal.referrals.models import Referral
from portal.roles import Role


@dataclass(frozen=True)
class Section:
    heading: str
    tables: list[Table]
    chart: Markup | None = None


def _weekly_chart(table: Table) -> Markup:
    bars = [Bar(row[0].removeprefix("Week of "), row[-1]) for row in table.rows[:-1]]
    return bar_chart(
        "chart-volume",
        "Referrals received per week",
        "Referrals received each week of the range, all treatments together; the table "
        "below gives the figures by requested treatment.",
        bars,
    )


def _funnel_chart(table: Table) -> Markup:
    return bar_chart(
        "chart-funnel",
        "From referral to letter opened",
        "Share of the referrals received that reached each step; the table below gives the counts.",
        [Bar(row[0], row[2]) for row in table.rows],
        percent=True,
    )


def _outcomes_chart(table: Table) -> Markup:
    bars = []
    for row in table.rows:
        if row[0] == "PHQ-9":
            bars.append(Bar(f"{row[1]}: response", row[3]))
            bars.append(Bar(f"{row[1]}: remission", row[4]))
    return bar_chart(
        "chart-outcomes",
        "PHQ-9 response and remission at the end of induction",
        "Share of patients who completed induction with a response (50% drop or more) and in "
        "remission (PHQ-9 below 5), by treatment; the table below gives the figures.",
        bars,
        percent=True,
    )


def clinic_sections(scope: Scope) -> list[Section]:
    scope = materialize(scope, db.session)
    weekly = volume.weekly_table(scope)
    funnel_table = funnel.funnel_table(scope)
    found = results.outcomes_by(scope, ("modality", "practice_id"))
    by_modality = results.by_modality_table(scope, found["modality"])
    sessions = activity.session_figures(scope)  # the REMS and adverse-event tables share it
    return [
        Section("Volume", [weekly, volume.practice_table(scope)], _weekly_chart(weekly)),
        Section("Funnel", [funnel_table, funnel.lost_table(scope)], _funnel_chart(funnel_table)),
        Section("Times", [times.times_table(scope), times.service_level_table(scope)]),
        Section(
            "Visits and REMS forms",
            [
                activity.visits_table(scope),
                activity.rems_table(scope, sessions),
                activity.rems_late_table(scope, activity.REMS_LATE_ON_PAGE, sessions),
            ],
        ),
        Section(
            "Outcomes",
            [
                by_modality,
                results.by_practice_table(scope, found["practice_id"]),
                activity.adverse_events_table(scope, sessions),
            ],
            _outcomes_chart(by_modality),
        ),
    ]


def table(key: str, scope: Scope) -> Table:
    """One table of the page, for its CSV."""
    return TABLES[key](materialize(scope, db.session))


TABLES = {
    "volume-weekly": volume.weekly_table,
    "volume-practice": volume.practice_table,
    "funnel": funnel.funnel_table,
    "lost": lambda scope: funnel.lost_table(scope, limit=None),
    "times": times.times_table,
    "service-level": times.service_level_table,
    "visits": activity.visits_table,
    "rems": activity.rems_table,
    "rems-late": lambda scope: activity.rems_late_table(scope, limit=None),
    "outcomes-treatment": results.by_modality_table,
    "outcomes-practice": results.by_practice_table,
    "adverse-events": activity.adverse_events_table,
}


def referring_practices(clinic_id: int) -> list[tuple[int, str]]:
    """Practices that sent the clinic at least one referral (the filter's choices)."""
    sent = exists().where(Referral.practice_id == Practice.id, Referral.clinic_id == clinic_id)
    return list(
        db.session.execute(select(Practice.id, Practice.name).where(sent).order_by(Practice.name))
    )


def referring_providers(clinic_id: int) -> list[tuple[int, str]]:
    sent = exists().where(Referral.referrer_id == User.id, Referral.clinic_id == clinic_id)
    return list(
        db.session.execute(
            select(User.id, User.full_name)
            .where(User.role == Role.REFERRER, sent)
            .order_by(User.full_name, User.id)
        )
    )


@dataclass(frozen=True)
class Summary:
    """What a referrer's page (and the practice report) shows of one group of referrals."""

    received: Cell
    accepted: Cell
    accepted_share: Cell
    first_session_median: Cell
    inducted: Cell
    response: Cell
    remission: Cell

    def rows(self) -> list[tuple[str, Cell]]:
        return [
            ("Referrals received", self.received),
            ("Accepted", self.accepted),
            ("Share accepted", self.accepted_share),
            ("Median time from referral to first treatment", self.first_session_median),
            ("Completed induction", self.inducted),
            ("PHQ-9 response at the end of induction", self.response),
            ("PHQ-9 remission at the end of induction", self.remission),
        ]


COUNT_ROWS = (0, 1, 4)  # received, accepted, completed induction: counts of nested groups


def side_by_side(summaries: list[Summary]) -> list[tuple[str, list[Cell]]]:
    """The summaries of nested groups (the provider's within the practice's within the
    clinic's) as rows of cells. A count a wider group shows is hidden when it exceeds the
    narrower group's by fewer than 11: the difference would count the others' patients."""
    rows = []
    for i, (label, _) in enumerate(summaries[0].rows()):
        cells = [s.rows()[i][1] for s in summaries]
        if i in COUNT_ROWS:
            shown = None
            for j, cell in enumerate(cells):
                if not cell.hidden and shown is not None and small(cell.value - shown):
                    cells[j] = Cell(cell.value, True)
                elif not cell.hidden:
                    shown = cell.value
        rows.append((label, cells))
    return rows


def summary(scope: Scope) -> Summary:
    """The referrer's figures for `scope`, each under the small-number rule."""
    scope = materialize(scope, db.session)
    counts = funnel.funnel_counts(scope)
    received, accepted, inducted = counts[0], counts[2], counts[4]
    accepted_cell, accepted_share = share_cells(accepted, received)
    found = {row.measure: row for row in db.session.execute(times.times_query(scope))}
    first = found.get("first_session")
    median = float(first.median) if first is not None else None
    phq9 = results.outcomes(scope, by="modality").get(("all", "PHQ-9"), results.EMPTY)
    return Summary(
        received=Cell(received, received < 11),
        accepted=accepted_cell,
        accepted_share=accepted_share,
        first_session_median=statistic_cell(median, first.n if first else 0, " days"),
        inducted=Cell(inducted, inducted < 11),
        response=share_cells(phq9.responders, phq9.scored)[1],
        remission=share_cells(phq9.remitters, phq9.scored)[1],
    )
