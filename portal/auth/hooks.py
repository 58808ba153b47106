"""Request hooks for account security: the server-side session behind Flask-Login, the
message when a session ended, the session timer's numbers for every page, and NUL bytes."""

from __future__ import annotations

from flask import Flask, abort, flash, g, has_request_context, redirect, request, session, url_for
from flask_login import current_user

from portal.extensions import login_manager

SESSION_ENDED = {
    "idle": "You were signed out after a period without activity. Please sign in again.",
    "absolute": "Your session reached its time limit. Please sign in again.",
    "revoked": "Your session has ended. Please sign in again.",
}


def session_ended_redirect():
    """If this request's session just ended (timeout, revocation), say so on the sign-in
    page; None otherwise."""
    ended = g.pop("session_ended", None)
    if not ended:
        return None
    session.clear()
    flash(SESSION_ENDED[ended], "info")
    if request.method == "GET" and request.endpoint != "account.session_status":
        return redirect(url_for("auth.login", next=request.path))
    return redirect(url_for("auth.login"))


def register_session_hooks(app: Flask) -> None:
    @login_manager.user_loader
    def load_user(user_id: str):
        from portal.auth.sessions import load

        return load(user_id)  # only through a live server-side session

    @app.before_request
    def refuse_nul_bytes():
        # No form field or query parameter ever needs a NUL; PostgreSQL cannot store one and
        # would turn it into a server error.
        values = [*request.args.values(), *(request.form.values() if request.form else [])]
        if any("\x00" in v for v in values):
            abort(400)

    @app.context_processor
    def session_timer():
        from portal.auth.sessions import current, seconds_left

        signed_in = has_request_context() and current_user.is_authenticated  # not in PDFs
        row = current() if signed_in else None
        return {
            "session_seconds_left": seconds_left(row) if row else None,
            "session_warning_seconds": app.config["SESSION_WARNING_SECONDS"],
        }
