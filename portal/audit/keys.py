"""The audit chain's keys: HMAC-SHA256 keys that live outside the database (AUDIT_KEYS).

AUDIT_KEYS holds `id:secret` pairs separated by commas, newest first. New links of the chain
and new checkpoints use the first; verification picks each link's key by the id stored with
it. To rotate, put a new pair in front (`flask --app portal audit new-key` prints one); keep
an old key as long as links made with it are to be verified with `audit verify --all` (a
checkpoint made after the rotation vouches for the links before it).

Someone who can write to the database but does not hold the key cannot recompute the chain
after editing, deleting or blanking rows: the MACs no longer match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class AuditKeyError(RuntimeError):
    """AUDIT_KEYS is missing or malformed, or names no key of a link being verified."""


@dataclass(frozen=True)
class AuditKeys:
    pairs: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.pairs[0][0]

    def secret(self, key_id: str) -> bytes:
        for kid, secret in self.pairs:
            if kid == key_id:
                return secret
        raise AuditKeyError(f"AUDIT_KEYS has no key {key_id!r}")

    def mac(self, key_id: str, message: bytes) -> str:
        return hmac.new(self.secret(key_id), message, hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def parse(value: str | None) -> AuditKeys:
    pairs = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        kid, sep, text = item.partition(":")
        if not sep or not KEY_ID.match(kid):
            raise AuditKeyError("AUDIT_KEYS: each key is written id:secret (id: 1-16 letters)")
        try:
            secret = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError as error:
            raise AuditKeyError(f"AUDIT_KEYS: key {kid!r} is not base64") from error
        if len(secret) < 32:
            raise AuditKeyError(f"AUDIT_KEYS: key {kid!r} is shorter than 32 bytes")
        pairs.append((kid, secret))
    if not pairs:
        raise AuditKeyError("AUDIT_KEYS holds no key")
    if len({kid for kid, _ in pairs}) != len(pairs):
        raise AuditKeyError("AUDIT_KEYS names a key id twice")
    return AuditKeys(tuple(pairs))


def current() -> AuditKeys:
    return parse(current_app.config.get("AUDIT_KEYS"))


def generate(key_id: str | None = None) -> str:
    """A new `id:secret` pair (32 random bytes)."""
    kid = key_id or "k" + secrets.token_hex(3)
    if not KEY_ID.match(kid):
        raise AuditKeyError("a key id is 1-16 letters, digits, - or _")
    return f"{kid}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"
