"""The referral coordination portal: create_app() builds it."""

from __future__ import annotations

import os

from flask import Flask

from config import BASE_DIR, CONFIGS, INSTANCE_DIR, Config


def create_app(config: type[Config] | str | None = None) -> Flask:
    """Build the app from a Config class or its name (default: $PORTAL_ENV or development)."""
    if config is None or isinstance(config, str):
        config = CONFIGS[config or os.environ.get("PORTAL_ENV", "development")]
    if hasattr(config, "validate"):
        config.validate()

    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(config)
    if app.config["ENV_NAME"] == "development":
        from portal.instance_secrets import serve_locally_only, use_instance_secrets

        use_instance_secrets(app)  # a random key per install, never a public one
        serve_locally_only(app)  # and answering this computer only
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        # SQLite takes one writer at a time: under a burst of parallel requests (40 sign-ins
        # at once) a writer may wait longer than pysqlite's 5 seconds; wait, do not fail.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": {"timeout": 30}}

    from portal import extensions, lazy_migrate, models, web  # noqa: F401 - models: every table

    extensions.db.init_app(app)
    lazy_migrate.init_app(
        app,
        extensions.db,
        directory=str(BASE_DIR / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    extensions.limiter.init_app(app)
    if app.config["ENV_NAME"] == "production":
        _check_limiter_storage(app)
    from portal import observability

    observability.init_app(app)  # before the other request hooks: the clock starts first
    web.init_app(app)
    from portal import jobs
    from portal.audit import tasks as audit_tasks  # noqa: F401 - the minute's chaining job
    from portal.letters import issue_tasks, tasks  # noqa: F401 - the letter jobs register on the queue
    from portal.measures import milestones  # noqa: F401 - keeps referral_milestone in step
    from portal.notifications import wiring

    jobs.init_app(app)
    wiring.init_app(app)
    from portal.fhir import hook_tasks  # the rest-hook jobs register on the queue

    hook_tasks.init_app(app)
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # Behind N reverse proxies the client's address is in X-Forwarded-For; without this
        # every user would share the proxy's address in the rate limits and the audit log.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    observability.wrap(app)  # /healthz, /readyz, /metrics in front of everything
    _quiet_server_banner()
    from portal.cli import register_cli

    register_cli(app)
    return app


def _check_limiter_storage(app: Flask) -> None:
    """Production: the shared counter store answers now, or the portal does not start; without
    one (PORTAL_ONE_WORKER=1) say loudly that limits hold only with one worker."""
    from portal.extensions import limiter

    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        app.logger.warning(
            "RATE LIMITS ARE COUNTED IN THIS PROCESS ONLY (no REDIS_URL, PORTAL_ONE_WORKER=1): "
            "run exactly one worker, or an attacker gets a limit's worth per worker."
        )
        return
    if not limiter.storage.check():
        raise RuntimeError(
            "Production refuses to start: the rate-limit store at REDIS_URL does not answer."
        )


def _quiet_server_banner() -> None:
    """The development server (and the tests' live servers) answer "Server: portal", not
    Werkzeug's and Python's versions."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.version_string = lambda self: "portal"  # type: ignore[method-assign]
