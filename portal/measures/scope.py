"""What a measures page covers: the clinic, the date range (default the last 90 days), one
treatment, one referring practice or provider, read from the query string and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func

from portal.errors import Invalid
from portal.extensions import db
from portal.measures.sql import Calendar
from portal.referrals.models import Referral
from portal.referrals.vocab import REQUESTED_MODALITIES
from portal.treatment.models import TreatmentCourse

DEFAULT_DAYS = 90
LONGEST_DAYS = 3 * 366
MODALITIES = dict(REQUESTED_MODALITIES)


@dataclass(frozen=True)
class Scope:
    clinic_id: int
    start: date
    end: date
    today: date
    zone: ZoneInfo
    modality: str = ""
    practice_id: int | None = None
    referrer_id: int | None = None
    sla_urgent_days: int = 2
    sla_routine_days: int = 5
    slot: int = 0  # which temporary milestones table (portal.measures.cohort.materialize)
    calendar: Calendar = field(init=False, compare=False)
    milestones: object = field(init=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "milestones", None)
        dialect = db.session.get_bind().dialect.name
        object.__setattr__(
            self, "calendar", Calendar(dialect, self.zone, (self.start, max(self.end, self.today)))
        )

    def narrowed(self, **changes) -> Scope:
        return replace(self, **changes)

    def with_milestones(self, table) -> Scope:
        scope = replace(self)
        object.__setattr__(scope, "milestones", table)
        return scope

    def moment(self, day: date) -> datetime:
        """The UTC moment the clinic's `day` begins."""
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC)

    @property
    def narrow(self) -> bool:
        """A filter beyond the clinic and the dates."""
        return bool(self.modality) or self.practice_id is not None or self.referrer_id is not None

    @property
    def received_between(self) -> tuple[datetime, datetime]:
        return self.moment(self.start), self.moment(self.end + timedelta(days=1))

    def referral_conditions(self) -> list[ColumnElement[bool]]:
        """The filters on a referral (joined with its course, outer) other than the dates."""
        conditions = [Referral.clinic_id == self.clinic_id]
        if self.modality:
            treated = func.coalesce(TreatmentCourse.modality, Referral.requested_modality)
            conditions.append(treated == self.modality)
        if self.practice_id is not None:
            conditions.append(Referral.practice_id == self.practice_id)
        if self.referrer_id is not None:
            conditions.append(Referral.referrer_id == self.referrer_id)
        return conditions

    def received_condition(self) -> ColumnElement[bool]:
        low, high = self.received_between
        return and_(Referral.submitted_at >= low, Referral.submitted_at < high)

    @property
    def query_args(self) -> dict[str, str]:
        """The scope as query-string arguments (links to exports keep the same view)."""
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.modality:
            args["modality"] = self.modality
        if self.practice_id is not None:
            args["practice"] = str(self.practice_id)
        if self.referrer_id is not None:
            args["provider"] = str(self.referrer_id)
        return args


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("Enter the date as YYYY-MM-DD.", field=name) from None


def _number(text: str, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise Invalid("Choose from the list.", field=name)
    return int(text)


def scope_from_args(
    args: Mapping[str, str], *, clinic_id: int, today: date, zone: ZoneInfo, levels=(2, 5)
) -> Scope:
    """The scope the query string asks for; Invalid (naming the field) when it cannot be."""
    end = _day(args["end"], "end") if args.get("end") else today
    start = _day(args["start"], "start") if args.get("start") else end - timedelta(DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid("The start date is after the end date.", field="start")
    if (end - start).days >= LONGEST_DAYS:
        raise Invalid("Choose a range of at most three years.", field="start")
    modality = args.get("modality", "")
    if modality and modality not in MODALITIES:
        raise Invalid("Choose a treatment from the list.", field="modality")
    return Scope(
        clinic_id=clinic_id,
        start=start,
        end=end,
        today=today,
        zone=zone,
        modality=modality,
        practice_id=_number(args.get("practice", ""), "practice"),
        referrer_id=_number(args.get("provider", ""), "provider"),
        sla_urgent_days=levels[0],
        sla_routine_days=levels[1],
    )
