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
from typing import TYPE_CHECKING

from flask import flash, redirect, request, url_for

from portal.audit.service import record
from portal.auth import lockout, mfa, sessions
from portal.auth.passwords import verify_password

if TYPE_CHECKING:
    from portal.auth.models import User, UserSession


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


def confirm_identity(
    user: User, row: UserSession | None = None, *, password: str, code: str | None = None
) -> bool:
    """Check it is `user`. The attempt is counted before anything is checked (an address
    blocked for the account is refused outright); a right answer clears the count.

    With `row`, the session is being renewed (the confirmation page): a code is needed too
    where an authenticator is set up, success marks the session freshly authenticated, and the
    attempt is audited as auth.reauth. Without it (the password typed with a letter's
    signature, in a session renewed already), only the password is checked and the caller
    audits the outcome."""
    renewing = row is not None
    ok = lockout.begin_attempt(user) and verify_password(user.password_hash, password)
    if ok and renewing and user.has_mfa:
        ok = mfa.verify_totp(user, code or "") or mfa.use_recovery_code(user, code or "")
    if ok:
        lockout.register_success(user)
        if renewing:
            sessions.mark_authenticated(row)
            record("auth.reauth", "user", user.id, actor=user)
        return True
    if renewing:
        record("auth.reauth", "user", user.id, outcome="failed", actor=user)
    return False
