"""Configuration classes. Everything secret or deployment-specific comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


# Fernet key for the test suite only: it is public, so it protects nothing. Development makes
# its own keys (portal/instance_secrets.py); production refuses to start without its own.
TEST_DATA_KEY = "ZGV2LW9ubHkta2V5LW5vdC1zZWNyZXQtMDAwMDAwMDA="  # noqa: S105
# The audit chain's HMAC key for the test suite only (public: it protects nothing).
TEST_AUDIT_KEY = "test:dGVzdC1vbmx5LWF1ZGl0LWtleS1ub3Qtc2VjcmV0LTAwMDAw"  # noqa: S105


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    # hide_parameters: a database error must never print patient values into a log.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Each attachment may be up to MAX_ATTACHMENT_BYTES, and one form may carry up to
    # MAX_ATTACHMENT_FILES of them. The request cap (Flask's MAX_CONTENT_LENGTH) is worked out
    # from these two (portal/attachments/limits.py), so a file too large is still read and its
    # refusal keeps everything else that was typed.
    MAX_ATTACHMENT_BYTES = int(os.environ.get("MAX_ATTACHMENT_MB", "20")) * 1024 * 1024
    MAX_ATTACHMENT_FILES = 10
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    # Attachments live outside static/, under random names.
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR", str(INSTANCE_DIR / "attachments"))
    CLINIC_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "America/New_York")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Encryption at rest (portal.crypto): Fernet keys, comma-separated, newest first.
    PORTAL_DATA_KEYS: str | None = os.environ.get("PORTAL_DATA_KEYS")
    # Sessions (portal.auth.sessions): sign-out after this much inactivity, re-sign-in after
    # this long whatever the activity, and how recent a password check must be for signing.
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "15"))
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_WARNING_SECONDS = 60
    REAUTH_WINDOW_MINUTES = 5
    # argon2id parameters for passwords (portal.auth.passwords); None: the library's current
    # ones (time_cost 3, 64 MiB, parallelism 4), which every real deployment keeps.
    PASSWORD_HASH_PARAMETERS: dict | None = None
    # Throttling (Flask-Limiter) per client address; Redis shares counts across workers.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Reverse proxies in front of the portal that set X-Forwarded-For (0: none, served directly).
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
    AUTH_RATE_LIMIT = "10 per minute; 100 per hour"
    # Failed sign-ins in a row: per account and address, the address is then blocked for the
    # account; per account from anywhere, the account is then under attack (portal.auth.lockout).
    LOCKOUT_THRESHOLD = 10
    LOCKOUT_ACCOUNT_THRESHOLD = 30
    # Email (portal/notifications/mailer.py). Without MAIL_SERVER, development keeps mail in
    # the development mailbox (Sent mail); anywhere else a delivery fails until it is set.
    # Keep treatment words out of the sender's name: it shows in every inbox.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Referral portal <no-reply@portal.invalid>"
    )
    MAIL_TIMEOUT = 15
    MAIL_MAX_TRIES = int(os.environ.get("MAIL_MAX_TRIES", "6"))
    MAIL_RETRY_SECONDS = int(os.environ.get("MAIL_RETRY_SECONDS", "60"))  # doubled each try
    # FHIR rest-hook Subscriptions (portal/fhir/hooks.py): tries, back-off base (doubled each
    # try); plain http endpoints only on loopback and only where this is set (tests, demo).
    FHIR_HOOK_MAX_TRIES = int(os.environ.get("FHIR_HOOK_MAX_TRIES", "6"))
    FHIR_HOOK_RETRY_SECONDS = int(os.environ.get("FHIR_HOOK_RETRY_SECONDS", "30"))
    FHIR_HOOK_ALLOW_HTTP = False
    # Daily digest emails leave at this clinic-local hour.
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "7"))
    # The job queue (portal/jobs.py): Redis when REDIS_URL is set, else this SQLite file.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    QUEUE_NAME = os.environ.get("QUEUE_NAME", "portal")
    QUEUE_SQLITE_PATH = os.environ.get("QUEUE_SQLITE_PATH", str(INSTANCE_DIR / "queue.sqlite3"))
    PASSWORD_RESET_MINUTES = 30
    RESET_RATE_LIMIT = "5 per 15 minutes"  # per address and per client address
    # The audit chain (portal/audit/chain.py): HMAC keys `id:secret`, comma-separated, newest
    # first, never in the database; a signed checkpoint of the chain's head outside the
    # database (default instance/audit-checkpoint.json), written at most this often by the
    # sequencer; the sequencer runs right after each commit that wrote audit events.
    AUDIT_KEYS: str | None = os.environ.get("AUDIT_KEYS")
    AUDIT_CHECKPOINT_PATH: str | None = os.environ.get("AUDIT_CHECKPOINT_PATH")
    AUDIT_CHECKPOINT_SECONDS: int | None = int(os.environ.get("AUDIT_CHECKPOINT_SECONDS", "60"))
    AUDIT_CHAIN_INLINE = True
    # ... but at most this often per process: the rows of the requests in between are linked
    # together by the next run (or the job worker's minute run), not one transaction each.
    AUDIT_CHAIN_EVERY_SECONDS = float(os.environ.get("AUDIT_CHAIN_EVERY_SECONDS", "1"))
    # Observability (portal/observability/): /readyz fails when this many jobs wait; /metrics
    # answers these addresses or networks (comma-separated), or a request with
    # "Authorization: Bearer METRICS_TOKEN" (the only way in for a request a proxy forwarded:
    # one with X-Forwarded-For, Forwarded or X-Real-IP).
    READY_MAX_QUEUE_DEPTH = int(os.environ.get("READY_MAX_QUEUE_DEPTH", "1000"))
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1,::1")
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    # A signed letter's PDF is rendered by the job workers (portal/letters/issuing.py), not in
    # the web process; the page says "being prepared" until it is stored.
    LETTERS_RENDER_IN_WORKER = os.environ.get("LETTERS_RENDER_IN_WORKER", "1") != "0"


class DevelopmentConfig(Config):
    """Local use: SQLite under instance/ unless DATABASE_URL says otherwise."""

    ENV_NAME = "development"
    FHIR_HOOK_ALLOW_HTTP = True  # a demo receiver on 127.0.0.1
    # No fixed secrets: unless the environment sets them, create_app makes a random secret key
    # and data key on the first run and keeps them in instance/ (portal/instance_secrets.py).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    PORTAL_DATA_KEYS = os.environ.get("PORTAL_DATA_KEYS")
    AUDIT_KEYS = os.environ.get("AUDIT_KEYS")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    )


class TestingConfig(Config):
    """The test suite: a database named by TEST_DATABASE_URL, SQLite in a temp file by default."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    PORTAL_DATA_KEYS = TEST_DATA_KEY
    AUDIT_KEYS = TEST_AUDIT_KEY
    AUDIT_CHECKPOINT_SECONDS = None  # the tests write checkpoints when they mean to
    AUDIT_CHAIN_EVERY_SECONDS = 0.0  # linked after every commit; test_audit_chain tests the pace
    # High enough that no test trips it by accident; tests of throttling set the real value,
    # and the limiter is reset between tests.
    AUTH_RATE_LIMIT = "1000 per minute"
    RATELIMIT_STORAGE_URI = "memory://"  # never share counts with a developer's Redis
    # The queue in memory unless a test points it at a file (tests/notification_helpers.py);
    # a developer's Redis is never used.
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
    QUEUE_SQLITE_PATH = os.environ.get("TEST_QUEUE_SQLITE_PATH", "")
    MAIL_SERVER = os.environ.get("TEST_MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("TEST_MAIL_PORT", "25"))
    MAIL_RETRY_SECONDS = 0
    MAIL_MAX_TRIES = 3
    FHIR_HOOK_RETRY_SECONDS = 0
    FHIR_HOOK_MAX_TRIES = 3
    FHIR_HOOK_ALLOW_HTTP = True
    # Signing renders at once, so that tests about a letter's content read it back right after
    # signing; the tests of the worker path (test_letter_issuing.py) turn this on.
    LETTERS_RENDER_IN_WORKER = False
    # The tests write dates with the machine's date.today() (UTC on CI); the clinic's own zone
    # is tested on purpose in test_clock.py.
    CLINIC_TIMEZONE = os.environ.get("TEST_CLINIC_TIMEZONE", "UTC")
    # Still argon2id, at its cheapest: a sign-in's password check costs ~0.3 s with the real
    # parameters on a busy CI machine, and the suite signs in hundreds of times. What a test of
    # hashing itself needs (the format, the real parameters elsewhere) is tested in
    # tests/test_passwords.py.
    PASSWORD_HASH_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


class ProductionConfig(Config):
    """Fails closed: no secret key or database URL, no start."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # __Host-: the browser only accepts it Secure, for the whole host, without Domain.
    SESSION_COOKIE_NAME = "__Host-portal_session"
    SESSION_COOKIE_PATH = "/"

    @classmethod
    def validate(cls) -> None:
        required = ("SECRET_KEY", "DATABASE_URL", "PORTAL_DATA_KEYS", "AUDIT_KEYS")
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production configuration refuses to start without: " + ", ".join(missing)
            )
        if os.environ["DATABASE_URL"].startswith("sqlite"):
            raise RuntimeError(
                "Production refuses to start on SQLite: set DATABASE_URL to a PostgreSQL URL "
                "(postgresql+psycopg://USER@HOST:5432/NAME)."
            )
        from portal.crypto import parse_keys

        parse_keys(os.environ["PORTAL_DATA_KEYS"])  # a malformed key stops the start too
        redis_url = os.environ.get("REDIS_URL", "")
        if not redis_url and os.environ.get("PORTAL_ONE_WORKER") != "1":
            raise RuntimeError(
                "Production refuses to start without REDIS_URL: rate limits (sign-in, codes) "
                "must be counted by all workers together. Set REDIS_URL=redis://HOST:6379/0, "
                "or, if the portal runs exactly one worker process, PORTAL_ONE_WORKER=1."
            )
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise RuntimeError("REDIS_URL must start with redis://, rediss:// or unix://.")
        from portal.audit.keys import parse as parse_audit_keys

        parse_audit_keys(os.environ["AUDIT_KEYS"])


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
