"""Configuration: production refuses to start without its secrets, development makes its own
per install, and the settings read from the environment."""

from __future__ import annotations

import importlib

import pytest
from cryptography.fernet import Fernet

from config import INSTANCE_DIR, TEST_AUDIT_KEY, ProductionConfig
from portal import create_app
from portal.audit.keys import AuditKeyError
from portal.crypto import KeyConfigError

# Production refuses SQLite; these tests never connect to the database they name.
UNUSED_PG = "postgresql+psycopg://portal@127.0.0.1:9/never-connected"


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app(ProductionConfig)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app("production")


def test_production_refuses_to_start_on_sqlite(monkeypatch):
    monkeypatch.setenv("PORTAL_ONE_WORKER", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("AUDIT_KEYS", TEST_AUDIT_KEY)
    for url in ("sqlite://", "sqlite:////srv/portal/portal.sqlite3"):
        monkeypatch.setenv("DATABASE_URL", url)
        with pytest.raises(RuntimeError, match="^Production refuses to start on SQLite: set "):
            create_app("production")


def test_production_starts_with_all_three(monkeypatch, tmp_path):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PORTAL_ONE_WORKER", "1")  # no Redis here: see test_rate_limit_store.py
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", UNUSED_PG)
    monkeypatch.setenv("PORTAL_DATA_KEYS", key)
    monkeypatch.setenv("AUDIT_KEYS", TEST_AUDIT_KEY)

    class Prod(ProductionConfig):
        SECRET_KEY = "x" * 40
        SQLALCHEMY_DATABASE_URI = UNUSED_PG
        PORTAL_DATA_KEYS = key
        AUDIT_KEYS = TEST_AUDIT_KEY

    app = create_app(Prod)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal_session"
    response = app.test_client().get("/login", base_url="https://portal.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portal_session=")
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_refuses_to_start_without_a_data_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", UNUSED_PG)
    monkeypatch.setenv("AUDIT_KEYS", TEST_AUDIT_KEY)
    monkeypatch.delenv("PORTAL_DATA_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="PORTAL_DATA_KEYS"):
        create_app(ProductionConfig)
    monkeypatch.setenv("PORTAL_DATA_KEYS", "not-a-fernet-key")
    with pytest.raises(KeyConfigError):
        create_app(ProductionConfig)


def test_production_refuses_to_start_without_an_audit_key(monkeypatch):
    monkeypatch.setenv("PORTAL_ONE_WORKER", "1")  # no Redis here: see test_rate_limit_store.py
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", UNUSED_PG)
    monkeypatch.setenv("PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    monkeypatch.delenv("AUDIT_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="AUDIT_KEYS"):
        create_app(ProductionConfig)
    monkeypatch.setenv("AUDIT_KEYS", "k1:dG9vLXNob3J0")
    with pytest.raises(AuditKeyError, match="shorter than 32 bytes"):
        create_app(ProductionConfig)


def test_development_database_default_and_override(monkeypatch):
    import config

    try:
        monkeypatch.delenv("DATABASE_URL", raising=False)
        importlib.reload(config)
        default = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
        assert default == config.DevelopmentConfig.SQLALCHEMY_DATABASE_URI
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@db.example/portal")
        importlib.reload(config)
        assert config.DevelopmentConfig.SQLALCHEMY_DATABASE_URI == (
            "postgresql+psycopg://someone@db.example/portal"
        )
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_cookie_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_rate_limits_use_redis_when_redis_url_is_set(monkeypatch):
    import config

    try:
        monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
        importlib.reload(config)
        assert config.ProductionConfig.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/0"
        assert config.TestingConfig.RATELIMIT_STORAGE_URI == "memory://"
        monkeypatch.delenv("REDIS_URL")
        importlib.reload(config)
        assert config.ProductionConfig.RATELIMIT_STORAGE_URI == "memory://"
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_limiter_is_exposed_for_other_features(app):
    from portal.extensions import auth_rate_limit, limiter

    assert app.extensions["limiter"] == {limiter}
    with app.app_context():
        assert auth_rate_limit() == app.config["AUTH_RATE_LIMIT"]


def test_behind_a_proxy_each_client_is_counted_by_its_own_address(monkeypatch, tmp_path):
    """PROXY_HOPS=1: the rate limit and the audit log see X-Forwarded-For's client, so one
    noisy client behind the proxy does not lock everybody else out."""
    from config import TestingConfig
    from portal.audit.models import AuditEvent
    from portal.extensions import db

    class Proxied(TestingConfig):
        PROXY_HOPS = 1
        AUTH_RATE_LIMIT = "2 per minute"
        WTF_CSRF_ENABLED = False
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'proxied.sqlite3'}"

    app = create_app(Proxied)
    with app.app_context():
        db.create_all()

    def sign_in(address: str) -> int:
        client = app.test_client()
        return client.post(
            "/login",
            data={"email": "nobody@example.org", "password": "wrong"},
            headers={"X-Forwarded-For": address},
        ).status_code

    assert [sign_in("203.0.113.7") for _ in range(3)][-1] == 429
    assert sign_in("198.51.100.9") != 429  # another client behind the same proxy
    with app.app_context():
        addresses = set(db.session.scalars(db.select(AuditEvent.ip)))
        db.session.remove()
        db.engine.dispose()
    assert {"203.0.113.7", "198.51.100.9"} <= addresses


def _development(monkeypatch, tmp_path):
    """A development configuration as a fresh install without SECRET_KEY or PORTAL_DATA_KEYS
    in the environment, its instance folder in tmp_path."""
    import portal
    from config import DevelopmentConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_DATA_KEYS", raising=False)
    monkeypatch.setattr(portal, "INSTANCE_DIR", tmp_path / "instance")

    class Development(DevelopmentConfig):
        SECRET_KEY = None
        PORTAL_DATA_KEYS = None
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'instance' / 'dev.sqlite3'}"

    return Development


def test_development_makes_its_own_secrets_on_the_first_run(monkeypatch, tmp_path):
    import stat

    from portal.crypto import decrypt, encrypt, parse_keys
    from portal.instance_secrets import LEGACY_DEV_DATA_KEY

    config = _development(monkeypatch, tmp_path)
    instance = tmp_path / "instance"
    app = create_app(config)
    secret_key, keys = app.config["SECRET_KEY"], parse_keys(app.config["PORTAL_DATA_KEYS"])
    assert len(secret_key) >= 40
    assert secret_key != "dev-only-not-secret"
    assert keys[0] != LEGACY_DEV_DATA_KEY
    for name in ("secret_key", "data_key"):
        assert stat.S_IMODE((instance / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in instance.iterdir()) == ["audit_key", "data_key", "secret_key"]
    # The next start reads the same keys back.
    again = create_app(config)
    assert again.config["SECRET_KEY"] == secret_key
    assert again.config["PORTAL_DATA_KEYS"] == app.config["PORTAL_DATA_KEYS"]
    with app.app_context():
        # New data is sealed with the install's own key; data sealed with the former public
        # development key still opens.
        assert Fernet(keys[0]).decrypt(encrypt(b"new")) == b"new"
        assert decrypt(Fernet(LEGACY_DEV_DATA_KEY).encrypt(b"old")) == b"old"


def test_development_keys_from_the_environment_win(monkeypatch, tmp_path):
    key = Fernet.generate_key().decode()
    base = _development(monkeypatch, tmp_path)

    class Configured(base):
        SECRET_KEY = "s" * 40
        PORTAL_DATA_KEYS = key

    app = create_app(Configured)
    assert (app.config["SECRET_KEY"], app.config["PORTAL_DATA_KEYS"]) == ("s" * 40, key)
    assert not (tmp_path / "instance" / "secret_key").exists()
    assert not (tmp_path / "instance" / "data_key").exists()


def test_no_configuration_holds_a_public_development_secret(monkeypatch):
    import config

    try:
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.delenv("PORTAL_DATA_KEYS", raising=False)
        importlib.reload(config)
        assert config.DevelopmentConfig.SECRET_KEY is None
        assert config.DevelopmentConfig.PORTAL_DATA_KEYS is None
        assert config.ProductionConfig.SECRET_KEY is None
    finally:
        monkeypatch.undo()
        importlib.reload(config)
