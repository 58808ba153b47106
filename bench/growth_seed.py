"""Seeding for bench/growth.py, through the ORM's bulk INSERT (the models' defaults apply, so
the seed follows the schema): one referring provider's referrals in every state with their
timeline, courses, sessions, PHQ-9 scores, visits, letters and messages; and one referral's
long history (events, messages, attachments, letters) for the referral page."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

from portal.attachments.models import Attachment
from portal.extensions import db
from portal.letters.models import Letter
from portal.messages.models import Message
from portal.referrals.models import Patient, Referral, ReferralEvent
from portal.referrals.states import State
from portal.scheduling.models import Appointment
from portal.scheduling.settings import chairs, clinic_schedule
from portal.treatment.models import Assessment, TreatmentCourse, TreatmentSession

BASELINE = [2, 2, 2, 2, 2, 2, 2, 2, 0]  # PHQ-9 16
# The states the referrals are spread over, in turn (a sixth in care, a sixth completed...).
STATES = (
    State.SUBMITTED,
    State.IN_TREATMENT,
    State.NEEDS_INFO,
    State.SCHEDULED,
    State.COMPLETED,
    State.DECLINED,
)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def seed_people() -> dict[str, int]:
    """The clinic and one user of each role (the tests' World): their ids by name."""
    from tests.factories import World

    world = World()
    clinic_schedule(world.clinic.id)
    db.session.commit()
    return {
        "clinic": world.clinic.id,
        "referrer": world.referrer.id,
        "practice": world.practice.id,
        "coordinator": world.coordinator.id,
        "clinician": world.clinician.id,
        "admin": world.admin.id,
    }


def seed_referrals(people: dict[str, int], first: int, count: int, today: date) -> dict[str, int]:
    """`count` referrals (numbered from `first`, for the names) of the provider, over the last
    two years, with everything that happened to them. Returns rows written per table."""
    rows: dict[type, list[dict]] = {m: [] for m in (Patient, Referral)}
    for k in range(count):
        n = first + k
        sent = _at(today - timedelta(days=(n * 7) % 700), 9 + n % 8)
        rows[Patient].append(
            {
                "first_name": f"Bench{n}",
                "last_name": f"Patient{n}",
                "date_of_birth": date(1980, 1, 1) + timedelta(days=n),
                "sex": "female",
                "created_by_id": people["referrer"],
                "created_at": sent,
            }
        )
    patient_ids = list(
        db.session.scalars(
            insert(Patient).returning(Patient.id, sort_by_parameter_order=True), rows[Patient]
        )
    )
    for k, patient_id in enumerate(patient_ids):
        n = first + k
        sent = rows[Patient][k]["created_at"]
        rows[Referral].append(
            {
                "clinic_id": people["clinic"],
                "referrer_id": people["referrer"],
                "practice_id": people["practice"],
                "patient_id": patient_id,
                "state": STATES[n % len(STATES)],
                "diagnosis_code": "F33.2",
                "requested_modality": "iv_ketamine",
                "urgency": "urgent" if n % 7 == 0 else "routine",
                "created_at": sent,
                "submitted_at": sent,
                "updated_at": sent + timedelta(days=n % 30),
                "trd_met": True,
            }
        )
    referral_ids = list(
        db.session.scalars(
            insert(Referral).returning(Referral.id, sort_by_parameter_order=True), rows[Referral]
        )
    )
    more: dict[type, list[dict]] = {
        m: [] for m in (ReferralEvent, Assessment, TreatmentCourse, Letter, Message)
    }
    treated: list[tuple[int, dict]] = []
    for referral_id, referral in zip(referral_ids, rows[Referral], strict=True):
        sent, state = referral["submitted_at"], referral["state"]
        more[ReferralEvent].append(
            _event(referral_id, sent, people["referrer"], State.DRAFT, State.SUBMITTED)
        )
        more[Assessment].append(
            {
                "referral_id": referral_id,
                "scale": "PHQ-9",
                "taken_on": sent.date(),
                "answers": BASELINE,
                "total": 16,
                "band": "moderately severe",
                "is_baseline": True,
                "recorded_by_id": people["referrer"],
                "created_at": sent,
            }
        )
        if state == State.SUBMITTED:
            continue
        more[ReferralEvent].append(
            _event(
                referral_id,
                sent + timedelta(hours=3),
                people["coordinator"],
                State.SUBMITTED,
                State.IN_REVIEW,
            )
        )
        more[ReferralEvent].append(
            _event(
                referral_id,
                sent + timedelta(hours=5),
                people["coordinator"],
                State.IN_REVIEW,
                state,
            )
        )
        more[Message].append(
            {
                "referral_id": referral_id,
                "author_id": people["coordinator"],
                "body": "We have looked at this referral.",
                "created_at": sent + timedelta(hours=4),
            }
        )
        if state in (State.IN_TREATMENT, State.SCHEDULED, State.COMPLETED):
            more[TreatmentCourse].append(
                {
                    "referral_id": referral_id,
                    "modality": "iv_ketamine",
                    "clinician_id": people["clinician"],
                    "planned_sessions": 6,
                    "created_at": sent + timedelta(hours=5),
                }
            )
            treated.append((referral_id, referral))
        if state == State.COMPLETED:
            more[Letter].append(
                {
                    "referral_id": referral_id,
                    "kind": "treatment_summary",
                    "status": "final",
                    "signed_by_id": people["clinician"],
                    "created_at": sent + timedelta(days=20),
                    "verify_code": secrets.token_hex(8),
                }
            )
    for model in (ReferralEvent, Assessment, Letter, Message):
        if more[model]:
            db.session.execute(insert(model), more[model])
    course_ids = list(
        db.session.scalars(
            insert(TreatmentCourse).returning(TreatmentCourse.id, sort_by_parameter_order=True),
            more[TreatmentCourse],
        )
    )
    written = {m.__tablename__: len(r) for m, r in (*rows.items(), *more.items())}
    written |= _care(people, list(zip(course_ids, treated, strict=True)), today, first)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return written


def _event(referral_id: int, at: datetime, actor: int, was: State, now: State) -> dict:
    return {
        "referral_id": referral_id,
        "at": at,
        "actor_id": actor,
        "kind": "state_change",
        "from_state": was.value,
        "to_state": now.value,
    }


def _care(people: dict[str, int], courses: list, today: date, first: int) -> dict[str, int]:
    """Three sessions with a PHQ-9 each for the courses under way or done, and a booked visit
    next week for those scheduled or under way."""
    chair = chairs(people["clinic"])[0].id
    sessions, visits = [], []
    for k, (course_id, (referral_id, referral)) in enumerate(courses):
        if referral["state"] != State.SCHEDULED:
            for i in range(3):
                day = referral["submitted_at"].date() + timedelta(days=7 + 3 * i)
                sessions.append(
                    {
                        "course_id": course_id,
                        "session_date": day,
                        "modality": "iv_ketamine",
                        "dose_mg": Decimal("35"),
                        "bp_pre_systolic": 120,
                        "bp_pre_diastolic": 80,
                        "bp_post_systolic": 134,
                        "bp_post_diastolic": 86,
                        "recorded_by_id": people["clinician"],
                        "created_at": _at(day, 15),
                    }
                )
        if referral["state"] != State.COMPLETED:
            slot = first + k  # one chair: every visit an hour of its own, 8:00 to 15:50
            day = today + timedelta(days=7 + slot // 8)
            visits.append(
                {
                    "referral_id": referral_id,
                    "clinic_id": people["clinic"],
                    "day": day,
                    "start_time": time(8 + slot % 8),
                    "end_time": time(8 + slot % 8, 50),
                    "chair_id": chair,
                    "clinician_id": people["clinician"],
                    "modality": "iv_ketamine",
                    "created_by_id": people["coordinator"],
                }
            )
    session_ids = []
    if sessions:
        session_ids = list(
            db.session.scalars(
                insert(TreatmentSession).returning(
                    TreatmentSession.id, sort_by_parameter_order=True
                ),
                sessions,
            )
        )
    referral_of = {course_id: referral_id for course_id, (referral_id, _r) in courses}
    scores = [
        {
            "referral_id": referral_of[session["course_id"]],
            "session_id": session_id,
            "scale": "PHQ-9",
            "taken_on": session["session_date"],
            "answers": [1] * 9,
            "total": 9 - i % 3,
            "band": "mild",
            "recorded_by_id": people["clinician"],
            "created_at": session["created_at"],
        }
        for i, (session_id, session) in enumerate(zip(session_ids, sessions, strict=True))
    ]
    if scores:
        db.session.execute(insert(Assessment), scores)
    if visits:
        db.session.execute(insert(Appointment), visits)
    return {
        "treatment_session": len(sessions),
        "session PHQ-9": len(scores),
        "appointment": len(visits),
    }


def seed_history(
    people: dict[str, int], referral_id: int, events: int, messages: int, *, first_letter: int = 1
) -> None:
    """A history on one referral: timeline events, messages both ways, and a tenth as many
    attachments and a twentieth as many interim letters (at least one of each)."""
    start = datetime.now(UTC) - timedelta(days=events)
    db.session.execute(
        insert(ReferralEvent),
        [
            {
                "referral_id": referral_id,
                "at": start + timedelta(days=i),
                "actor_id": people["coordinator"],
                "kind": "intake_updated",
            }
            for i in range(events)
        ],
    )
    db.session.execute(
        insert(Message),
        [
            {
                "referral_id": referral_id,
                "author_id": people["coordinator"] if i % 2 else people["referrer"],
                "body": f"Message {i} about the plan.",
                "created_at": start + timedelta(days=i, hours=1),
            }
            for i in range(messages)
        ],
    )
    db.session.execute(
        insert(Attachment),
        [
            {
                "referral_id": referral_id,
                "filename": f"scan-{i}.png",
                "content_type": "image/png",
                "size": 1000,
                "sha256": "0" * 64,
                "storage_name": secrets.token_hex(16),
                "uploaded_by_id": people["referrer"],
                "uploaded_at": start + timedelta(days=i),
            }
            for i in range(max(1, events // 10))
        ],
    )
    db.session.execute(
        insert(Letter),
        [
            {
                "referral_id": referral_id,
                "kind": "interim_progress",
                "sequence": first_letter + i,
                "status": "final",
                "signed_by_id": people["clinician"],
                "created_at": start + timedelta(days=i),
                "verify_code": secrets.token_hex(8),
            }
            for i in range(max(1, events // 20))
        ],
    )
    db.session.commit()
