"""Schedule generation (pure): each shipped protocol, closed dates, chairs, weekends; SLA days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from portal.errors import Invalid
from portal.scheduling.generation import (
    ClinicCalendar,
    Phase,
    parse_phases,
    propose,
    session_count,
)
from portal.scheduling.protocols import SHIPPED_PROTOCOLS, default_protocol_code
from portal.scheduling.slots import Booked
from portal.triage.sla import add_business_days, is_overdue, latest_overdue_submission

MONDAY = date(2026, 11, 30)
WEEKDAYS = frozenset(range(5))
SHIPPED = {p["code"]: p for p in SHIPPED_PROTOCOLS}


CHAIRS = [(1, "Chair 1"), (2, "Chair 2"), (3, "Chair 3"), (4, "Chair 4")]
HOURS = {d: (time(8), time(17)) for d in range(7)}


def all_day(day: date, chairs: int) -> list[Booked]:
    """`chairs` chairs taken from opening to closing on `day`."""
    return [
        Booked(datetime.combine(day, time(8)), datetime.combine(day, time(17)), n, None, 100 + n)
        for n in range(1, chairs + 1)
    ]


def calendar(**kw) -> ClinicCalendar:
    """Four chairs open 8-17; `booked` as {day: chairs taken all day}."""
    booked = {day: all_day(day, n) for day, n in kw.pop("booked", {}).items()}
    return ClinicCalendar(
        treatment_weekdays=kw.pop("weekdays", WEEKDAYS),
        hours=HOURS,
        chairs=CHAIRS,
        booked=booked,
        referral_id=1,
        **kw,
    )


def plan(code: str, start: date = MONDAY, cal: ClinicCalendar | None = None):
    protocol = SHIPPED[code]
    return propose(
        parse_phases(protocol["phases"]), start, cal or calendar(), protocol["preferred_weekdays"]
    )


def days(visits) -> list[date]:
    return [v.day for v in visits]


def test_iv_induction_is_six_infusions_monday_wednesday_friday_over_two_weeks():
    visits = plan("iv_induction")
    assert [d.strftime("%a %d") for d in days(visits)] == [
        "Mon 30", "Wed 02", "Fri 04", "Mon 07", "Wed 09", "Fri 11",
    ]  # fmt: skip
    assert all(v.note == "" for v in visits)


def test_iv_taper_is_three_two_one_one_one_then_monthly():
    visits = plan("iv_taper")
    assert len(visits) == 3 + 2 + 3 + 3
    weeks = [v.week for v in visits]
    assert weeks == [1, 1, 1, 2, 2, 3, 4, 5, 6, 10, 14]
    last = days(visits)[-3:]
    gaps = [(last[1] - last[0]).days, (last[2] - last[1]).days]
    assert gaps == [28, 28]  # monthly maintenance


def test_spravato_label_twice_weekly_then_weekly_then_every_two_weeks():
    visits = plan("spravato_label")
    assert len(visits) == 8 + 4 + 4
    assert [v.week for v in visits[:8]] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert {d.weekday() for d in days(visits[:8])} == {0, 3}  # Monday and Thursday
    assert [v.week for v in visits[8:]] == [5, 6, 7, 8, 9, 11, 13, 15]


def test_custom_plan_spreads_sessions_over_the_week_without_a_preference():
    visits = propose([Phase(2, 2)], MONDAY, calendar())
    assert [d.strftime("%a") for d in days(visits)] == ["Mon", "Thu", "Mon", "Thu"]
    assert session_count(parse_phases(SHIPPED["custom"]["phases"])) == 4


def test_weekends_are_never_proposed_when_not_treatment_days():
    saturday = MONDAY + timedelta(days=5)
    visits = propose([Phase(3, 5)], saturday, calendar())
    assert len(visits) == 15
    assert all(d.weekday() < 5 for d in days(visits))
    assert len(set(days(visits))) == 15


def test_a_closed_wednesday_moves_the_infusion_and_says_why():
    closed = {MONDAY + timedelta(days=2): "Staff training"}
    visits = plan("iv_induction", cal=calendar(closed=closed))
    assert MONDAY + timedelta(days=2) not in days(visits)
    assert len(visits) == 6
    moved = [v for v in visits if v.note]
    assert moved
    assert "closed (Staff training)" in moved[0].note
    assert days(visits) == sorted(days(visits))


def test_a_full_day_is_never_used_and_chairs_are_counted():
    full = {MONDAY: 4, MONDAY + timedelta(days=2): 3}  # 4 chairs: Monday full, Wednesday 1 left
    visits = plan("iv_induction", cal=calendar(booked=full))
    assert MONDAY not in days(visits)
    assert MONDAY + timedelta(days=2) in days(visits)
    assert "no chair is free for 100 minutes (all 4 booked)" in visits[0].note


def test_no_room_in_a_week_carries_the_visit_after_it():
    week = {MONDAY + timedelta(days=i): "Holiday week" for i in range(5)}
    visits = plan("iv_induction", cal=calendar(closed=week))
    assert len(visits) == 6
    assert all(v.day >= MONDAY + timedelta(days=7) for v in visits)
    assert "No free treatment day left in week 1" in visits[0].note


def test_no_free_day_at_all_is_shown_not_invented():
    visits = propose([Phase(1, 1)], MONDAY, calendar(weekdays=frozenset()))
    assert visits[0].day is None
    assert "add this visit by hand" in visits[0].note


@pytest.mark.parametrize(
    ("modality", "code"),
    [
        ("spravato", "spravato_label"),
        ("iv_ketamine", "iv_induction"),
        ("clinic_choice", "iv_induction"),
    ],
)
def test_the_default_protocol_of_each_treatment(modality, code):
    assert default_protocol_code(modality) == code
    assert code in {p["code"] for p in SHIPPED_PROTOCOLS}


def test_every_shipped_protocol_validates():
    for protocol in SHIPPED_PROTOCOLS:
        assert session_count(parse_phases(protocol["phases"])) >= 4


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        ([], "at least one phase"),
        ([{"weeks": 0, "per_week": 1}], "between 1 and 52 weeks"),
        ([{"weeks": 2, "per_week": 8}], "between 1 and 7"),
        ([{"weeks": 2, "per_week": 1, "every": 13}], "between 1 and 12"),
        ([{"weeks": "x", "per_week": 1}], "are numbers"),
        ([{"weeks": 52, "per_week": 7}], "At most 60"),
    ],
)
def test_invalid_phases_are_refused_with_a_reason(phases, message):
    with pytest.raises(Invalid, match=message):
        parse_phases(phases)


def test_business_days_skip_weekends():
    friday = date(2026, 11, 27)
    assert add_business_days(friday, 2) == date(2026, 12, 1)  # Tuesday
    assert not is_overdue(friday, 2, date(2026, 12, 1))
    assert is_overdue(friday, 2, date(2026, 12, 2))


@pytest.mark.parametrize("sla", [1, 2, 5])
def test_latest_overdue_submission_matches_is_overdue(sla):
    for offset in range(14):
        today = MONDAY + timedelta(days=offset)
        cutoff = latest_overdue_submission(today, sla)
        assert is_overdue(cutoff, sla, today)
        assert not is_overdue(cutoff + timedelta(days=1), sla, today)


def test_only_the_visit_that_moved_carries_the_closed_day_note():
    # Started on Tuesday 01 Dec, the first 7-day block ends on Monday 07 Dec, which is closed:
    # that visit moves to the first free day of the block (the Tuesday itself); Wednesday and
    # Friday stay where the protocol puts them and carry no note.
    cal = calendar(closed={date(2026, 12, 7): "Staff training"})
    visits = plan("iv_induction", start=MONDAY + timedelta(days=1), cal=cal)
    week1 = [v for v in visits if v.week == 1]
    assert [(v.day.strftime("%a %d"), bool(v.note)) for v in week1] == [
        ("Tue 01", True), ("Wed 02", False), ("Fri 04", False),
    ]  # fmt: skip
    assert "Mon 07 Dec: the clinic is closed (Staff training)" in week1[0].note


def test_a_visit_goes_to_the_first_free_time_after_the_preferred_one_and_says_so():
    taken = {MONDAY: 4}  # every chair all day, on Monday only
    cal = calendar(booked=taken, preferred=time(9, 0))
    busy_morning = [
        Booked(datetime.combine(MONDAY + timedelta(days=2), time(8)),
               datetime.combine(MONDAY + timedelta(days=2), time(11)), n, None, 200 + n)
        for n in range(1, 5)
    ]  # fmt: skip
    cal.booked[MONDAY + timedelta(days=2)] = busy_morning
    visits = plan("iv_induction", cal=cal)
    wednesday = next(v for v in visits if v.day == MONDAY + timedelta(days=2))
    assert wednesday.slot.start.time() == time(11, 0)
    assert "09:00 is taken" in wednesday.note
    assert [a.start.time() for a in wednesday.alternatives] == [
        time(12, 0),
        time(13, 0),
        time(14, 0),
    ]
    friday = next(v for v in visits if v.day == MONDAY + timedelta(days=4))
    assert friday.slot.start.time() == time(9, 0)
    assert friday.slot.describe() == "09:00-10:40, Chair 1"
