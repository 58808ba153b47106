"""Seeding for bench/load/run.py: a network's data on PostgreSQL, COPYed into the migrated
schema. bench/queue_seed.py lays down 100,000 referrals across 50 clinics and 1,000 referring
providers (about 100 referrals each); this adds, per clinic, a coordinator and a clinician
(both with the same throwaway authenticator), a course for every referral in care (IV
ketamine, so no REMS enrolment is needed to document a session), the clinic's schedule, and
signed letters with verification codes for the public verification page."""

from __future__ import annotations

import hashlib
import os
import random
from datetime import UTC, datetime

from bench.queue_seed import CLINICS, PASSWORD, PROVIDERS, TOTP_SECRET, seed
from portal.roles import Role

COORDINATOR_BASE, CLINICIAN_BASE = 5_000, 6_000  # user ids: base + clinic number
LETTERS = 2_000
IN_CARE = ("accepted", "scheduled", "in_treatment", "completed")

__all__ = ["PASSWORD", "PROVIDERS", "TOTP_SECRET", "CLINICS", "seed_network", "staff_email"]


def staff_email(role: str, clinic: int) -> str:
    return f"{role}{clinic}@bench.test"


def seed_network(url: str) -> dict[str, int]:
    """Everything the load test signs in as and works on; rows added per kind."""
    import psycopg
    from cryptography.fernet import Fernet

    seed(url)  # clinics, practices, providers, 100k referrals, user 1 = clinic 1's coordinator
    now = datetime.now(UTC)
    sealed = Fernet(os.environ["PORTAL_DATA_KEYS"]).encrypt(TOTP_SECRET.encode())
    rng = random.Random(21)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT password_hash FROM user_account WHERE id = 1")
        hashed = cur.fetchone()[0]
        cur.execute(  # clinic 1's coordinator joins the naming of the others
            "UPDATE user_account SET email = %s WHERE id = 1", (staff_email("coordinator", 1),)
        )
        with cur.copy(
            "COPY user_account (id, email, password_hash, full_name, credentials, role, clinic_id, "
            "practice_id, phone, is_enabled, created_at, totp_secret_enc, mfa_enrolled_at) "
            "FROM STDIN"
        ) as copy:
            for clinic in range(1, CLINICS + 1):
                if clinic > 1:
                    copy.write_row(
                        (COORDINATOR_BASE + clinic, staff_email("coordinator", clinic), hashed,
                         f"Coordinator {clinic}", "", Role.COORDINATOR.value, clinic, None, "",
                         True, now, sealed, now)
                    )  # fmt: skip
                copy.write_row(
                    (CLINICIAN_BASE + clinic, staff_email("clinician", clinic), hashed,
                     f"Clinician {clinic}", "MD", Role.CLINICIAN.value, clinic, None, "", True,
                     now, sealed, now)
                )  # fmt: skip
        cur.execute(  # a schedule for every clinic (queue_seed made clinic 1's)
            "INSERT INTO clinic_schedule (clinic_id, treatment_weekdays, opening_hours, "
            "iv_infusion_minutes, iv_recovery_minutes, spravato_dosing_minutes, "
            "spravato_monitoring_minutes, chairs_per_clinician, sla_urgent_days, "
            "sla_routine_days) SELECT id, '[0,1,2,3,4]', '{}', 40, 60, 15, 120, 2, 2, 5 "
            "FROM clinic WHERE id > 1"
        )
        cur.execute(
            "INSERT INTO treatment_course (referral_id, modality, clinician_id, planned_sessions, "
            "created_at, end_reason) SELECT id, 'iv_ketamine', %s + clinic_id, 6, %s, '' "
            "FROM referral WHERE state = ANY(%s)",
            (CLINICIAN_BASE, now, list(IN_CARE)),
        )
        courses = cur.rowcount
        cur.execute("SELECT id FROM referral WHERE state = 'completed' ORDER BY id")
        completed = [r[0] for r in cur.fetchall()]
        from portal.letters.codes import new_code

        with cur.copy(
            "COPY letter (referral_id, kind, version, status, narrative, sha256, page_count, "
            "created_at, sequence, recommendations, verify_code) FROM STDIN"
        ) as copy:
            for referral_id in rng.sample(completed, min(LETTERS, len(completed))):
                digest = hashlib.sha256(str(referral_id).encode()).hexdigest()
                copy.write_row(
                    (referral_id, "acknowledgement", 1, "final", "", digest, 1, now, 1, "",
                     new_code())
                )  # fmt: skip
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    return {"staff": 2 * CLINICS - 1, "courses": courses, "letters": min(LETTERS, len(completed))}
