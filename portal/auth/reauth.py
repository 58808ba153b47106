"""Re-authentication before sensitive actions: signing a letter or a session, changing
accounts. The user proves it is them (password, plus a code where enrolled) and may then act
for REAUTH_WINDOW_MINUTES. Signing in counts as proving it.

Use on a view whose URL answers GET (the page with the form) and POST (the action):

    @bp.route("/things/<int:thing_id>/sign", methods=["GET", "POST"])
    @reauth_required
    def sign(thing_id): ...

Without a recent proof, GET and POST both go to the confirmation page, which comes back to
the same URL afterwards (a POST's form content is not kept, so the user is told).
"""

from __future__ import annotations

from functools import wraps

from flask import flash, redirect, request, url_for

from portal.auth import sessions


def needs_reauth() -> bool:
    return not sessions.recently_authenticated(sessions.current())


def reauth_redirect(next_path: str | None = None):
    """Send the user to confirm it is them, then back to next_path (default: this URL)."""
    if request.method == "POST":
        flash("For your security, confirm it is you first; then send the form again.", "info")
    return redirect(url_for("account.reauth", next=next_path or request.path))


def reauth_required(view):
    """Decorate a view that needs a recent password (and code) check."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if needs_reauth():
            return reauth_redirect()
        return view(*args, **kwargs)

    return wrapper
