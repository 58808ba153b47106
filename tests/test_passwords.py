"""Passwords per NIST SP 800-63B: length only, common passwords and own email/name refused,
no truncation; the change page."""

from __future__ import annotations

import pytest

from portal.auth.password_policy import MAX_LENGTH, common_passwords, password_problems
from portal.auth.passwords import hash_password, verify_password
from portal.auth.service import AccountError, create_user
from tests.conftest import force_login, login, page_text
from tests.factories import PASSWORD
from tests.security_helpers import post


@pytest.mark.parametrize(
    "password",
    [
        "short one",  # under 12
        "password1234",  # common (list ships with zxcvbn), digits appended
        "1qaz2wsx3edc",  # on the common list as it is
        "aaaaaaaaaaaaaaa",
        "abcabcabcabcabc",
        "maya.chen@clinic.test",  # the email
        "MayaChen2026!!",  # the name
    ],
)
def test_weak_passwords_are_refused(password):
    assert password_problems(password, email="maya.chen@clinic.test", full_name="Maya Chen")


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "no Composition Rules needed",
        "ünïcödé pässwörds wörk tóo",
        ("seven blue herons " * 8)[:128],  # 128 characters
    ],
)
def test_good_passwords_pass_without_composition_rules(password):
    assert password_problems(password, email="maya.chen@clinic.test", full_name="Maya Chen") == []


@pytest.mark.parametrize(
    "password",
    [
        "1234567890123",  # a sequence
        "qwertyuiopasdf",  # a keyboard walk
        "Harborview Ketamine Clinic",  # the clinic's own name
        "harborviewketamineclinic",
        "HarborviewClinic2026",
    ],
)
def test_easily_guessed_passwords_are_refused_with_zxcvbns_advice(password):
    problems = password_problems(
        password,
        email="maya.chen@clinic.test",
        full_name="Maya Chen",
        context=("Harborview Ketamine Clinic",),
    )
    assert problems, password
    assert problems[0].startswith(("That password would be easy to guess.", "The password may"))


def test_the_clinics_name_is_refused_on_the_change_page_with_advice(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    name = world.clinic.name  # e.g. "Test Ketamine Clinic"
    response = post(
        client, "/account/password", {"current": PASSWORD, "new": name, "confirm": name}
    )
    assert response.status_code == 422
    page = page_text(response.get_data(as_text=True))
    assert "your name or words of this portal alone. Add a few unrelated words." in page


def test_the_demo_password_still_passes_for_the_demo_accounts():
    from portal.demo import DEMO_PASSWORD

    assert (
        password_problems(
            DEMO_PASSWORD,
            email="referrer@demo.test",
            full_name="Maya Chen",
            context=("Lakeside Ketamine & Esketamine Clinic",),
        )
        == []
    )


def test_the_common_list_is_the_packaged_one():
    assert len(common_passwords()) > 20_000
    assert "1qaz2wsx3edc" in common_passwords()


def test_no_truncation_and_unicode_normalised():
    long = "a quiet meadow " * 15  # 225 characters
    stored = hash_password(long)
    assert verify_password(stored, long)
    assert not verify_password(stored, long[:-1] + "X")
    # The same password typed as composed or decomposed characters (NFKC).
    assert verify_password(hash_password("caf\u00e9 on the corner"), "cafe\u0301 on the corner")
    assert password_problems("x" * (MAX_LENGTH + 1)) == [f"Use at most {MAX_LENGTH} characters."]


def test_accounts_cannot_be_created_with_a_weak_password(db):
    with pytest.raises(AccountError, match="commonly used"):
        create_user(
            email="n@example.test",
            password="password123456",
            full_name="N",
            role="referrer",
        )


def test_change_password_page_explains_what_is_wrong(app, world):
    client = app.test_client()
    login(client, world.referrer)
    page = client.get("/account/password").get_data(as_text=True)
    assert "At least 12 characters and hard to guess; no other rules" in page
    wrong = post(
        client, "/account/password", {"current": "nope", "new": "x" * 20, "confirm": "x" * 20}
    )
    assert wrong.status_code == 422
    assert "The current password is not right." in wrong.get_data(as_text=True)
    common = post(
        client,
        "/account/password",
        {"current": PASSWORD, "new": "password123456", "confirm": "password123456"},
    )
    assert "commonly used passwords" in common.get_data(as_text=True)
    differ = post(
        client,
        "/account/password",
        {"current": PASSWORD, "new": "lamp river orange cat", "confirm": "lamp river orange"},
    )
    assert "The two new passwords differ." in differ.get_data(as_text=True)


def test_password_field_accepts_long_passphrases(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    new = "a very long passphrase that keeps going " * 5
    response = post(client, "/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert login(app.test_client(), world.referrer, password=new).status_code == 302


def test_real_deployments_hash_with_the_librarys_argon2id_parameters(app):
    """The suite hashes with a cheap argon2id (TestingConfig); every other configuration keeps
    the library's parameters, and there a cheap hash is upgraded at the next sign-in."""
    from argon2 import PasswordHasher, extract_parameters
    from flask import Flask

    from config import Config, DevelopmentConfig, ProductionConfig
    from portal.auth.passwords import needs_rehash

    assert Config.PASSWORD_HASH_PARAMETERS is None
    assert DevelopmentConfig.PASSWORD_HASH_PARAMETERS is None
    assert ProductionConfig.PASSWORD_HASH_PARAMETERS is None
    real = Flask(__name__)
    real.config.from_object(ProductionConfig)
    cheap = hash_password(PASSWORD)  # the suite's app context
    assert cheap.startswith("$argon2id$")
    assert extract_parameters(cheap).time_cost == 1
    with real.app_context():
        stored = hash_password(PASSWORD)
        assert verify_password(stored, PASSWORD)
        assert verify_password(cheap, PASSWORD)
        assert needs_rehash(cheap)
        assert not needs_rehash(stored)
    assert stored.startswith("$argon2id$")
    assert extract_parameters(stored) == extract_parameters(PasswordHasher().hash("x"))
    assert extract_parameters(stored).memory_cost == 65536
