"""SMART Backend Services: a client proves itself with a JWT signed by one of its registered
keys (RS384 or ES384, checked by PyJWT), and gets an access token for 5 minutes carrying the
scopes it asked for that are registered for it. Each assertion id (`jti`) is used once."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from portal.db import utcnow
from portal.extensions import db
from portal.fhir import scopes as smart
from portal.fhir.models import FhirAccessToken, FhirAssertionId, FhirClient

if TYPE_CHECKING:
    import jwt  # imported where a JWT is read: PyJWT loads cryptography's X.509 and EC

ALGORITHMS = ["RS384", "ES384"]
TOKEN_LIFETIME = timedelta(minutes=5)
# An assertion may not live longer than this (SMART: no more than five minutes ahead).
ASSERTION_MAX_LIFETIME = timedelta(minutes=5)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TokenRefused(Exception):
    """The token request is refused; `error` is the OAuth 2.0 error code."""

    def __init__(self, error: str, description: str, client: FhirClient | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.client = error, description, client

    @property
    def status(self) -> int:
        return 401 if self.error == "invalid_client" else 400


@dataclass(frozen=True)
class Grant:
    client: FhirClient
    scopes: smart.Scopes


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_jwks(jwks: object) -> jwt.PyJWKSet:
    """A key set of public keys PyJWT can use with RS384 or ES384; raises ValueError."""
    import jwt

    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError("A JWKS is a JSON object with a non-empty list of keys.")
    for key in jwks["keys"]:
        if not isinstance(key, dict) or any(k in key for k in ("d", "p", "q", "dp", "dq", "qi")):
            raise ValueError("The key set holds a private key; register public keys only.")
    try:
        keyset = jwt.PyJWKSet.from_dict(jwks)
    except jwt.PyJWTError as error:
        raise ValueError(f"The key set cannot be read: {error}") from error
    for key in keyset.keys:
        if key.key_type not in ("RSA", "EC"):
            raise ValueError("Only RSA and EC keys are accepted (RS384, ES384).")
    return keyset


# Parsed key sets, by client and the sha256 of the registered JWKS (a changed key set is parsed
# afresh); parsing builds the public key objects, which costs more than verifying with them.
_KEYSETS: dict[tuple[int, str], jwt.PyJWKSet] = {}
_KEYSETS_MAX = 512
# Expired access tokens and assertion ids are purged at most once a minute per process.
PURGE_EVERY_SECONDS = 60.0
_last_purge = {"token": 0.0, "jti": 0.0}
_lock = threading.Lock()


def parsed_keyset(client: FhirClient) -> jwt.PyJWKSet:
    digest = hashlib.sha256(json.dumps(client.jwks, sort_keys=True).encode()).hexdigest()
    key = (client.id, digest)
    keyset = _KEYSETS.get(key)
    if keyset is None:
        keyset = check_jwks(client.jwks)
        with _lock:
            if len(_KEYSETS) >= _KEYSETS_MAX:
                _KEYSETS.clear()
            _KEYSETS[key] = keyset
    return keyset


def _purge_due(kind: str) -> bool:
    now = time.monotonic()
    with _lock:
        if now - _last_purge[kind] < PURGE_EVERY_SECONDS:
            return False
        _last_purge[kind] = now
        return True


def _key_for(client: FhirClient, header: dict) -> jwt.PyJWK:
    keyset = parsed_keyset(client)
    kid = header.get("kid")
    candidates = [k for k in keyset.keys if kid is None or k.key_id == kid]
    if not candidates:
        raise TokenRefused("invalid_client", "No registered key has this kid.", client)
    wanted = "RSA" if header.get("alg") == "RS384" else "EC"
    for key in candidates:
        if key.key_type == wanted:
            return key
    raise TokenRefused("invalid_client", "No registered key fits the algorithm.", client)


def issue_token(form: dict[str, str], *, token_urls: list[str]) -> tuple[str, Grant]:
    """Check a client-credentials request with its signed assertion; a new access token.
    The caller commits (the assertion id is remembered even if nothing else happens)."""
    if form.get("grant_type") != "client_credentials":
        raise TokenRefused("unsupported_grant_type", "grant_type must be client_credentials.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise TokenRefused("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = form.get("client_assertion", "")
    import jwt

    try:
        unverified = jwt.api_jwt.decode_complete(assertion, options={"verify_signature": False})
        header, claimed = unverified["header"], unverified["payload"]
    except jwt.PyJWTError as error:
        raise TokenRefused("invalid_request", "client_assertion is not a JWT.") from error
    if header.get("alg") not in ALGORITHMS:
        raise TokenRefused("invalid_client", "The assertion must be signed with RS384 or ES384.")
    client = db.session.scalar(
        select(FhirClient).where(FhirClient.client_id == str(claimed.get("iss", ""))[:64])
    )
    if client is None or not client.is_active:
        raise TokenRefused("invalid_client", "Unknown or deactivated client.")
    claims = _verified_claims(assertion, header, client, token_urls)
    _use_once(client, str(claims["jti"]), claims["exp"])
    granted = smart.intersect(
        smart.parse(form.get("scope", ""), strict=False), smart.parse(client.scopes)
    )
    if not granted:
        raise TokenRefused("invalid_scope", "None of the scopes asked is registered.", client)
    token = secrets.token_urlsafe(32)
    if _purge_due("token"):  # expired tokens are kept a day (for an incident's questions)
        db.session.execute(
            delete(FhirAccessToken).where(FhirAccessToken.expires_at < utcnow() - timedelta(days=1))
        )
    db.session.add(
        FhirAccessToken(
            token_sha256=token_hash(token),
            client_pk=client.id,
            scopes=smart.render(granted),
            expires_at=utcnow() + TOKEN_LIFETIME,
        )
    )
    db.session.flush()
    return token, Grant(client, granted)


def _verified_claims(assertion: str, header: dict, client: FhirClient, urls: list[str]) -> dict:
    import jwt

    key = _key_for(client, header)
    try:
        claims = jwt.decode(
            assertion,
            key=key,
            algorithms=[header["alg"]],
            audience=urls,
            issuer=client.client_id,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRefused("invalid_client", "The assertion has expired.", client) from error
    except jwt.InvalidAudienceError as error:
        raise TokenRefused("invalid_client", "aud must be the token URL.", client) from error
    except jwt.PyJWTError as error:
        raise TokenRefused("invalid_client", "The assertion's signature or claims are invalid.",
                           client) from error  # fmt: skip
    if claims["sub"] != client.client_id:
        raise TokenRefused("invalid_client", "sub must be the client id.", client)
    lifetime = timedelta(seconds=int(claims["exp"]) - int(utcnow().timestamp()))
    if lifetime > ASSERTION_MAX_LIFETIME + timedelta(seconds=30):
        raise TokenRefused("invalid_client", "The assertion may live 5 minutes at most.", client)
    return claims


def _use_once(client: FhirClient, jti: str, exp: int) -> None:
    """Remember the assertion id until it expires; a second use is a replay. One INSERT that
    does nothing on the unique (client, jti): no row returned is a replay (of two racing
    requests with the same jti, the database lets one in)."""
    now = utcnow()
    if _purge_due("jti"):  # an id may be forgotten once its assertion has expired
        db.session.execute(delete(FhirAssertionId).where(FhirAssertionId.expires_at < now))
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = db.session.execute(
        dialect.insert(FhirAssertionId)
        .values(
            client_pk=client.id,
            jti=jti[:255],
            expires_at=now + timedelta(seconds=max(0, exp - int(now.timestamp()))),
        )
        .on_conflict_do_nothing(index_elements=["client_pk", "jti"])
        .returning(FhirAssertionId.id)
    )
    if inserted.scalar() is None:
        raise TokenRefused("invalid_client", "This assertion (jti) was already used.", client)


def grant_for(token: str) -> Grant | None:
    """The client and scopes of a live access token, or None."""
    row = db.session.scalar(
        select(FhirAccessToken)
        .options(joinedload(FhirAccessToken.client))
        .where(FhirAccessToken.token_sha256 == token_hash(token))
    )
    if row is None or row.expires_at <= utcnow() or not row.client.is_active:
        return None
    return Grant(row.client, smart.parse(row.scopes))
