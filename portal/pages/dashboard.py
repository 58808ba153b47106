"""The referrer's dashboard: every referral they can see, where it stands, and what is new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlalchemy.orm import contains_eager, joinedload

from portal.audit_shown import record_shown
from portal.extensions import db
from portal.messages.service import News, news_for
from portal.pages import dashboard_cells as cells
from portal.referrals.models import Patient, Referral
from portal.referrals.queries import visible_to_referrer
from portal.referrals.states import AWAITING_DECISION, CLOSED, IN_CARE, State
from portal.scheduling.queries import next_visits
from portal.treatment.queries import Progress

if TYPE_CHECKING:
    from portal.auth.models import User

# The dashboard's groups: key (in the URL) -> (label, states; None for every state).
FILTERS: dict[str, tuple[str, list[State] | None]] = {
    "all": ("All", None),
    "answer": ("Needs your answer", [State.NEEDS_INFO]),
    # With the clinic: waiting for its decision, or in its care.
    "active": ("In progress", [*AWAITING_DECISION, *IN_CARE]),
    State.DRAFT.value: ("Drafts", [State.DRAFT]),
    "closed": ("Closed", list(CLOSED)),
}
EVENT_WORDS = {
    "session_recorded": "Session documented",
    "letter_issued": "Letter issued",
    "intake_updated": "Intake updated",
    "attachment_added": "File attached",
    "no_show": "Missed appointment",
}


# A page of the dashboard: enough to scan, and a cost that does not grow with the practice.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Row:
    referral: Referral
    patient_name: str
    last_event: str
    last_event_at: datetime | None
    sessions_done: int | None
    sessions_planned: int | None
    phq9: Progress | None
    news: News
    next_appointment: datetime | None = None  # on the clinic's clock


@dataclass(frozen=True)
class DashboardPage:
    rows: list[Row]
    number: int  # 1 for the first page
    pages: int  # at least 1, even when there is nothing to show
    total: int  # referrals in the group, state or search, on every page


def _listed(user: User):
    """What the dashboard lists: everything visible except drafts discarded unsent."""
    discarded = (Referral.state == State.CANCELLED) & Referral.patient_id.is_(None)
    return visible_to_referrer(user).where(~discarded)


def chosen_state(value: str | None) -> State | None:
    """The single state asked for (?state=scheduled), or None for an unknown or empty value."""
    return State(value) if value in set(State) else None


def page_number(value: str | None) -> int:
    """The page asked for (?page=2), 1 for anything that is not a page number."""
    return int(value) if value and value.isdigit() and 0 < len(value) < 7 else 1


def dashboard_page(
    user: User,
    per_state: dict[State, int],
    filter_key: str = "all",
    search: str = "",
    state: State | None = None,
    number: int = 1,
) -> DashboardPage:
    """One page of the referrals of a group (FILTERS), or of one state when `state` is given,
    newest change first. `per_state` (state_counts) gives the total without another count,
    unless a name is searched. A page past the last shows the last."""
    _, states = FILTERS.get(filter_key, FILTERS["all"])
    if state is not None:
        states = [state]
    stmt = _listed(user).outerjoin(Referral.patient)
    if states:
        stmt = stmt.where(Referral.state.in_(states))
    term = search.strip()[:100].lower()
    if term:  # wildcards typed by the user are literal (autoescape), as in the clinic's queue
        full = func.lower(Patient.first_name + " " + Patient.last_name)
        stmt = stmt.where(full.contains(term, autoescape=True))
        total = db.session.scalar(stmt.with_only_columns(func.count(Referral.id))) or 0
    else:
        total = sum(n for s, n in per_state.items() if states is None or s in states)
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(number, 1), pages)
    stmt = (
        stmt.options(contains_eager(Referral.patient), joinedload(Referral.referrer))
        .order_by(Referral.updated_at.desc(), Referral.id.desc())
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    )
    referrals = list(db.session.scalars(stmt).unique())
    record_shown(
        "referral.list",
        "referral",
        [r.id for r in referrals],
        actor=user,
        detail=f"filter {state or filter_key}"
        + (", searched" if term else "")
        + (f", page {number}" if number > 1 else ""),
    )
    return DashboardPage(_rows(user, referrals), number, pages, total)


def _rows(user: User, referrals: list[Referral]) -> list[Row]:
    """The rows of a page: each cell read for the whole page at once (dashboard_cells)."""
    ids = [r.id for r in referrals]
    news = news_for(user, referrals, cells.latest_final_letters(ids))
    upcoming = next_visits(ids)
    events = cells.last_events(ids)
    sessions = cells.sessions_done(ids)
    phq9 = cells.scale_progresses(ids)
    rows = []
    for referral in referrals:
        last = events.get(referral.id)
        course = sessions.get(referral.id)
        rows.append(
            Row(
                referral=referral,
                patient_name=_name(referral),
                last_event=_event_words(last) if last else "Draft started",
                last_event_at=last.at if last else referral.created_at,
                sessions_done=course.done if course else None,
                sessions_planned=course.planned if course else None,
                phq9=phq9.get(referral.id),
                news=news.get(referral.id, News()),
                next_appointment=upcoming.get(referral.id),
            )
        )
    return rows


def _name(referral: Referral) -> str:
    if referral.patient is not None:
        return referral.patient.full_name
    typed = referral.form_data or {}
    name = " ".join(
        (typed.get(key) or [""])[0].strip() for key in ("first_name", "last_name")
    ).strip()
    return name or "Untitled draft"


def _event_words(event: cells.LastEvent) -> str:
    if event.kind == "state_change" and event.to_state:
        return State(event.to_state).label
    return EVENT_WORDS.get(event.kind, event.kind.replace("_", " ").capitalize())


def state_counts(user: User) -> dict[State, int]:
    """How many referrals are in each state the user's referrals are in, in the state
    machine's order, in one query."""
    result = db.session.execute(
        _listed(user)
        .with_only_columns(Referral.state, func.count(Referral.id))
        .group_by(Referral.state)
    )
    per_state = {State(state): n for state, n in result.all()}
    return {state: per_state[state] for state in State if state in per_state}


def counts(per_state: dict[State, int]) -> dict[str, int]:
    """How many referrals each group of FILTERS holds."""
    return {
        key: sum(per_state.get(s, 0) for s in (states or per_state.keys()))
        for key, (_, states) in FILTERS.items()
    }
