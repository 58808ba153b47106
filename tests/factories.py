"""Plain functions that make test objects through the real services where it matters."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import pyotp
from sqlalchemy import select, update

from portal.auth import mfa
from portal.auth.models import User
from portal.auth.passwords import hash_password
from portal.clinics.models import Clinic, Practice
from portal.extensions import db
from portal.letters.codes import new_code
from portal.letters.models import Letter
from portal.letters.storage import seal_pdf
from portal.pages.submission import submit_referral
from portal.referrals.models import Referral
from portal.referrals.service import NewReferral
from portal.roles import CLINIC_ROLES, Role
from portal.treatment.service import SessionRecord, record_session
from portal.triage.service import accept_referral, open_for_review

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


def referral_data(**overrides) -> NewReferral:
    values = {
        "first_name": "Alexis",
        "last_name": "Testpatient",
        "date_of_birth": date(1980, 5, 17),
        "sex": "female",
        "diagnosis_code": "F33.2",
        "requested_modality": "iv_ketamine",
        "reason": "Two failed SSRI trials.",
        "urgency": "routine",
        "phq9_answers": [2, 2, 2, 2, 2, 2, 2, 2, 0],
    }
    return NewReferral(**(values | overrides))


def create_referral(referrer: User, **overrides) -> Referral:
    referral = submit_referral(referral_data(**overrides), actor=referrer)
    db.session.flush()
    return referral


def questioned_referral(referrer: User, coordinator: User, question: str, **overrides):
    """A sent referral the coordinator reviewed and asked the referrer about (needs_info)."""
    from portal.referrals.service import change_state

    referral = create_referral(referrer, **overrides)
    change_state(referral, "in_review", actor=coordinator, expected_version=referral.version)
    change_state(
        referral,
        "needs_info",
        actor=coordinator,
        expected_version=referral.version,
        reason=question,
    )
    return referral


def accepted_referral(referrer: User, coordinator: User, clinician: User, **overrides):
    referral = create_referral(referrer, **overrides)
    open_for_review(referral, actor=coordinator, expected_version=referral.version)
    accept_referral(
        referral,
        actor=coordinator,
        expected_version=referral.version,
        modality="iv_ketamine",
        clinician=clinician,
        planned_sessions=6,
    )
    return referral


def document_sessions(
    referral: Referral,
    clinician: User,
    count: int,
    start: date | None = None,
    phq9: list[list[int]] | None = None,
) -> None:
    start = start or date.today() - timedelta(days=3 * count)
    for i in range(count):
        answers = phq9[i] if phq9 else [1, 1, 1, 1, 1, 1, 0, 0, 0]
        record_session(
            referral.course,
            SessionRecord(
                session_date=start + timedelta(days=3 * i),
                modality="iv_ketamine",
                dose_mg=Decimal("35"),
                bp_pre=(120, 80),
                bp_post=(138, 88),
                phq9_answers=answers,
            ),
            actor=clinician,
            expected_version=referral.version,
        )


def stored_letter(referral: Referral, signer: User) -> Letter:
    """A final letter row with placeholder bytes, for tests about who may fetch it (the real
    rendering is tested through the clinician's signing in test_loop and test_cli)."""
    pdf = b"%PDF-1.4 placeholder for access tests"
    letter = Letter(
        referral=referral,
        kind="treatment_summary",
        version=1,
        pdf=seal_pdf(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        signed_by_id=signer.id,
        verify_code=new_code(),
    )
    db.session.add(letter)
    db.session.flush()
    return letter


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


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A real, tiny PNG image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def stored_attachment(referral: Referral, user: User, data: bytes | None = None):
    """An attachment stored through the real checks and store."""
    import io

    from werkzeug.datastructures import FileStorage

    from portal.attachments.service import add_upload

    upload = FileStorage(io.BytesIO(data or png_bytes()), filename="scan.png")
    return add_upload(referral, upload, actor=user)


def intake_form(**overrides) -> dict:
    """A complete intake as the browser would post it (action=submit); overrides replace
    fields, and None removes one."""
    from portal.referrals.intake import document_from
    from portal.referrals.intake_io import formdata_from_document

    fields = formdata_from_document(document_from(referral_data()))
    data = {k: (v if k == "diagnoses" else v[0]) for k, v in fields.items()}
    data["action"] = "submit"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


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


def phq9_with_item9(referral: Referral, clinician: User, item9: int = 1):
    """A PHQ-9 recorded on its own date with item 9 above 0: returns the safety alert raised."""
    from portal.treatment.assessments import add_assessment

    assessment = add_assessment(
        referral, "PHQ-9", [1] * 8 + [item9], taken_on=date.today(), actor=clinician
    )
    from portal.treatment.alerts import open_alerts

    return next(a for a in open_alerts(referral) if a.assessment_id == assessment.id)


def spravato_referral(referrer: User, coordinator: User, clinician: User, *, enrolled=True):
    """A referral accepted for SPRAVATO, its patient enrolled in the REMS (or not)."""
    referral = create_referral(referrer, requested_modality="spravato")
    open_for_review(referral, actor=coordinator, expected_version=referral.version)
    accept_referral(
        referral,
        actor=coordinator,
        expected_version=referral.version,
        modality="spravato",
        clinician=clinician,
        planned_sessions=8,
    )
    if enrolled:
        referral.patient.rems_enrolled_on = date.today() - timedelta(days=30)
    db.session.flush()
    return referral


def spravato_session(referral: Referral, clinician: User, day: date | None = None, **overrides):
    """A documented (unsigned) SPRAVATO session through the real service."""
    values = {
        "session_date": day or date.today(),
        "modality": "spravato",
        "dose_mg": Decimal("56"),
        "bp_pre": (128, 82),
        "bp_post": (138, 86),
        "phq9_answers": None,
        "spravato_dose": "56",
        "devices_used": 2,
        "lot_number": "LOT-77",
        "bp_leave": (124, 80),
        "vitals_ok_before": True,
        "vitals_ok_leaving": True,
        "sedation": False,
        "dissociation": True,
        "respiratory_depression": False,
        "serious_adverse_events": False,
        "monitoring_minutes": 125,
        "concomitant_medications": ["benzodiazepines"],
    }
    return record_session(
        referral.course,
        SessionRecord(**(values | overrides)),
        actor=clinician,
        expected_version=referral.version,
    )


# Coordinators and scheduling (issue 4).
def protocol(code: str):
    """A shipped protocol template (seeded if the test database was emptied)."""
    from sqlalchemy import select

    from portal.scheduling.models import ProtocolTemplate
    from portal.scheduling.settings import seed_protocols

    seed_protocols()
    return db.session.scalar(select(ProtocolTemplate).where(ProtocolTemplate.code == code))


def book(referral: Referral, coordinator: User, days: list[date], code: str = "iv_induction"):
    from portal.scheduling.service import book_series

    return book_series(
        referral,
        days,
        protocol=protocol(code),
        actor=coordinator,
        expected_version=referral.version,
    )


def next_weekday(weekday: int, after: date | None = None) -> date:
    """The first `weekday` (0 Monday) strictly after `after` (default today)."""
    day = (after or date.today()) + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def scheduling_objects(referral: Referral, world: World) -> dict:
    """An appointment, a closed date, a protocol and a calendar token, for the access matrix."""
    from portal.scheduling.feed import new_calendar_link
    from portal.scheduling.models import ClosedDate
    from portal.scheduling.settings import clinic_schedule

    appointment = book(referral, world.coordinator, [next_weekday(0)])[0]
    closed = ClosedDate(clinic_id=world.clinic.id, day=next_weekday(2), reason="Staff training")
    db.session.add(closed)
    token = new_calendar_link(clinic_schedule(world.clinic.id), actor=world.admin)
    db.session.flush()
    return {"AP": appointment.id, "C": closed.id, "PT": protocol("custom").id, "K": token}


def draft_letter(referral: Referral, author: User, kind: str = "interim_progress") -> Letter:
    """An unsigned draft letter (no PDF yet)."""
    letter = Letter(
        referral=referral,
        kind=kind,
        sequence=1,
        version=1,
        status="draft",
        narrative="Draft text.",
        recommendations="",
        drafted_by_id=author.id,
    )
    db.session.add(letter)
    db.session.flush()
    return letter
