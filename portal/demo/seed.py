"""The demo's clinic, practices, people and referrals, built through the real services, so
every referral has its timeline and audit trail exactly as if the users had clicked through."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.auth.models import User
from portal.auth.service import create_user
from portal.clinics.models import Clinic, Practice
from portal.clock import clinic_today
from portal.db import utcnow
from portal.demo.letters import seed_letters
from portal.demo.referrer_side import INTAKE_VARIATIONS, add_referrer_side, attach_records
from portal.demo.scheduling import seed_schedule
from portal.extensions import db
from portal.pages.submission import submit_referral
from portal.referrals.service import NewReferral, change_state
from portal.referrals.states import State
from portal.roles import Role
from portal.treatment.rems import record_submission
from portal.treatment.service import SessionRecord, complete_course, record_session
from portal.treatment.signing import record_rems_enrolment, sign_session
from portal.triage import acknowledgements
from portal.triage.service import accept_referral, open_for_review

DEMO_PASSWORD = "ketamine-demo-2026"  # noqa: S105 - printed for the demo on purpose

FIRST = [
    "Avery",
    "Jordan",
    "Riley",
    "Morgan",
    "Casey",
    "Quinn",
    "Taylor",
    "Jamie",
    "Rowan",
    "Elliot",
    "Harper",
    "Sasha",
    "Dana",
    "Robin",
    "Kendall",
    "Reese",
    "Alex",
    "Drew",
    "Sam",
    "Parker",
]
LAST = [
    "Whitfield",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Castellanos",
    "Nakamura",
    "Brennan",
    "Abernathy",
    "Kowalski",
    "Delgado",
    "Haverford",
    "Iwu",
    "Petrov",
    "Sorensen",
    "Villanueva",
    "Ashby",
    "Marchetti",
    "Oduya",
    "Templeton",
    "Yilmaz",
]
# Final state of each demo referral, in order; the first completed one gets the letter.
PLAN = (
    [State.SUBMITTED] * 4
    + [State.IN_REVIEW] * 3
    + [State.NEEDS_INFO] * 2
    + [State.ACCEPTED] * 3
    + [State.DECLINED] * 2
    + [State.CANCELLED]
    + [State.IN_TREATMENT] * 3
    + [State.COMPLETED] * 2
)
REASONS = [
    "Recurrent depression with little response to two SSRIs and an SNRI; patient is "
    "interested in ketamine treatment and has reliable transport.",
    "Treatment-resistant depression after adequate trials of sertraline, bupropion "
    "augmentation and venlafaxine. Requesting evaluation for SPRAVATO.",
    "Chronic PTSD with persistent depressive symptoms despite psychotherapy and two "
    "medication trials.",
]


def seed() -> bool:
    """Create the demo data unless it is already there; returns whether anything was made."""
    if db.session.scalar(select(User).where(User.email == "referrer@demo.test")):
        return False
    clinic = Clinic(
        name="Lakeside Ketamine & Esketamine Clinic",
        address_line1="400 Harbor Way",
        address_line2="Suite 210",
        city="Portland",
        region="ME",
        postal_code="04101",
        phone="(207) 555-0140",
        fax="(207) 555-0141",
    )
    practice = Practice(
        name="Riverbend Psychiatry Associates",
        address_line1="18 Elm Street",
        city="Portland",
        region="ME",
        postal_code="04102",
        phone="(207) 555-0190",
        fax="(207) 555-0191",
    )
    other = Practice(
        name="Northgate Family Medicine",
        address_line1="77 Northgate Road",
        city="Falmouth",
        region="ME",
        postal_code="04105",
        phone="(207) 555-0170",
        fax="(207) 555-0171",
    )
    db.session.add_all([clinic, practice, other])
    db.session.flush()
    common = {"password": DEMO_PASSWORD}
    referrer = create_user(
        email="referrer@demo.test",
        full_name="Maya Chen",
        credentials="MD",
        role=Role.REFERRER,
        practice_id=practice.id,
        **common,
    )
    create_user(
        email="referrer2@demo.test",
        full_name="Owen Hale",
        credentials="DO",
        role=Role.REFERRER,
        practice_id=other.id,
        **common,
    )
    coordinator = create_user(
        email="coordinator@demo.test",
        full_name="Jordan Blake",
        role=Role.COORDINATOR,
        clinic_id=clinic.id,
        **common,
    )
    clinician = create_user(
        email="clinician@demo.test",
        full_name="Samuel Ortiz",
        credentials="MD",
        role=Role.CLINICIAN,
        clinic_id=clinic.id,
        **common,
    )
    create_user(
        email="admin@demo.test",
        full_name="Pat Rivera",
        role=Role.ADMIN,
        clinic_id=clinic.id,
        **common,
    )
    rng = random.Random(2026)
    referrals = []
    for index, final_state in enumerate(PLAN):
        referral = _submit(index, rng, referrer)
        referrals.append(referral)
        if index < 3:
            attach_records(referral, referrer)
        _advance(referral, final_state, rng, coordinator, clinician)
        _backdate(referral, days_ago=24 - index)
    seed_letters(referrals, clinician, DEMO_PASSWORD, _narrative)
    add_referrer_side(referrals, referrer, coordinator)
    db.session.flush()
    seed_schedule(coordinator)  # booked series for the day view and the .ics feed
    return True


def _backdate(referral, *, days_ago: int) -> None:
    """Spread the demo timeline over past days, as if it had happened, so that dates on the
    queue, the timeline and the letters agree with each other."""
    db.session.flush()
    now = utcnow()
    sessions = referral.course.sessions if referral.course else []
    if sessions:  # received a week before the first session
        first = datetime.combine(sessions[0].session_date, time(14), tzinfo=UTC)
        start = first - timedelta(days=7)
    else:
        start = now - timedelta(days=days_ago, hours=3)
    referral.created_at = referral.submitted_at = start
    referral.assessments[0].taken_on = start.date()
    session_days = iter(s.session_date for s in sessions)
    moment = start
    for event in referral.events:
        if event.kind == "letter_issued" and event.actor_id is None:
            moment = start + timedelta(minutes=5)  # the acknowledgement, on receipt
        elif event.kind == "letter_issued":
            moment = now  # the letter itself was signed now
        elif event.kind == "session_recorded" or event.to_state == State.IN_TREATMENT:
            day = (
                next(session_days) if event.kind == "session_recorded" else sessions[0].session_date
            )
            moment = datetime.combine(day, time(15), tzinfo=UTC)
        elif event is not referral.events[0]:
            moment = min(moment + timedelta(hours=26), now)
        event.at = moment


DEMO_ACKNOWLEDGEMENT = (
    "Reviewed with the referring psychiatrist: benefit judged to outweigh the risk; "
    "closer monitoring planned."
)


def _submit(index: int, rng: random.Random, referrer: User):
    modality = ["iv_ketamine", "spravato", "clinic_choice"][index % 3]
    answers = [rng.randint(1, 3) for _ in range(8)] + [0 if index % 5 else 1]
    data = NewReferral(
        first_name=FIRST[index],
        last_name=LAST[index],
        date_of_birth=date(1960 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28)),
        sex=rng.choice(["female", "male"]),
        diagnosis_code=rng.choice(["F33.2", "F33.1", "F32.2", "F43.10", "F31.30"]),
        requested_modality=modality,
        reason=REASONS[index % len(REASONS)],
        urgency="urgent" if index % 7 == 0 else "routine",
        phq9_answers=answers,
        intake=INTAKE_VARIATIONS.get(index, {}),
    )
    return submit_referral(data, actor=referrer)


def _advance(
    referral, final: State, rng: random.Random, coordinator: User, clinician: User
) -> None:
    if final == State.SUBMITTED:
        return
    if final == State.CANCELLED:
        change_state(
            referral,
            State.CANCELLED,
            actor=referral.referrer,
            expected_version=referral.version,
            reason="Patient chose to continue with TMS closer to home.",
        )
        return
    open_for_review(referral, actor=coordinator, expected_version=referral.version)
    if final == State.IN_REVIEW:
        return
    if final in (State.NEEDS_INFO, State.DECLINED):
        reason = (
            "Please send the most recent medication list and the dates of the venlafaxine trial."
            if final == State.NEEDS_INFO
            else "Active psychotic symptoms reported; ketamine is not suitable now. We "
            "suggest review by the referring psychiatrist and ECT evaluation."
        )
        change_state(
            referral, final, actor=coordinator, expected_version=referral.version, reason=reason
        )
        return
    modality = referral.requested_modality
    if modality == "clinic_choice":
        modality = "iv_ketamine"
    for item in acknowledgements.missing(referral, modality, clinic_today()):
        acknowledgements.acknowledge(referral, item, DEMO_ACKNOWLEDGEMENT, actor=clinician)
    accept_referral(
        referral,
        actor=coordinator,
        expected_version=referral.version,
        modality=modality,
        clinician=clinician,
        planned_sessions=6,
    )
    if final == State.ACCEPTED:
        return
    sessions = 6 if final == State.COMPLETED else rng.randint(2, 4)
    _document(referral, sessions, rng, clinician, finished=final == State.COMPLETED)
    if final == State.COMPLETED:
        complete_course(
            referral.course,
            actor=clinician,
            expected_version=referral.version,
            ended_on=clinic_today(),
        )


def _document(referral, count: int, rng: random.Random, clinician: User, *, finished: bool) -> None:
    baseline = referral.assessments[0].total
    start = clinic_today() - timedelta(days=3 * count + 2)
    course = referral.course
    if course.modality == "spravato":
        record_rems_enrolment(referral.patient, start - timedelta(days=5), actor=clinician)
    for number in range(count):
        # Depression scores fall over the series, as they do for responders.
        target = max(1, round(baseline * (1 - 0.13 * (number + 1))))
        answers = _answers_for(target, rng)
        day = start + timedelta(days=3 * number)
        common = {
            "session_date": day,
            "modality": course.modality,
            "bp_pre": (rng.randint(112, 134), rng.randint(70, 86)),
            "bp_post": (rng.randint(128, 152), rng.randint(78, 94)),
            "phq9_answers": answers,
            "notes": "Tolerated well; mild transient dissociation resolved before discharge.",
            "adverse_events": ["dissociation"] + (["nausea_vomiting"] if number == 1 else []),
            "cadss6_answers": [rng.randint(0, 2) for _ in range(6)],
            "interventions": "Ondansetron 4 mg." if number == 1 else "",
            "escort_confirmed": True,
            "discharge_at": time(11, 40 + number),
        }
        if course.modality == "iv_ketamine":
            data = SessionRecord(
                **common,
                dose_mg=Decimal("35.0"),
                weight_kg=Decimal("70.0"),
                dose_mg_per_kg=Decimal("0.5"),
                infusion_minutes=40,
                vitals=_iv_vitals(rng),
            )
        else:
            dose = "56" if number < 2 else "84"
            data = SessionRecord(
                **common,
                dose_mg=Decimal(dose),
                spravato_dose=dose,
                devices_used=int(dose) // 28,
                lot_number=f"EKT{2417 + number}",
                bp_leave=(rng.randint(118, 132), rng.randint(72, 84)),
                vitals_ok_before=True,
                vitals_ok_leaving=True,
                sedation=number == 0,
                dissociation=True,
                respiratory_depression=False,
                serious_adverse_events=False,
                monitoring_minutes=120 + 5 * number,
                ready_to_leave_at=time(11, 15),
                concomitant_medications=["benzodiazepines"] if number == 0 else [],
            )
        session = record_session(course, data, actor=clinician, expected_version=referral.version)
        if finished or number < count - 1:  # the latest session waits for its signature
            sign_session(session, actor=clinician, expected_version=referral.version)
            if course.modality == "spravato" and number < count - 2:
                record_submission(session, day + timedelta(days=2), actor=clinician)


def _iv_vitals(rng: random.Random) -> list[dict]:
    rows = [("09:00", "before"), ("09:10", "during"), ("09:20", "during"), ("09:30", "during")]
    rows += [("09:45", "after"), ("10:00", "after")]
    return [
        {
            "time": at,
            "phase": phase,
            "bp_systolic": rng.randint(118, 146),
            "bp_diastolic": rng.randint(72, 90),
            "heart_rate": rng.randint(64, 92),
            "spo2": rng.randint(95, 99),
        }
        for at, phase in rows
    ]


def _answers_for(total: int, rng: random.Random) -> list[int]:
    answers = [0] * 9
    while sum(answers) < total:
        item = rng.randrange(8)  # item 9 stays 0 during treatment in the demo
        if answers[item] < 3:
            answers[item] += 1
    return answers


def _narrative(referral) -> str:
    progress_first = referral.assessments[0].total
    return (
        f"Your patient completed an induction series of {len(referral.course.sessions)} "
        "treatments with us. Each session was tolerated well; blood pressure rose modestly "
        "after dosing, as expected, and returned to baseline before discharge. There were no "
        "serious adverse events.\n\n"
        f"Depressive symptoms improved steadily from a baseline PHQ-9 of {progress_first}. "
        "We recommend monthly maintenance treatments for the next three months and will "
        "continue to send you progress letters. Please continue ongoing care and medication "
        "management as before."
    )
