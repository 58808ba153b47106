"""Re-authentication before sensitive actions: signing a letter or a session, changing
accounts. The user proves it is them (password, plus a code where enrolled) and may then act
for REAUTH_WINDOW_MINUTES. Signing in counts as proving it.

Use on a view whose URL answers GET (the page with the form) and POST (the action):

    @bp.route("/things/<int:thing_id>/sign", methods=["GET", "POST"])
    @reauth_required
    def sign(thing_id): ...

Without a recent proof, a GET goes to the confirmation page, which comes back to the same URL
afterwards. A POST is answered with the confirmation page itself, carrying what was typed in
hidden fields (never a password or a token; nothing is stored): once confirmed, the form is
sent again as the person asked (`resend`, automatic with JavaScript, one button without).
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from flask import flash, redirect, render_template, request, url_for

from portal.audit.service import record
from portal.auth import lockout, mfa, sessions
from portal.auth.forms import ReauthForm
from portal.auth.passwords import verify_password
from portal.auth.signin import is_safe_next

if TYPE_CHECKING:
    from portal.auth.models import User, UserSession


def needs_reauth() -> bool:
    return not sessions.recently_authenticated(sessions.current())


def reauth_redirect(next_path: str | None = None):
    """Send the user to confirm it is them, then back to next_path (default: this URL)."""
    if request.method == "POST":
        flash("For your security, confirm it is you first; then send the form again.", "info")
    return redirect(url_for("account.reauth", next=next_path or request.path))


# Never carried through the confirmation page: secrets, and the token the resend renews.
NOT_CARRIED = frozenset({"csrf_token", "password", "code", "current_password", "new_password"})
CARRY_PREFIX = "carry-"


def carried_fields(form) -> list[tuple[str, str]]:
    """The (name, value) pairs of a submitted form worth sending again, in order."""
    return [
        (name, value)
        for name, value in form.items(multi=True)
        if name not in NOT_CARRIED and "password" not in name
    ]


def reauth_then_resend(next_path: str, action: str):
    """Ask to confirm it is you; keep the POST being answered and send it again afterwards.

    `next_path` is where a GET of the same thing goes; `action` names what will be sent
    ("Sign the session"), shown on the button that sends it."""
    if request.method != "POST":
        return reauth_redirect(next_path)
    return render_template(
        "auth/reauth.html",
        form=ReauthForm(formdata=None),
        form_action=url_for("account.reauth", next=next_path),
        resend_to=request.path,
        resend_action=action,
        carried=[(CARRY_PREFIX + name, value) for name, value in carried_fields(request.form)],
    )


def resend_parts(form) -> tuple[str, str, list[tuple[str, str]]] | None:
    """From a confirmation page's POST: where to send the kept form, its action and fields."""
    target = form.get("resend_to", "")
    if not target or not is_safe_next(target):
        return None
    fields = [
        (name[len(CARRY_PREFIX) :], value)
        for name, value in form.items(multi=True)
        if name.startswith(CARRY_PREFIX)
    ]
    return target, form.get("resend_action", "Send the form")[:80], fields


def reauth_required(view=None, *, action: str = "Continue"):
    """Decorate a view that needs a recent password (and code) check."""
    if view is None:
        return lambda view: reauth_required(view, action=action)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if needs_reauth():
            return reauth_then_resend(request.path, action)
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
