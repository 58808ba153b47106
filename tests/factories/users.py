"""Clinics, practices, accounts (staff with their authenticator) and account requests, and
the World every access test starts from."""

from __future__ import annotations

import itertools
from functools import cache

import pyotp
from sqlalchemy import select, update

from portal.auth import mfa
from portal.auth.models import User
from portal.auth.passwords import hash_password
from portal.clinics.models import Clinic, Practice
from portal.extensions import db
from portal.roles import CLINIC_ROLES, Role

PASSWORD = "correct horse battery staple"
# Every factory-made clinic staff account has this authenticator secret (two-step sign-in
# is required for them); tests.conftest.login answers the second step with fresh_totp_code.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2id once per run, not once per user


def create_clinic(**overrides) -> Clinic:
    values = {
        "name": "Test Ketamine Clinic",
        "address_line1": "1 Main St",
        "city": "Portland",
        "region": "ME",
        "postal_code": "04101",
        "phone": "207-555-0100",
    }
    clinic = Clinic(**(values | overrides))
    db.session.add(clinic)
    db.session.flush()
    return clinic


def create_practice(**overrides) -> Practice:
    practice = Practice(
        **(
            {
                "name": f"Practice {next(_counter)}",
                "address_line1": "2 Elm St",
                "city": "Portland",
                "region": "ME",
                "postal_code": "04102",
            }
            | overrides
        )
    )
    db.session.add(practice)
    db.session.flush()
    return practice


def create_user(role: Role | str = Role.REFERRER, **overrides) -> User:
    n = next(_counter)
    values = {
        "email": f"user{n}@example.test",
        "password_hash": _password_hash(),
        "full_name": f"Test {Role(role).value.title()} {n}",
        "credentials": "MD",
        "role": Role(role).value,
    }
    if Role(role) in CLINIC_ROLES:
        values["totp_secret_enc"] = mfa.seal_secret(TOTP_SECRET)
    user = User(**(values | overrides))
    db.session.add(user)
    db.session.flush()
    return user


def fresh_totp_code(user: User, secret: str = TOTP_SECRET) -> str:
    """A code the portal will accept now: a time step (within the allowed drift) later than
    the last one the account used. If both were used, the test helper (not the portal)
    forgets the last step, so a test may sign the same user in any number of times."""
    last = db.session.scalar(select(User.totp_last_step).where(User.id == user.id))
    now = mfa.current_step()
    # The current step first, then the next: the earliest allowed step could fall out of the
    # drift window while the browser is still posting the code.
    for step in (now, now + 1):
        if last is None or step > last:
            return pyotp.TOTP(secret).at(step * mfa.STEP_SECONDS)
    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    db.session.commit()
    return pyotp.TOTP(secret).at(now * mfa.STEP_SECONDS)


class World:
    """A clinic with one user of each role, a second practice's referrer and another clinic."""

    def __init__(self) -> None:
        self.clinic = create_clinic()
        self.other_clinic = create_clinic(name="Elsewhere Clinic")
        # The referrer's practice shares referrals among its providers (DOMAIN.md).
        self.practice = create_practice(name="Riverbend Psychiatry", share_referrals=True)
        self.other_practice = create_practice(name="Northgate Medicine")
        self.referrer = create_user(
            Role.REFERRER,
            practice_id=self.practice.id,
            email="referrer@example.test",
            full_name="Maya Chen",
        )
        self.colleague = create_user(
            Role.REFERRER,
            practice_id=self.practice.id,
            email="colleague@example.test",
            full_name="Cora Colleague",
        )
        self.other_referrer = create_user(
            Role.REFERRER,
            practice_id=self.other_practice.id,
            email="other@example.test",
            full_name="Owen Hale",
        )
        self.coordinator = create_user(
            Role.COORDINATOR, clinic_id=self.clinic.id, credentials="", email="coord@example.test"
        )
        self.coordinator2 = create_user(
            Role.COORDINATOR,
            clinic_id=self.clinic.id,
            credentials="",
            email="coord2@example.test",
            full_name="Second Coordinator",
        )
        self.clinician = create_user(
            Role.CLINICIAN,
            clinic_id=self.clinic.id,
            email="clinician@example.test",
            full_name="Samuel Ortiz",
        )
        self.admin = create_user(
            Role.ADMIN, clinic_id=self.clinic.id, credentials="", email="admin@example.test"
        )
        self.other_staff = create_user(
            Role.COORDINATOR,
            clinic_id=self.other_clinic.id,
            credentials="",
            email="elsewhere@example.test",
        )


def pending_account_request(email: str = "asking@example.test"):
    from portal.accounts.models import AccountRequest

    request = AccountRequest(
        email=email,
        full_name="Petra Asking",
        credentials="LCSW",
        npi="1234567893",
        practice_name="Harbor Counseling",
        password_hash=_password_hash(),
    )
    db.session.add(request)
    db.session.flush()
    return request


def password_reset_link(user: User, *, minutes: int = 30) -> str:
    """A live reset for `user`, as the emailed link would carry it: returns its token."""
    import hashlib
    import secrets
    from datetime import timedelta

    from portal.auth.models import PasswordReset
    from portal.auth.reset import fingerprint
    from portal.db import utcnow

    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user.id,
            password_fingerprint=fingerprint(user),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    return token
