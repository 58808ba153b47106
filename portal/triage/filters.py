"""The queue's filters, sort and page, read from a query string through allow-lists, and the
links that carry them (never the search term itself: see portal.triage.search)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from portal.referrals.models import URGENCY_ORDER, Patient, Referral
from portal.referrals.states import OPEN, SENT, State
from portal.referrals.vocab import REQUESTED_MODALITIES, URGENCIES

PAGE_SIZES = (25, 50, 100)
MAX_PAGE = 100_000
# sort key -> column; anything else falls back to the default order.
SORTS = {
    "number": Referral.id,
    "patient": Patient.last_name,
    "dob": Patient.date_of_birth,
    "state": Referral.state,
    "urgency": URGENCY_ORDER,
    "submitted": Referral.submitted_at,
    "updated": Referral.updated_at,
}
DEFAULT_SORT = "priority"  # urgent first, then oldest first
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
SEARCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


NEEDS_ACTION = "action"  # the default tab: what a coordinator should act on now (see queue.py)
TABS = {NEEDS_ACTION, "open", "all"}


@dataclass(frozen=True)
class QueueFilters:
    state: str = NEEDS_ACTION
    urgency: str = ""
    modality: str = ""
    referrer: int | None = None
    provider: str = ""
    overdue: bool = False
    search: str = ""  # the id of a search kept in the session: what links carry
    q: str = ""  # the search term it stands for: never in a link
    sort: str = DEFAULT_SORT
    desc: bool = False
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        """Read the query string (or a posted form); whatever is not on an allow-list is
        ignored. A search term typed as `q` is not read: search ids only."""
        state = args.get("state", NEEDS_ACTION)
        if state not in TABS | {s.value for s in SENT}:
            state = NEEDS_ACTION
        sort = args.get("sort", DEFAULT_SORT)
        return cls(
            state=state,
            urgency=_allowed(args.get("urgency", ""), dict(URGENCIES)),
            modality=_allowed(args.get("modality", ""), dict(REQUESTED_MODALITIES)),
            referrer=_int(args.get("referrer"), 1, 2**31 - 1),
            provider=clean_text(args.get("provider", "")),
            overdue=args.get("overdue") == "1",
            search=_search_id(args.get("search", "")),
            sort=sort if sort in SORTS else DEFAULT_SORT,
            desc=args.get("dir") == "desc",
            page=_int(args.get("page"), 1, MAX_PAGE) or 1,
            per_page=_int(args.get("per_page"), 1, 1000) if args.get("per_page") else 25,
        )

    def __post_init__(self) -> None:
        if self.per_page not in PAGE_SIZES:
            object.__setattr__(self, "per_page", PAGE_SIZES[0])

    def states(self) -> tuple[State, ...]:
        """The states the chosen filter shows: the open ones (needs action is a part of them),
        all sent, or one state."""
        if self.state in ("open", NEEDS_ACTION):
            return OPEN
        if self.state == "all":
            return SENT
        return (State(self.state),)

    def args(self, **changes) -> dict:
        """Query-string arguments for a link to this view with `changes` applied."""
        merged = replace(self, **changes)
        values = {
            "state": merged.state,
            "urgency": merged.urgency,
            "modality": merged.modality,
            "referrer": merged.referrer,
            "provider": merged.provider,
            "overdue": "1" if merged.overdue else "",
            "search": merged.search,
            "sort": merged.sort if merged.sort != DEFAULT_SORT else "",
            "dir": "desc" if merged.desc else "",
            "page": merged.page if merged.page > 1 else "",
            "per_page": merged.per_page if merged.per_page != PAGE_SIZES[0] else "",
        }
        return {k: v for k, v in values.items() if v not in ("", None)}

    def link(self, **changes) -> str:
        """The query string of a link to this view with `changes` applied ("?..." or "")."""
        query = urlencode(self.args(**changes))
        return f"?{query}" if query else ""

    def sort_link(self, key: str) -> str:
        """Link for a column header: sort by it, or flip the direction if already sorted."""
        return self.link(sort=key, desc=not self.desc if self.sort == key else False, page=1)


def clean_text(value: str) -> str:
    """Typed search text without control characters (PostgreSQL refuses NUL), at most 100."""
    return CONTROL_RE.sub("", value).strip()[:100]


def _search_id(value: str) -> str:
    """A search id as made by portal.triage.search (anything else is kept as unknown: "?")."""
    if not value:
        return ""
    return value if SEARCH_ID_RE.match(value) else "?"


def _allowed(value: str, allowed: dict) -> str:
    return value if value in allowed else ""


def _int(value, low: int, high: int) -> int | None:
    if value is None or not str(value).isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None
