"""Password hashing with argon2id."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from portal.auth.password_policy import normalize

_DEFAULT = PasswordHasher()  # argon2id with the library's current parameters


@cache
def _hasher_with(parameters: tuple[tuple[str, int], ...]) -> PasswordHasher:
    return PasswordHasher(**dict(parameters))


def _hasher() -> PasswordHasher:
    """The library's parameters, unless the app's PASSWORD_HASH_PARAMETERS names others (the
    test suite: a cheap argon2id, so that hundreds of sign-ins do not cost minutes)."""
    parameters = current_app.config.get("PASSWORD_HASH_PARAMETERS") if has_app_context() else None
    if not parameters:
        return _DEFAULT
    return _hasher_with(tuple(sorted(parameters.items())))


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified when the email is unknown, so a wrong email costs as long as a wrong password.
    Computed on the first sign-in, not at import (a hash costs ~100 ms of start-up)."""
    return hasher.hash("not-a-real-password-used-for-timing")


def prepare_dummy_hash() -> None:
    """Compute the stand-in hash of the real parameters now (a server's worker, at start)."""
    _dummy_hash(_DEFAULT)


def hash_password(password: str) -> str:
    return _hasher().hash(normalize(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    try:
        ok = hasher.verify(password_hash or _dummy_hash(hasher), normalize(password))
        return ok and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
