"""The coordinators' work queue: one page of the clinic's referrals and its counts per state.

The filters come from portal.triage.filters; the search term itself never travels in a URL:
links carry the id of a search kept in the session (portal.triage.search), and
QueueFilters.q is filled in from it.

A page costs a constant number of queries whatever its size: the state counts and the page's
rows (patient, referrer and coordinator joined in)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select

from portal.audit_shown import record_shown
from portal.auth.models import User
from portal.authorizations.models import PriorAuthorization
from portal.authorizations.service import flagged_referral_ids
from portal.extensions import db
from portal.referrals.models import (
    OPEN_STATE_CONDITION,
    URGENT_FIRST,
    Patient,
    Referral,
    ReferralEvent,
    referral_number,
)
from portal.referrals.states import AWAITING_DECISION, State
from portal.roles import Role
from portal.scheduling.models import ClinicSchedule
from portal.treatment.models import SafetyAlert
from portal.triage.filters import DEFAULT_SORT, NEEDS_ACTION, SORTS, QueueFilters
from portal.triage.sla import add_business_days, due_on, latest_overdue_submission

PATIENT_SORTS = frozenset({"patient", "dob"})
NUMBER_RE = re.compile(r"^(?:KR-?)?0*(\d{1,9})$", re.IGNORECASE)
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


@dataclass
class Person:
    full_name: str
    date_of_birth: date | None = None


@dataclass
class QueueReferral:
    """What a queue row shows of a referral, read as plain columns (no ORM objects to build,
    track and expire: the queue is the busiest page)."""

    id: int
    state: State
    urgency: str
    requested_modality: str
    submitted_at: datetime | None
    first_decided_at: datetime | None
    patient: Person
    referrer: Person
    assigned_coordinator: Person | None
    safety_alert: bool = False  # a PHQ-9 item 9 above 0 that no clinician has reviewed yet
    version: int = 0  # for the row's Open button (optimistic locking)
    # An approved authorization ending within 14 days, or short of units for the booked visits.
    authorization_alert: bool = False

    @property
    def number(self) -> str:
        return referral_number(self.id)


@dataclass
class QueueRow:
    referral: QueueReferral
    due: date | None
    overdue: bool
    submitted_on: date | None = None  # on the clinic's clock, as local_time would show it


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    counts: dict[str, int]
    filters: QueueFilters
    sla: tuple[int, int]
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.filters.per_page))

    def count_of(self, states: Iterable[str]) -> int:
        return sum(self.counts.get(state, 0) for state in states)

    @property
    def needs_action(self) -> int:
        return self.counts.get(NEEDS_ACTION, 0)


def _search(q: str) -> ColumnElement[bool] | None:
    if not q:
        return None
    number = NUMBER_RE.match(q)
    if number:
        return Referral.id == int(number.group(1))
    for fmt in DATE_FORMATS:
        try:
            return Patient.date_of_birth == datetime.strptime(q, fmt).date()  # noqa: DTZ007
        except ValueError:
            continue
    # Every word must begin the first or the last name; LIKE wildcards are escaped.
    words = q.lower().split()[:4]
    return and_(
        *(
            or_(
                func.lower(Patient.first_name).startswith(word, autoescape=True),
                func.lower(Patient.last_name).startswith(word, autoescape=True),
            )
            for word in words
        )
    )


def _providers_named(text: str):
    """Referring providers whose name has every typed word as the start of one of its words."""
    conditions = []
    for word in text.lower().split()[:4]:
        name = func.lower(User.full_name)
        conditions.append(
            or_(name.startswith(word, autoescape=True), name.contains(" " + word, autoescape=True))
        )
    return select(User.id).where(User.role == Role.REFERRER, *conditions)


def _start_of_day_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _cutoffs(settings: ClinicSchedule, today: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The submissions before these (urgent, routine) are overdue on `today`."""
    urgent_before = latest_overdue_submission(today, settings.sla_urgent_days)
    routine_before = latest_overdue_submission(today, settings.sla_routine_days)
    next_day = timedelta(days=1)
    return (
        _start_of_day_utc(urgent_before + next_day, tz),
        _start_of_day_utc(routine_before + next_day, tz),
    )


def _overdue(prefix: str) -> ColumnElement[bool]:
    """Awaiting a first decision past its service level, as one SQL condition; the cutoffs
    (_cutoffs) bound at execution as <prefix>_urgent and <prefix>_routine."""
    return and_(
        Referral.first_decided_at.is_(None),
        Referral.state.in_(AWAITING_DECISION),
        or_(
            and_(
                Referral.urgency == "urgent",
                Referral.submitted_at < bindparam(f"{prefix}_urgent"),
            ),
            and_(
                Referral.urgency != "urgent",
                Referral.submitted_at < bindparam(f"{prefix}_routine"),
            ),
        ),
    )


# Open states whose next step is the coordinator's (scheduled and in-treatment referrals have
# their own tabs: their next step is the treatment).
BEFORE_SCHEDULING = (State.SUBMITTED, State.IN_REVIEW, State.NEEDS_INFO, State.ACCEPTED)
_ANSWERED = (
    select(ReferralEvent.id)
    .where(
        ReferralEvent.referral_id == Referral.id,
        ReferralEvent.kind == "state_change",
        ReferralEvent.from_state == State.NEEDS_INFO.value,
        ReferralEvent.to_state == State.IN_REVIEW.value,
    )
    .exists()
)


def _needs_action() -> ColumnElement[bool]:
    """The default tab: new (submitted), answered by the referrer and back in review, overdue
    or due by the next business day (the cutoffs bound as soon_*), or open before scheduling
    with no coordinator."""
    return or_(
        Referral.state == State.SUBMITTED,
        and_(Referral.state == State.IN_REVIEW, _ANSWERED),
        _overdue("soon"),
        and_(Referral.state.in_(BEFORE_SCHEDULING), Referral.assigned_coordinator_id.is_(None)),
    )


def _order(filters: QueueFilters) -> list:
    if filters.sort == DEFAULT_SORT:
        return [URGENT_FIRST, Referral.submitted_at, Referral.id]
    column = SORTS[filters.sort]
    return [column.desc() if filters.desc else column.asc(), Referral.id]


# What a queue row shows, joined once at import (a request only adds its page of ids and the
# order): the referral with its patient, referrer, coordinator and any unreviewed safety alert.
# The coordinator is an alias of the users' table, not an ORM aliased(User): that would
# configure every mapper at import, and a process that shows no queue need not pay for it.
_COORDINATOR = User.__table__.alias("coordinator")
_OPEN_ALERT = (
    select(SafetyAlert.id)
    .where(SafetyAlert.referral_id == Referral.id, SafetyAlert.reviewed_at.is_(None))
    .exists()
)
# An approved prior authorization: only those rows are checked for expiry and units.
_APPROVED_AUTHORIZATION = (
    select(PriorAuthorization.id)
    .where(PriorAuthorization.referral_id == Referral.id, PriorAuthorization.status == "approved")
    .exists()
)
ROWS = (
    select(
        Referral.id,
        Referral.state,
        Referral.urgency,
        Referral.requested_modality,
        Referral.submitted_at,
        Referral.first_decided_at,
        Patient.first_name,
        Patient.last_name,
        Patient.date_of_birth,
        User.full_name,
        _COORDINATOR.c.full_name,
        _OPEN_ALERT,
        Referral.version,
        _APPROVED_AUTHORIZATION,
    )
    .join(Patient, Patient.id == Referral.patient_id)
    .join(User, User.id == Referral.referrer_id)
    .outerjoin(_COORDINATOR, _COORDINATOR.c.id == Referral.assigned_coordinator_id)
)


def _conditions(filters: QueueFilters) -> tuple[list, ColumnElement[bool] | None]:
    """The filters as SQL conditions, and the search's own condition (None without one); the
    clinic bound at execution as clinic_id."""
    conditions = [Referral.clinic_id == bindparam("clinic_id"), Referral.state != State.DRAFT]
    if filters.urgency:
        conditions.append(Referral.urgency == filters.urgency)
    if filters.modality:
        conditions.append(Referral.requested_modality == filters.modality)
    if filters.referrer:
        conditions.append(Referral.referrer_id == filters.referrer)
    if filters.provider:
        conditions.append(Referral.referrer_id.in_(_providers_named(filters.provider)))
    if filters.overdue:
        conditions.append(_overdue("now"))
    search = _search(filters.q)
    if search is not None:
        conditions.append(search)
    return conditions, search


def _tab(filters: QueueFilters, action: ColumnElement[bool]) -> ColumnElement[bool]:
    """The chosen tab's condition: needs action, the open states (as written in the partial
    index ix_referral_open_queue that serves them), or the states of the tab."""
    if filters.state == NEEDS_ACTION:
        # Every state that can need action is open: saying so lets the default order read
        # ix_referral_open_queue in order and stop at the page, instead of sorting them all.
        return and_(OPEN_STATE_CONDITION, action)
    if filters.state == "open":
        return OPEN_STATE_CONDITION
    return Referral.state.in_(filters.states())


def _statements(filters: QueueFilters):
    """The counts' and the page's statements for these filters (the page number left out).
    Bound at execution: clinic_id, the cutoffs (soon_*, now_*), limit and offset."""
    conditions, search = _conditions(filters)
    # The counts per state and, in the same statement, how many of each need action.
    action = _needs_action()
    counts_stmt = (
        select(Referral.state, func.count(), func.count(case((action, 1))))
        .where(*conditions)
        .group_by(Referral.state)
    )
    if search is not None:
        counts_stmt = counts_stmt.join(Referral.patient)
    # The page's ids come from the referral table alone (sorted, limited); only those 25 or so
    # rows are then joined to their patient, referrer and coordinator: one statement.
    # The open states as written in the partial index (ix_referral_open_queue) that serves it.
    page_ids = (
        select(Referral.id)
        .where(*conditions, _tab(filters, action))
        .order_by(*_order(filters))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    if search is not None or filters.sort in PATIENT_SORTS:
        page_ids = page_ids.join(Referral.patient)
    page_ids = page_ids.subquery()
    rows_stmt = ROWS.join(page_ids, Referral.id == page_ids.c.id).order_by(*_order(filters))
    return counts_stmt, rows_stmt


# Built once per kind of filtering (tab, order, urgency...): the busiest page need not
# rebuild them each time. Never for a search or a provider's name: no typed text is kept.
_kept_statements = lru_cache(maxsize=128)(_statements)


def queue_page(
    user: User, filters: QueueFilters, settings: ClinicSchedule, tz: ZoneInfo
) -> QueuePage:
    """One page of the clinic's queue and its counts per state."""
    today = datetime.now(tz).date()
    typed = filters.q or filters.provider
    build = _statements if typed else _kept_statements
    counts_stmt, rows_stmt = build(replace(filters, page=1, search=""))
    soon = _cutoffs(settings, add_business_days(today, 1), tz)
    now = _cutoffs(settings, today, tz) if filters.overdue else soon
    params = {
        "clinic_id": user.clinic_id,
        "soon_urgent": soon[0],
        "soon_routine": soon[1],
        "now_urgent": now[0],
        "now_routine": now[1],
    }
    counts: dict[str, int] = {}
    counts[NEEDS_ACTION] = 0
    for state, n, needing in db.session.execute(counts_stmt, params):
        counts[state] = n
        counts[NEEDS_ACTION] += needing
    if filters.state == NEEDS_ACTION:
        total = counts[NEEDS_ACTION]
    else:
        total = sum(counts.get(state, 0) for state in filters.states())

    params |= {"limit": filters.per_page, "offset": (filters.page - 1) * filters.per_page}
    referrals = [_referral(row) for row in db.session.execute(rows_stmt, params)] if total else []
    flagged = flagged_referral_ids([r.id for r in referrals if r.authorization_alert], today)
    for r in referrals:
        r.authorization_alert = r.id in flagged
    rows = [_row(r, settings, today, tz) for r in referrals]

    searched = ", searched" if filters.q else ""  # never the term itself
    record_shown(
        "referral.list", "referral", [r.id for r in referrals], actor=user, detail=searched[2:]
    )
    return QueuePage(
        rows,
        total,
        counts,
        filters,
        (settings.sla_urgent_days, settings.sla_routine_days),
    )


def _referral(row) -> QueueReferral:
    (
        rid,
        state,
        urgency,
        modality,
        submitted,
        decided,
        first,
        last,
        born,
        referrer,
        coord,
        alert,
        version,
        approved,
    ) = row
    return QueueReferral(
        rid,
        state,
        urgency,
        modality,
        submitted,
        decided,
        Person(f"{first} {last}", born),
        Person(referrer),
        Person(coord) if coord else None,
        bool(alert),
        version,
        bool(approved),  # replaced by the real check in queue_page
    )


def _row(referral: QueueReferral, settings: ClinicSchedule, today: date, tz: ZoneInfo) -> QueueRow:
    if referral.submitted_at is None:
        return QueueRow(referral, None, False)
    days = settings.sla_urgent_days if referral.urgency == "urgent" else settings.sla_routine_days
    submitted_on = referral.submitted_at.astimezone(tz).date()
    due = due_on(submitted_on, days)
    awaiting = referral.first_decided_at is None and referral.state in AWAITING_DECISION
    return QueueRow(referral, due if awaiting else None, awaiting and today > due, submitted_on)
