"""Request-wide behaviour: blueprints, sign-in required by default, headers, error pages."""

from __future__ import annotations

import importlib
import secrets

from flask import (
    Blueprint,
    Flask,
    g,
    render_template,
    request,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from portal.audit.service import uncommitted
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
    "portal.scheduling.day_views",
    "portal.scheduling.admin_views",
    "portal.scheduling.calendar_views",
    "portal.measures.views",
    "portal.fhir.views",
    "portal.fhir.subscription_views",
    "portal.fhir.admin_views",
    "portal.authorizations.views",
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


class DatabaseInt(IntegerConverter):
    """<int:...> in a route: a number the database's integer columns can hold, else 404 (a
    larger one would make the database refuse the query with a server error)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits, min, INT_MAX if max is None else max, signed)


INT_MAX = 2**31 - 1


def init_app(app: Flask) -> None:
    from portal.attachments.limits import PortalRequest
    from portal.templating import register_templating

    app.url_map.converters["int"] = DatabaseInt  # before any route is added
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    register_templating(app)
    app.request_class = PortalRequest  # the request cap follows the attachment limit

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @app.before_request
    def keep_loaded_rows_on_commit():
        # The view commits its unit of work (the change and its audit rows, or the audit rows
        # of what it read) before it renders: the rows it loaded stay loaded instead of being
        # expired and read again one by one while the page renders.
        db.session().expire_on_commit = False

    register_session_hooks(app)

    @app.before_request
    def require_login():
        # The FHIR API takes bearer tokens, checked by portal/fhir/access.py, never a session.
        if (
            request.endpoint in PUBLIC_ENDPOINTS
            or request.endpoint is None
            or (request.blueprint == "fhir")
        ):
            return None
        if not current_user.is_authenticated:
            return session_ended_redirect() or login_manager.unauthorized()
        return None

    @app.after_request
    def audit_rows_committed(response):
        """Nothing is committed here: the view owns its transaction. A view that left audit
        events uncommitted is a bug (they are lost when the request's session closes)."""
        left = uncommitted(db.session())
        if left and not g.get("error_page"):  # an error page shows nothing that was read
            actions = ", ".join(sorted({e.action for e in left}))
            if app.testing:
                raise AssertionError(f"{request.endpoint} left audit events uncommitted: {actions}")
            app.logger.error(
                "endpoint %s left audit events uncommitted: %s", request.endpoint, actions
            )
        return response

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

    def log_exception(exc_info) -> None:
        """Flask's log of an unhandled error, without its traceback (which can carry SQL and
        values): the error id, the exception's type and the endpoint; the trace at debug."""
        g.error_id = secrets.token_hex(6)
        app.logger.error(
            "error %s: unhandled %s on endpoint %s",
            g.error_id,
            exc_info[0].__name__ if exc_info[0] else "error",
            request.endpoint,
        )
        app.logger.debug("error %s: traceback", g.error_id, exc_info=exc_info)

    app.log_exception = log_exception

    def page(code: int, message: str):
        error_id = g.pop("error_id", None) or secrets.token_hex(6)
        g.error_page = True
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

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(error):
        # A value the database or the calendar cannot hold (a year 9999 plus a day, a number
        # past the column's range) is the request's fault, not a server error.
        db.session.rollback()
        return page(
            400, "A value in the request is out of range. Go back, correct it and try again."
        )

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()  # the change is undone; reads and refusals before it are kept
        try:
            db.session.commit()
        except Exception:  # noqa: BLE001 - the database itself may be what failed
            db.session.rollback()
            app.logger.error("audit events of a failed request could not be written")
        return page(500, "Something went wrong on our side.")
