"""A known history for the measures tests, built through the real services with the clock
moved by time_machine. The clinic is in New York; moments are 17:00 UTC (13:00 there) unless
a test says otherwise. "Today" is Friday 20 November 2026."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine

from portal.extensions import db
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.scheduling.service import cancel_appointment, mark_no_show
from portal.treatment.service import SessionRecord, record_session
from portal.triage.service import accept_referral, open_for_review
from tests.factories import book, create_referral, stored_letter

TODAY = date(2026, 11, 20)
SENT_ON = date(2026, 10, 2)  # a Friday
# Days of the first decision of the 12 routine referrals sent on SENT_ON, and their business
# days: 1 1 2 2 3 4 5 5 5(Saturday: after the 5-day service level, due Friday 9) 6 7 8.
DECIDED_ON = [
    date(2026, 10, 5),
    date(2026, 10, 5),
    date(2026, 10, 6),
    date(2026, 10, 6),
    date(2026, 10, 7),
    date(2026, 10, 8),
    date(2026, 10, 9),
    date(2026, 10, 9),
    date(2026, 10, 10),
    date(2026, 10, 12),
    date(2026, 10, 13),
    date(2026, 10, 14),
]


def at(day: date, hour: int = 17) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def travel(day: date, hour: int = 17):
    return time_machine.travel(at(day, hour), tick=False)


@dataclass
class History:
    accepted: list = field(default_factory=list)
    declined: object = None
    cancelled: object = None
    waiting: object = None
    leaked: object = None
    late_start: object = None


def _phq9(total: int) -> list[int]:
    answers = [0] * 9
    for i in range(total):
        answers[i % 8] += 1
    return answers


def sessions(referral, clinician, days: list[date], end_total: int | None = None, **extra):
    for i, day in enumerate(days):
        last = i == len(days) - 1
        record_session(
            referral.course,
            SessionRecord(
                session_date=day,
                modality="iv_ketamine",
                dose_mg=Decimal("35"),
                bp_pre=(120, 80),
                bp_post=(130, 84),
                phq9_answers=_phq9(end_total) if last and end_total is not None else None,
                **(extra if i == 0 else {}),
            ),
            actor=clinician,
            expected_version=referral.version,
        )


def build(world) -> History:
    """The 12 routine referrals decided on DECIDED_ON (the first 8 accepted, then declined,
    cancelled...), two urgent ones, one still waiting, and what happened after."""
    h = History()
    referrals = []
    with travel(SENT_ON):
        for _ in DECIDED_ON:
            referrals.append(create_referral(world.referrer))
        urgent = [create_referral(world.referrer, urgency="urgent") for _ in range(2)]
        h.waiting = create_referral(world.colleague)
        for r in [*referrals, *urgent, h.waiting]:
            open_for_review(r, actor=world.coordinator, expected_version=r.version)
    for i, (referral, day) in enumerate(zip(referrals, DECIDED_ON, strict=True)):
        with travel(day):
            if i == 8:
                change_state(
                    referral,
                    State.DECLINED,
                    actor=world.coordinator,
                    expected_version=referral.version,
                    reason="=cmd|' /C calc'!A0 Bipolar: outside the label.",
                )
                h.declined = referral
                continue
            accept_referral(
                referral,
                actor=world.coordinator,
                expected_version=referral.version,
                modality="iv_ketamine",
                clinician=world.clinician,
                planned_sessions=6,
            )
            h.accepted.append(referral)
    # Urgent: decided on Tuesday 6 (2 business days: in time) and Wednesday 7 (late).
    for referral, day in zip(urgent, (date(2026, 10, 6), date(2026, 10, 7)), strict=True):
        with travel(day):
            accept_referral(
                referral,
                actor=world.coordinator,
                expected_version=referral.version,
                modality="iv_ketamine",
                clinician=world.clinician,
                planned_sessions=6,
            )
    db.session.flush()
    return h


def treat(world, h: History) -> None:
    """Accepted referrals 0-2 complete induction (6 sessions from 12 October); 3 starts on 19
    October and stops; 4 is cancelled by the referrer; 5 never starts (leakage); 6 starts 40
    days after its acceptance (leakage too)."""
    a = h.accepted
    induction = [date(2026, 10, 12) + timedelta(days=2 * k) for k in range(6)]  # to 22 Oct
    with travel(TODAY):
        # Baseline PHQ-9 of every referral: 16. End of induction: 4, 8 and 9.
        for referral, end_total in zip(a[:3], (4, 8, 9), strict=True):
            sessions(referral, world.clinician, induction, end_total)
        sessions(a[3], world.clinician, [date(2026, 10, 19)], adverse_events=["nausea_vomiting"])
        change_state(
            a[4],
            State.CANCELLED,
            actor=world.referrer,
            expected_version=a[4].version,
            reason="The patient moved away.",
        )
        h.cancelled, h.leaked, h.late_start = a[4], a[5], a[6]
        # a[6] was accepted on Friday 9 October: its first session 40 days later.
        sessions(a[6], world.clinician, [date(2026, 11, 18)])
    # A PHQ-9 after the end of induction (22 October) does not count for its outcome.
    from portal.treatment.assessments import add_assessment

    with travel(TODAY):
        add_assessment(a[0], "PHQ-9", _phq9(20), taken_on=date(2026, 11, 1), actor=world.clinician)
    # Referral 0's summary letter: signed Friday 30 October, first opened Monday 2 November.
    letter = stored_letter(a[0], world.clinician)
    letter.created_at = at(date(2026, 10, 30))
    letter.first_downloaded_at = at(date(2026, 11, 2))
    db.session.flush()


def visits(world, h: History) -> None:
    """Appointments of accepted referral 3: two attended, a no-show, a late cancellation (the
    day before) and a cancellation in good time (a week before)."""
    referral = h.accepted[3]
    days = [
        date(2026, 10, 26),
        date(2026, 10, 27),
        date(2026, 10, 28),
        date(2026, 10, 29),
        date(2026, 11, 9),
    ]
    with travel(date(2026, 10, 20)):
        booked = book(referral, world.coordinator, days)
        cancel_appointment(
            booked[4], "Away.", actor=world.coordinator, expected_version=booked[4].version
        )
    with travel(date(2026, 10, 28)):
        cancel_appointment(
            booked[3], "Unwell.", actor=world.coordinator, expected_version=booked[3].version
        )
    with travel(TODAY):
        mark_no_show(booked[2], actor=world.coordinator, expected_version=booked[2].version)
