"""Seeding for bench/measures.py: referrals of one clinic over two years with their timeline
events, courses, sessions, PHQ-9 scores, appointments and summary letters, COPYed straight
into the migrated schema, in batches (so the statement count can be compared as data grows).
COPY bypasses the ORM flush that keeps referral_milestone in step, so each batch then fills
its referrals' milestone rows with the same query (portal/measures/milestones.py)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta

from portal.referrals.states import State
from portal.roles import Role

PRACTICES, PROVIDERS, SPAN_DAYS = 200, 1_000, 730
CHAIRS = 100  # appointments of a day spread over the chairs, an hour each: none overlap
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway benchmark account
BASELINE = [2, 2, 2, 2, 2, 2, 2, 2, 0]  # PHQ-9 16
DECISIONS = [State.ACCEPTED] * 70 + [State.DECLINED] * 15 + [State.NEEDS_INFO] * 5 + [None] * 10


def seed_people(url: str) -> None:
    """The clinic, its coordinator (user 1) and clinician (user 2), practices and providers."""
    import psycopg

    from portal.auth.passwords import hash_password

    now = datetime.now(UTC)
    hashed = hash_password(PASSWORD)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO clinic (id, name, created_at, address_line1, address_line2, city, region,"
            " postal_code, phone, fax, logo_mime, interim_every, unopened_days) VALUES "
            "(1, 'Bench Clinic', %s, '1 Main St', '', 'Town', 'ME', '04101', '', '', '', 3, 5)",
            (now,),
        )
        with cur.copy(
            "COPY practice (id, name, share_referrals, created_at, address_line1, address_line2, "
            "city, region, postal_code, phone, fax) FROM STDIN"
        ) as copy:
            for i in range(1, PRACTICES + 1):
                copy.write_row((i, f"Practice {i}", False, now, "", "", "", "", "", "", ""))
        with cur.copy(
            "COPY user_account (id, email, password_hash, full_name, credentials, role, clinic_id, "
            "practice_id, phone, is_enabled, created_at) FROM STDIN"
        ) as copy:
            for i, role in ((1, Role.COORDINATOR), (2, Role.CLINICIAN)):
                copy.write_row(
                    (i, f"staff{i}@bench.test", hashed, f"Staff {i}", "", role.value, 1, None,
                     "", True, now)
                )  # fmt: skip
            for i in range(3, PROVIDERS + 3):
                copy.write_row(
                    (i, f"provider{i}@bench.test", hashed, f"Provider {i}", "MD",
                     Role.REFERRER.value, None, 1 + i % PRACTICES, "", True, now)
                )  # fmt: skip
        cur.execute(
            "INSERT INTO clinic_schedule (clinic_id, treatment_weekdays, opening_hours, "
            "iv_infusion_minutes, iv_recovery_minutes, spravato_dosing_minutes, "
            "spravato_monitoring_minutes, chairs_per_clinician, sla_urgent_days, "
            "sla_routine_days) VALUES (1, '[0,1,2,3,4]', '{}', 40, 60, 15, 120, 2, 2, 5)"
        )
        with cur.copy("COPY chair (id, clinic_id, name, position, active) FROM STDIN") as copy:
            for i in range(1, CHAIRS + 1):
                copy.write_row((i, 1, f"Chair {i}", i, True))
        conn.commit()


_BOOKED: dict[date, int] = {}  # appointments placed per day, across batches


def _slot(day: date) -> tuple[int, int]:
    """A chair and an hour no other appointment of the day has."""
    k = _BOOKED.get(day, 0)
    _BOOKED[day] = k + 1
    return 1 + k % CHAIRS, 5 + k // CHAIRS


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def seed_referrals(url: str, first: int, count: int, today: date) -> dict[str, int]:  # noqa: C901
    """Referrals first..first+count-1 and everything that happened to them; rows per table."""
    import psycopg

    rng = random.Random(first)
    rows: dict[str, list[tuple]] = {
        k: []
        for k in (
            "patient", "referral", "referral_event", "treatment_course", "treatment_session",
            "assessment", "appointment", "letter",
        )
    }  # fmt: skip
    ids = {
        "course": first,
        "session": first * 10,
        "assessment": first * 10,
        "appointment": first * 10,
    }
    for rid in range(first, first + count):
        sent_on = today - timedelta(days=rng.randrange(SPAN_DAYS))
        sent = _moment(sent_on, rng.randrange(12, 22))
        referrer = 3 + rng.randrange(PROVIDERS)
        modality = rng.choice(["iv_ketamine", "spravato", "clinic_choice"])
        urgency = "urgent" if rng.random() < 0.15 else "routine"
        rows["patient"].append((rid, "Bench", f"Patient{rid}", date(1980, 1, 1), "female", 3, sent))
        events = [(rid, sent, 3, "state_change", State.DRAFT.value, State.SUBMITTED.value, "")]
        state = State.SUBMITTED
        rows["assessment"].append(
            (ids["assessment"], rid, None, "PHQ-9", sent_on, json.dumps(BASELINE), 16,
             "moderately severe", True, 3, sent)
        )  # fmt: skip
        ids["assessment"] += 1
        decision = rng.choice(DECISIONS)
        decided = sent + timedelta(hours=rng.randrange(4, 24 * 9))
        if decided.date() > today:
            decision = None
        if decision is not None:
            events.append((rid, decided - timedelta(hours=2), 1, "state_change",
                           State.SUBMITTED.value, State.IN_REVIEW.value, ""))  # fmt: skip
            reason = "" if decision == State.ACCEPTED else "Reason given."
            events.append((rid, decided, 1, "state_change", State.IN_REVIEW.value,
                           decision.value, reason))  # fmt: skip
            state = decision
        if decision == State.ACCEPTED:
            treated = modality if modality != "clinic_choice" else "iv_ketamine"
            planned = 6 if treated == "iv_ketamine" else 8
            course = ids["course"]
            ids["course"] += 1
            rows["treatment_course"].append((course, rid, treated, 2, planned, decided))
            start = decided.date() + timedelta(days=rng.randrange(3, 40))
            done = 0 if rng.random() < 0.15 else rng.randrange(1, planned + 1)
            if rng.random() < 0.5:
                done = planned
            day = start
            for k in range(done):
                if day > today:
                    break
                ae = '["nausea_vomiting"]' if rng.random() < 0.1 else "[]"
                rows["treatment_session"].append(
                    (ids["session"], course, day, treated, 35, 120, 80, 130, 84, "", 2,
                     _moment(day, 18), ae, day + timedelta(days=rng.randrange(1, 10))
                     if treated == "spravato" else None)
                )  # fmt: skip
                chair, hour = _slot(day)
                rows["appointment"].append(
                    (ids["appointment"], rid, 1, day, treated,
                     rng.choice(["booked"] * 18 + ["no_show", "cancelled"]), False, False, "", 1,
                     _moment(day - timedelta(days=3), 15), _moment(day - timedelta(days=1), 15), 1,
                     time(hour), time(hour, 50), chair)
                )  # fmt: skip
                ids["appointment"] += 1
                if k == planned - 1:
                    total = rng.randrange(0, 20)
                    rows["assessment"].append(
                        (ids["assessment"], rid, ids["session"], "PHQ-9", day,
                         json.dumps([0] * 9), total, "", False, 2, _moment(day, 18))
                    )  # fmt: skip
                    ids["assessment"] += 1
                ids["session"] += 1
                day += timedelta(days=rng.choice([2, 2, 3]))
                state = State.IN_TREATMENT
            if done and done == planned and day <= today:
                signed = _moment(day + timedelta(days=rng.randrange(1, 10)), 16)
                opened = (
                    signed + timedelta(hours=rng.randrange(2, 300)) if rng.random() < 0.7 else None
                )
                rows["letter"].append((rid, "treatment_summary", 1, "final", "", 1, signed, opened))
                events.append((rid, signed, 2, "state_change", State.IN_TREATMENT.value,
                               State.COMPLETED.value, ""))  # fmt: skip
                state = State.COMPLETED
            elif rng.random() < 0.1:
                events.append((rid, _moment(today, 9), 3, "state_change", state.value,
                               State.CANCELLED.value, "The patient moved."))  # fmt: skip
                state = State.CANCELLED
        rows["referral"].append(
            (rid, 1, referrer, 1 + referrer % PRACTICES, rid, state.value, 1, "F33.2", modality,
             urgency, "", sent, sent, sent, decided if decision else None)
        )  # fmt: skip
        rows["referral_event"].extend(events)
    columns = {
        "patient": "id, first_name, last_name, date_of_birth, sex, created_by_id, created_at",
        "referral": "id, clinic_id, referrer_id, practice_id, patient_id, state, version, "
        "diagnosis_code, requested_modality, urgency, reason, created_at, submitted_at, "
        "updated_at, first_decided_at",
        "referral_event": "referral_id, at, actor_id, kind, from_state, to_state, reason",
        "treatment_course": "id, referral_id, modality, clinician_id, planned_sessions, created_at",
        "treatment_session": "id, course_id, session_date, modality, dose_mg, bp_pre_systolic, "
        "bp_pre_diastolic, bp_post_systolic, bp_post_diastolic, notes, recorded_by_id, "
        "created_at, adverse_events, rems_submitted_on",
        "assessment": "id, referral_id, session_id, scale, taken_on, answers, total, band, "
        "is_baseline, recorded_by_id, created_at",
        "appointment": "id, referral_id, clinic_id, day, modality, status, escort_confirmed, "
        "instructions_given, note, created_by_id, created_at, updated_at, version, start_time, "
        "end_time, chair_id",
        "letter": "referral_id, kind, version, status, narrative, page_count, created_at, "
        "first_downloaded_at",
    }
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in columns:  # patients before referrals, referrals before the rest
            with cur.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                for row in rows[table]:
                    copy.write_row(row)
        conn.commit()
    rows["referral_milestone"] = [()] * fill_milestones(url, first, first + count - 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {table: len(r) for table, r in rows.items()}


def fill_milestones(url: str, first: int, last: int) -> int:
    """referral_milestone rows of referrals first..last, as the ORM flush would have made them."""
    from sqlalchemy import create_engine, func, insert, select

    from portal import models  # noqa: F401 - every table, so the mappers configure
    from portal.measures.milestones import COLUMNS, source_query
    from portal.measures.models import ReferralMilestone
    from portal.referrals.models import Referral

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            batch = source_query(Referral.id.between(first, last))
            table = ReferralMilestone.__table__
            conn.execute(insert(table).from_select(COLUMNS, batch))
            filled = table.c.referral_id.between(first, last)
            return conn.execute(select(func.count()).where(filled)).scalar_one()
    finally:
        engine.dispose()
