"""Where a visit fits on a day: opening hours, chairs, the clinician's hours and how many
patients one clinician supervises at once. Pure: no database.

Times are naive datetimes on the clinic's clock (appointments are booked in the clinic's wall
time). A visit holds its chair from its start to its end (treatment plus recovery or
monitoring); a chair holds one patient at a time; a clinician supervises at most
`chairs_per_clinician` patients at any moment. Start times are on a STEP_MINUTES grid; the first
free one at or after the patient's preferred time is taken, else the nearest before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

STEP_MINUTES = 15
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
Hours = tuple[time, time]


@dataclass(frozen=True)
class Booked:
    """An appointment that holds a chair (booked or attended)."""

    start: datetime
    end: datetime
    chair_id: int
    clinician_id: int | None = None
    referral_id: int | None = None


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    chair_id: int
    chair_name: str

    @property
    def day(self) -> date:
        return self.start.date()

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}, {self.chair_name}"


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


@dataclass
class ClinicCalendar:
    """What limits booking one referral's visits: the clinic's days and hours, its chairs, what
    is already booked, and the visit's length, clinician and preferred time."""

    treatment_weekdays: frozenset[int]
    hours: Mapping[int, Hours]
    chairs: Sequence[tuple[int, str]]
    closed: Mapping[date, str] = field(default_factory=dict)
    booked: Mapping[date, Sequence[Booked]] = field(default_factory=dict)
    # clinician id -> weekday -> hours; a clinician not listed works the opening hours.
    clinician_hours: Mapping[int, Mapping[int, Hours]] = field(default_factory=dict)
    chairs_per_clinician: int = 2
    minutes: int = 100
    clinician_id: int | None = None
    referral_id: int | None = None
    preferred: time | None = None
    _slots: dict[date, Slot | None] = field(default_factory=dict, repr=False)
    _added: dict[date, list[Booked]] = field(default_factory=dict, repr=False)
    _removed: set[Booked] = field(default_factory=set, repr=False)

    def on(self, day: date) -> list[Booked]:
        """What holds a chair on `day`, with the visits added and removed while booking."""
        found = [b for b in self.booked.get(day, ()) if b not in self._removed]
        return found + self._added.get(day, [])

    def add(self, visit: Booked) -> None:
        self._added.setdefault(visit.start.date(), []).append(visit)
        self._slots.pop(visit.start.date(), None)

    def prefer(self, preferred: time | None) -> None:
        """Look for slots from another time of day (forgets the slots found so far)."""
        self.preferred = preferred
        self._slots.clear()

    def remove(self, visit: Booked) -> None:
        """A visit being moved: its chair and time are free for it (and others)."""
        self._removed.add(visit)
        self._slots.pop(visit.start.date(), None)

    def closed_reason(self, day: date) -> str | None:
        """Why the clinic does not treat on `day` at all, or None."""
        if day.weekday() not in self.treatment_weekdays:
            return f"{WEEKDAY_NAMES[day.weekday()]} is not a treatment day"
        if day in self.closed:
            reason = self.closed[day]
            return f"the clinic is closed{f' ({reason})' if reason else ''}"
        return None

    def refusal(self, day: date, extra: int = 0) -> str | None:
        """Why no visit of this referral can go on `day` (`extra`: visits already proposed
        that day), or None when a slot is free."""
        why = self.closed_reason(day)
        if why is not None:
            return why
        if extra or any(b.referral_id == self.referral_id for b in self.on(day)):
            return "the patient already has an appointment that day"
        if self.slot(day) is None:
            return self._why_full(day)
        return None

    def slot(self, day: date) -> Slot | None:
        """The first free slot at or after the preferred time (else the nearest before it)."""
        if day not in self._slots:
            self._slots[day] = next(self.free_slots(day), None)
        return self._slots[day]

    def alternatives(self, day: date, limit: int = 3, gap_minutes: int = 60) -> list[Slot]:
        """Other free starts on `day`, at least `gap_minutes` from the chosen one and from
        each other (a quarter-hour later is not an alternative worth reading)."""
        found: list[Slot] = []
        chosen = self.slot(day)
        taken = [chosen.start] if chosen else []
        gap = timedelta(minutes=gap_minutes)
        for slot in self.free_slots(day):  # nearest the preferred time first
            if all(abs(slot.start - t) >= gap for t in taken):
                found.append(slot)
                taken.append(slot.start)
            if len(found) == limit:
                break
        return found

    def free_slots(self, day: date, *, with_clinician: bool = True) -> Iterator[Slot]:
        window = self._window(day, with_clinician=with_clinician)
        if window is None or self.closed_reason(day) is not None:
            return
        booked = self.on(day)
        by_chair: dict[int, list[Booked]] = {}
        for b in booked:
            by_chair.setdefault(b.chair_id, []).append(b)
        length = timedelta(minutes=self.minutes)
        for start in self._starts(day, window):
            end = start + length
            if with_clinician and not self._clinician_free(start, end, booked):
                continue
            for chair_id, name in self.chairs:
                taken = by_chair.get(chair_id, ())
                if not any(b.start < end and start < b.end for b in taken):
                    yield Slot(start, end, chair_id, name)
                    break

    def check(self, start: datetime, chair_id: int, *, ignore: Booked | None = None) -> str | None:
        """Why a visit cannot start at `start` in chair `chair_id`, or None (booking rechecks
        typed slots with this; `ignore` is the appointment being moved)."""
        day = start.date()
        why = self.closed_reason(day)
        if why is not None:
            return why
        end = start + timedelta(minutes=self.minutes)
        opens, closes = self.hours.get(day.weekday(), (time(0), time(23, 59)))
        if start.time() < opens or end > datetime.combine(day, closes) or end.date() != day:
            return (
                f"{start:%H:%M}-{end:%H:%M} is outside the opening hours "
                f"{opens:%H:%M}-{closes:%H:%M}"
            )
        if chair_id not in {c for c, _ in self.chairs}:
            return "that chair is not in use"
        booked = [b for b in self.on(day) if b != ignore]
        if any(b.referral_id == self.referral_id for b in booked):
            return "the patient already has an appointment that day"
        if any(b.chair_id == chair_id and overlaps(start, end, b.start, b.end) for b in booked):
            name = dict(self.chairs)[chair_id]
            return f"{name} is taken at {start:%H:%M}-{end:%H:%M}"
        window = self._window(day, with_clinician=True)
        if window is None or start.time() < window[0] or end > datetime.combine(day, window[1]):
            return "the clinician does not work at that time"
        if not self._clinician_free(start, end, booked):
            return (
                f"the clinician already supervises {self.chairs_per_clinician} patients "
                f"at {start:%H:%M}-{end:%H:%M}"
            )
        return None

    def _why_full(self, day: date) -> str:
        if self._window(day, with_clinician=True) is None:
            return "the clinician does not work that day"
        if next(self.free_slots(day, with_clinician=False), None) is not None:
            return (
                f"the clinician already supervises {self.chairs_per_clinician} patients "
                "whenever a chair is free"
            )
        return f"no chair is free for {self.minutes} minutes (all {len(self.chairs)} booked)"

    def _window(self, day: date, *, with_clinician: bool) -> Hours | None:
        opens, closes = self.hours.get(day.weekday(), (time(8), time(17)))
        own = self.clinician_hours.get(self.clinician_id) if self.clinician_id else None
        if with_clinician and own:
            if day.weekday() not in own:
                return None
            opens, closes = max(opens, own[day.weekday()][0]), min(closes, own[day.weekday()][1])
        return (opens, closes) if opens < closes else None

    def _starts(self, day: date, window: Hours) -> list[datetime]:
        first = datetime.combine(day, window[0])
        last = datetime.combine(day, window[1]) - timedelta(minutes=self.minutes)
        starts = []
        moment = first
        while moment <= last:
            starts.append(moment)
            moment += timedelta(minutes=STEP_MINUTES)
        preferred = datetime.combine(day, self.preferred or window[0])
        after = [s for s in starts if s >= preferred]
        before = [s for s in reversed(starts) if s < preferred]
        return after + before

    def _clinician_free(self, start: datetime, end: datetime, booked: Sequence[Booked]) -> bool:
        """The clinician supervises fewer than chairs_per_clinician patients at every moment of
        [start, end)."""
        if self.clinician_id is None:
            return True
        theirs = [
            b
            for b in booked
            if b.clinician_id == self.clinician_id and overlaps(start, end, b.start, b.end)
        ]
        if len(theirs) < self.chairs_per_clinician:
            return True
        moments = [start] + [b.start for b in theirs if b.start > start]
        return all(
            sum(1 for b in theirs if b.start <= m < b.end) < self.chairs_per_clinician
            for m in moments
        )
