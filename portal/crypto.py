"""Encryption at rest: MultiFernet over the keys in PORTAL_DATA_KEYS, and key rotation.

Keys are url-safe base64 Fernet keys separated by commas, newest first: encryption uses the
first, decryption tries each. To rotate, put a new key in front, run
`flask --app portal keys rotate` (every registered step re-encrypts its data with the new key),
then drop the old key. Features register their own step with @rotation_step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class KeyConfigError(RuntimeError):
    """PORTAL_DATA_KEYS is missing or holds something that is not a Fernet key."""


class DecryptionError(ValueError):
    """The data was not encrypted with any of the configured keys, or was altered."""


def parse_keys(value: str | None) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in (value or "").split(",") if k.strip())
    if not keys:
        raise KeyConfigError("PORTAL_DATA_KEYS holds no key")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError) as error:
            raise KeyConfigError(
                "PORTAL_DATA_KEYS holds a value that is not a Fernet key"
            ) from error
    return keys


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def _cipher() -> MultiFernet:
    return _multifernet(parse_keys(current_app.config.get("PORTAL_DATA_KEYS")))


def encrypt(data: bytes) -> bytes:
    """Encrypt with the newest key (authenticated: any change is detected on decryption)."""
    return _cipher().encrypt(data)


def decrypt(token: bytes) -> bytes:
    """Decrypt with whichever configured key made the token."""
    try:
        return _cipher().decrypt(token)
    except InvalidToken as error:
        raise DecryptionError("cannot decrypt: unknown key or altered data") from error


def reencrypt(token: bytes) -> bytes:
    """The same plaintext under the newest key; raises DecryptionError if no key opens it."""
    try:
        return _cipher().rotate(token)
    except InvalidToken as error:
        raise DecryptionError("cannot re-encrypt: unknown key or altered data") from error


def is_encrypted(data: bytes) -> bool:
    """A Fernet token (version byte 0x80, base64) rather than plaintext."""
    return data.startswith(b"gAAAAA")


@dataclass(frozen=True)
class RotationStep:
    name: str
    run: Callable[[], int]  # re-encrypts its data with the newest key; returns items done


_STEPS: dict[str, RotationStep] = {}


def rotation_step(name: str) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register a function that re-encrypts one kind of stored data (rows, files)."""

    def register(func: Callable[[], int]) -> Callable[[], int]:
        _STEPS[name] = RotationStep(name, func)
        return func

    return register


def rotation_steps() -> list[RotationStep]:
    return list(_STEPS.values())


def rotate_all() -> dict[str, int]:
    """Run every registered step; the caller commits (database steps flush only)."""
    return {step.name: step.run() for step in rotation_steps()}
