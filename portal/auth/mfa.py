"""Two-step sign-in: TOTP (RFC 6238) with one step of drift, each time step accepted once,
QR codes drawn locally, and ten single-use recovery codes stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from typing import TYPE_CHECKING

import pyotp
from sqlalchemy import delete, or_, select, update

from portal.auth.models import RecoveryCode
from portal.crypto import decrypt, encrypt, is_encrypted, reencrypt, rotation_step
from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.auth.models import User

ISSUER = "Ketamine referral portal"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def seal_secret(secret: str) -> bytes:
    return encrypt(secret.encode())


def open_secret(sealed: bytes) -> str:
    return decrypt(sealed).decode()


def current_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    """The otpauth:// URI as an SVG QR code, drawn here: nothing is sent to a third party."""
    import segno  # here, not at start-up: only the enrolment page draws a code

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False)
    return out.getvalue()


def matching_step(secret: str, code: str, *, after: int | None) -> int | None:
    """The time step (now, or one either side) whose code this is, if later than `after`."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue  # a code is good once: this step or an earlier one was already used
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def verify_totp(user: User, code: str) -> bool:
    """Check a code from the user's authenticator and remember its step so it cannot be
    replayed. The step is claimed by one conditional UPDATE: of requests racing with the same
    code, only the one whose UPDATE changed the row is accepted (the others wait on its row
    lock on PostgreSQL, on the write lock on SQLite, then find the step taken)."""
    if user.totp_secret_enc is None:
        return False
    step = matching_step(open_secret(user.totp_secret_enc), code, after=user.totp_last_step)
    if step is None:
        return False
    return _claim_step(user, step)


def _claim_step(user: User, step: int) -> bool:
    from portal.auth.models import User

    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user, ["totp_last_step"])
    return claimed == 1


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Store the secret once the user proves their app shows its codes; returns the new
    recovery codes to show once, or None if the code is wrong."""
    step = matching_step(secret, code, after=None)
    if step is None:
        return None
    user.totp_secret_enc = seal_secret(secret)
    user.totp_last_step = step
    user.mfa_enrolled_at = utcnow()
    return new_recovery_codes(user)


def reset(user: User) -> None:
    """Forget the authenticator and the recovery codes (an administrator's action)."""
    user.totp_secret_enc = None
    user.totp_last_step = None
    user.mfa_enrolled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# Recovery codes: 80 random bits each, so a salted SHA-256 is as good as a slow hash here.
def _hash_code(code: str, salt: str) -> str:
    return salt + "$" + hashlib.sha256((salt + code).encode()).hexdigest()


def _clean(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes; earlier ones stop working."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(10)  # 20 hex characters
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
        db.session.add(
            RecoveryCode(user_id=user.id, code_hash=_hash_code(raw, secrets.token_hex(8)))
        )
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once."""
    cleaned = _clean(code)
    if len(cleaned) != 20:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        salt = row.code_hash.split("$", 1)[0]
        if hmac.compare_digest(_hash_code(cleaned, salt), row.code_hash):
            # Claimed by a conditional UPDATE: a code raced from several sessions is
            # accepted by the one request whose UPDATE changed the row.
            claimed = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.refresh(row, ["used_at"])
            return claimed == 1
    return False


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


@rotation_step("TOTP secrets")
def rotate_totp_secrets() -> int:
    from portal.auth.models import User

    users = db.session.scalars(select(User).where(User.totp_secret_enc.is_not(None))).all()
    for user in users:
        sealed = user.totp_secret_enc
        user.totp_secret_enc = reencrypt(sealed) if is_encrypted(sealed) else encrypt(sealed)
    db.session.flush()
    return len(users)
