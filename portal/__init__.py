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
        from portal.instance_secrets import use_instance_secrets

        use_instance_secrets(app)  # a random key per install, never a public one
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(exist_ok=True)

    from portal import extensions, models, web  # noqa: F401 - models registers every table

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(BASE_DIR / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    extensions.limiter.init_app(app)
    web.init_app(app)
    from portal import jobs, notifications
    from portal.letters import tasks  # noqa: F401 - the letter jobs register on the queue

    jobs.init_app(app)
    notifications.init_app(app)
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # Behind N reverse proxies the client's address is in X-Forwarded-For; without this
        # every user would share the proxy's address in the rate limits and the audit log.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from portal.cli import register_cli

    register_cli(app)
    return app
