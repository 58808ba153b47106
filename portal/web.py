"""Request-wide behaviour: blueprints, sign-in required by default, headers, error pages."""

from __future__ import annotations

import importlib
import secrets

from flask import (
    Blueprint,
    Flask,
    render_template,
    request,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.audit.service import persist_request_audit
from portal.auth.hooks import register_session_hooks, session_ended_redirect
from portal.extensions import db, login_manager

# Endpoints reachable without signing in; everything else requires it.
# calendar.feed is the .ics link: its secret token is the credential (portal/scheduling/feed.py).
# The second-step pages check the half-finished sign-in themselves.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.home",
        "static",
        "accounts.accept_invitation",
        "accounts.request_account",
        "calendar.feed",
        "mfa.verify",
        "mfa.enrol",
        "mfa.qr",
        "verify.lookup",  # the letter verification page: no patient information
        "verify.letter",
        "auth.forgot_password",  # the reset link is the credential (portal/auth/reset.py)
        "auth.reset_password",
    }
)


CSP = (
    "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


# Every route module, each adding its routes to a blueprint declared in a feature package's
# __init__.py (pages add theirs to the feature whose URLs they serve): the one list the app is
# built from. The blueprints registered are those these modules add routes to.
VIEW_MODULES = (
    "portal.auth.views",
    "portal.auth.mfa_views",
    "portal.auth.account_views",
    "portal.auth.reset_views",
    "portal.referrals.views",
    "portal.pages.intake_views",
    "portal.pages.views",
    "portal.pages.screening_views",
    "portal.triage.views",
    "portal.triage.screening_views",
    "portal.treatment.views",
    "portal.treatment.rems_views",
    "portal.treatment.scale_views",
    "portal.letters.views",
    "portal.letters.verify_views",
    "portal.admin.views",
    "portal.admin.account_views",
    "portal.admin.letterhead_views",
    "portal.attachments.views",
    "portal.pages.message_views",
    "portal.accounts.views",
    "portal.scheduling.views",
    "portal.scheduling.admin_views",
    "portal.scheduling.calendar_views",
    "portal.notifications.views",
    "portal.notifications.admin_views",
)


def blueprints() -> list[Blueprint]:
    """Every view module imported (adding its routes), and the blueprints they use, each
    once, in the order of VIEW_MODULES."""
    found: list[Blueprint] = []
    for name in VIEW_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Blueprint) and value not in found:
                found.append(value)
    return found


def init_app(app: Flask) -> None:
    from portal.attachments.limits import PortalRequest
    from portal.templating import register_templating

    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    register_templating(app)
    app.request_class = PortalRequest  # the request cap follows the attachment limit

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    register_session_hooks(app)

    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            return session_ended_redirect() or login_manager.unauthorized()
        return None

    app.after_request(persist_request_audit)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if current_user.is_authenticated or request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    register_error_handlers(app)


def register_error_handlers(app: Flask) -> None:
    """Friendly pages with no stack trace, path or SQL. Every error page carries an error id,
    logged with the status and the endpoint only, so a user's report can be matched."""

    def page(code: int, message: str):
        error_id = secrets.token_hex(6)
        log = app.logger.error if code >= 500 else app.logger.info
        log("error %s: status %s on endpoint %s", error_id, code, request.endpoint)
        return render_template(
            "errors/error.html", code=code, error_id=error_id, message=message
        ), code

    @app.errorhandler(404)
    def not_found(error):
        return page(404, "There is nothing here, or you may not see it.")

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return page(
            400,
            "The form had expired or came from another page. Go back, reload the page "
            "and try again: nothing was saved.",
        )

    @app.errorhandler(413)
    def too_large(error):
        mb, files = (
            app.config["MAX_ATTACHMENT_BYTES"] // 1_048_576,
            app.config["MAX_ATTACHMENT_FILES"],
        )
        return page(
            413,
            f"That upload is too large: each file may be up to {mb} MB, and at most "
            f"{files} files can be sent at once. Go back, choose fewer or smaller files, and "
            "try again.",
        )

    @app.errorhandler(429)
    def too_many(error):
        return page(429, "Too many attempts from your address. Wait a minute, then try again.")

    @app.errorhandler(HTTPException)
    def other_http_error(error):
        # Werkzeug's own pages can echo details; ours say only what the user can do.
        return page(error.code, "The request could not be completed. Go back and try again.")

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return page(500, "Something went wrong on our side.")
