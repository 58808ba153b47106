"""Encryption at rest: letter PDFs and TOTP secrets are stored encrypted; key rotation
re-encrypts everything and loses nothing."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from portal.auth.models import User
from portal.crypto import DecryptionError, decrypt, encrypt, rotation_steps
from portal.extensions import db
from portal.letters.models import Letter
from tests.conftest import force_login
from tests.factories import accepted_referral, document_sessions, stored_letter


def _raw_pdf(letter_id: int) -> bytes:
    with db.engine.connect() as conn:
        return bytes(
            conn.execute(text("SELECT pdf FROM letter WHERE id = :i"), {"i": letter_id}).scalar()
        )


@pytest.fixture
def letter(world):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    document_sessions(referral, world.clinician, 1)
    letter = stored_letter(referral, world.clinician)
    db.session.commit()
    return letter


def test_letter_pdf_is_encrypted_at_rest_and_served_decrypted(app, world, letter):
    raw = _raw_pdf(letter.id)
    assert b"%PDF" not in raw
    assert raw.startswith(b"gAAAAA")
    client = app.test_client()
    force_login(client, world.referrer)
    assert client.get(f"/letters/{letter.id}/download").data.startswith(b"%PDF-1.4 placeholder")


def test_key_rotation_re_encrypts_everything_and_loses_nothing(app, world, letter, monkeypatch):
    old = app.config["PORTAL_DATA_KEYS"]
    new = Fernet.generate_key().decode()
    before = _raw_pdf(letter.id)
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "5 TOTP secrets" in result.output  # the World's five clinic staff
    assert "1 letter PDFs" in result.output
    assert {s.name for s in rotation_steps()} >= {"letter PDFs", "TOTP secrets"}
    after = _raw_pdf(letter.id)
    assert after != before
    # The old key can go: everything still opens with the new key alone.
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", new)
    assert decrypt(after).startswith(b"%PDF-1.4 placeholder")
    db.session.expire_all()
    staff = db.session.scalars(select(User).where(User.totp_secret_enc.is_not(None))).all()
    assert all(decrypt(u.totp_secret_enc) for u in staff)
    client = app.test_client()
    force_login(client, world.referrer)
    assert client.get(f"/letters/{letter.id}/download").data.startswith(b"%PDF-1.4")


def test_rotation_without_the_old_key_changes_nothing(app, world, letter, monkeypatch):
    before = _raw_pdf(letter.id)
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "Nothing was changed" in result.output
    assert _raw_pdf(letter.id) == before


def test_a_pdf_stored_before_encryption_is_encrypted_by_rotation(app, world, letter):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE letter SET pdf = :p"), {"p": b"%PDF-legacy"})
    client = app.test_client()
    force_login(client, world.referrer)
    assert client.get(f"/letters/{letter.id}/download").data == b"%PDF-legacy"  # still readable
    assert app.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    assert decrypt(_raw_pdf(letter.id)) == b"%PDF-legacy"


def test_tampered_ciphertext_is_refused(app):
    token = bytearray(encrypt(b"secret"))
    token[-5] ^= 1
    with pytest.raises(DecryptionError):
        decrypt(bytes(token))
    assert isinstance(db.session.scalar(select(Letter.id)), int | None)
