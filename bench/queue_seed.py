"""Seeding for bench/queue.py: 100,000 referrals across 50 clinics and 1,000 referring
providers, COPYed straight into the migrated schema (a few seconds)."""

from __future__ import annotations

import os
import random
from datetime import UTC, date, datetime, timedelta

from portal.referrals.states import AWAITING_DECISION, State
from portal.roles import Role

CLINICS, PROVIDERS, REFERRALS, BIG_CLINIC_SHARE = 50, 1_000, 100_000, 10_000
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway benchmark account
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - throwaway authenticator
COOKIE = "__Host-portal_session"  # the production cookie name
FIRST = ["Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn", "Taylor", "Jamie", "Rowan"]
LAST = ["Whitfield", "Okafor", "Lindqvist", "Moreau", "Nakamura", "Brennan", "Kowalski", "Iwu"]
STATES = (
    [State.SUBMITTED] * 30
    + [State.IN_REVIEW] * 10
    + [State.NEEDS_INFO] * 5
    + [State.ACCEPTED] * 10
    + [State.DECLINED] * 5
    + [State.SCHEDULED] * 10
    + [State.IN_TREATMENT] * 15
    + [State.COMPLETED] * 10
    + [State.CANCELLED] * 5
)


def seed(url: str) -> None:
    """COPY the data straight into the migrated schema."""
    import psycopg
    from cryptography.fernet import Fernet

    from portal.auth.passwords import hash_password

    rng = random.Random(4)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY clinic (id, name, created_at, address_line1, address_line2, city, region, "
            "postal_code, phone, fax) FROM STDIN"
        ) as copy:
            for i in range(1, CLINICS + 1):
                copy.write_row(
                    (i, f"Clinic {i}", now, "1 Main St", "", "Town", "ME", "04101", "", "")
                )
        with cur.copy(
            "COPY practice (id, name, share_referrals, created_at, address_line1, address_line2, "
            "city, region, postal_code, phone, fax) FROM STDIN"
        ) as copy:
            for i in range(1, 201):
                copy.write_row(
                    (i, f"Practice {i}", False, now, "2 Elm St", "", "Town", "ME", "", "", "")
                )
        hashed = hash_password(PASSWORD)
        with cur.copy(
            "COPY user_account (id, email, password_hash, full_name, credentials, role, clinic_id, "
            "practice_id, phone, is_enabled, created_at) FROM STDIN"
        ) as copy:  # clinic staff sign in with a second step: the coordinator gets one below
            copy.write_row(
                (
                    1,
                    "coordinator@bench.test",
                    hashed,
                    "Bench Coordinator",
                    "",
                    Role.COORDINATOR.value,
                    1,
                    None,
                    "",
                    True,
                    now,
                )
            )
            for i in range(2, PROVIDERS + 2):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
                copy.write_row(
                    (
                        i,
                        f"provider{i}@bench.test",
                        hashed,
                        name,
                        "MD",
                        Role.REFERRER.value,
                        None,
                        1 + i % 200,
                        "",
                        True,
                        now,
                    )
                )
        with cur.copy(
            "COPY patient (id, first_name, last_name, date_of_birth, sex, created_by_id, "
            "created_at) FROM STDIN"
        ) as copy:
            for i in range(1, REFERRALS + 1):
                dob = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
                copy.write_row((i, rng.choice(FIRST), rng.choice(LAST), dob, "female", 2, now))
        with cur.copy(
            "COPY referral (id, clinic_id, referrer_id, practice_id, patient_id, state, version, "
            "diagnosis_code, requested_modality, urgency, reason, created_at, submitted_at, "
            "updated_at, first_decided_at) FROM STDIN"
        ) as copy:
            for i in range(1, REFERRALS + 1):
                clinic = 1 if i <= BIG_CLINIC_SHARE else 2 + i % (CLINICS - 1)
                referrer = 2 + rng.randrange(PROVIDERS)
                state = rng.choice(STATES)
                submitted = now - timedelta(minutes=rng.randrange(120 * 24 * 60))
                decided = None if state in AWAITING_DECISION else submitted + timedelta(days=1)
                copy.write_row(
                    (
                        i, clinic, referrer, 1 + referrer % 200, i, state.value, 1, "F33.2",
                        rng.choice(["iv_ketamine", "spravato", "clinic_choice"]),
                        "urgent" if rng.random() < 0.15 else "routine",
                        "Treatment-resistant depression.", submitted, submitted, submitted, decided,
                    )
                )  # fmt: skip
        cur.execute(  # the coordinator's authenticator, sealed with the portal's data key
            "UPDATE user_account SET totp_secret_enc = %s, mfa_enrolled_at = %s WHERE id = 1",
            (Fernet(os.environ["PORTAL_DATA_KEYS"]).encrypt(TOTP_SECRET.encode()), now),
        )
        cur.execute(
            "INSERT INTO clinic_schedule (clinic_id, treatment_weekdays, opening_hours, "
            "iv_infusion_minutes, iv_recovery_minutes, spravato_dosing_minutes, "
            "spravato_monitoring_minutes, chairs_per_clinician, sla_urgent_days, "
            "sla_routine_days) VALUES (1, '[0,1,2,3,4]', '{}', 40, 60, 15, 120, 2, 2, 5)"
        )
        cur.execute(
            "INSERT INTO chair (clinic_id, name, position, active) "
            "SELECT 1, 'Chair ' || n, n, true FROM generate_series(1, 6) AS n"
        )
        for table in ("clinic", "practice", "user_account", "patient", "referral"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
