"""Development secrets of this install: a random SECRET_KEY and data-encryption key, made on
the first run into instance/ (git-ignored, mode 0600) and read from there afterwards, so no
development portal runs on a key anybody could read in the source.

create_app calls this for the development configuration only, never at import time; the
environment's SECRET_KEY and PORTAL_DATA_KEYS win. Production refuses to start without its
own (config.ProductionConfig.validate); the tests use fixed test-only keys."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from flask import Flask, Response, request

from config import TEST_DATA_KEY

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - the name of the file, not a key
DATA_KEY_FILE = "data_key"
AUDIT_KEY_FILE = "audit_key"
# Until each install made its own keys, development encrypted with this public key. It stays
# as a second key, which only decrypts, in development only: databases made then still open,
# and `flask --app portal keys rotate` re-encrypts their data with the install's own key.
LEGACY_DEV_DATA_KEY = TEST_DATA_KEY


def use_instance_secrets(app: Flask) -> None:
    """Fill in SECRET_KEY and PORTAL_DATA_KEYS that the environment left unset."""
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _read_or_make(
            app, instance / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48)
        )
    if not app.config.get("PORTAL_DATA_KEYS"):
        key = _read_or_make(app, instance / DATA_KEY_FILE, lambda: Fernet.generate_key().decode())
        app.config["PORTAL_DATA_KEYS"] = f"{key},{LEGACY_DEV_DATA_KEY}"
    if not app.config.get("AUDIT_KEYS"):
        from portal.audit.keys import generate

        app.config["AUDIT_KEYS"] = _read_or_make(app, instance / AUDIT_KEY_FILE, generate)


def _read_or_make(app: Flask, path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: a second process
        # starting at the same moment either finds the complete file or keeps its own.
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(make() + "\n")
        try:
            os.link(draft, path)
            app.logger.warning("Made %s: a random key for this development install.", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    value = path.read_text().strip()
    if not value:
        raise RuntimeError(f"{path} is empty: put the key back, or remove the file.")
    return value


LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
NOT_LOCAL = (
    "This portal runs with its development configuration, which answers only on this "
    "computer (http://127.0.0.1 or http://localhost). To serve it to others, run it in "
    "production: PORTAL_ENV=production with SECRET_KEY, DATABASE_URL and PORTAL_DATA_KEYS set "
    "(see the README, Production).\n"
)


def is_local(host: str, remote_addr: str | None) -> bool:
    """Both the name asked for and the address asking are this computer's."""
    name = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    try:
        loopback = ipaddress.ip_address(remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    return name.lower() in LOCAL_NAMES and loopback


def serve_locally_only(app: Flask) -> None:
    """Development keys live in instance/ on this computer, and development is not hardened:
    refuse every request that does not come from this computer to its local name."""

    @app.before_request
    def refuse_remote_requests():
        if not is_local(request.host or "", request.remote_addr):
            return Response(NOT_LOCAL, status=403, mimetype="text/plain")
        return None
