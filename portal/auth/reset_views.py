"""Forgot your password? The request page (same answer, same time, whatever the address) and
the page behind the emailed link. Both public; both rate-limited per client address, and the
request per email address too."""

from __future__ import annotations

import hashlib
import time

from flask import current_app, flash, redirect, render_template, request, url_for

from portal.audit.service import record
from portal.auth import bp
from portal.auth.forms import ForgotPasswordForm, ResetPasswordForm
from portal.auth.reset import ResetLinkInvalid, complete_reset, open_reset, request_reset
from portal.auth.service import AccountError
from portal.extensions import db, limiter

# Every request for a link takes at least this long, so that the time of the answer does not
# tell whether an account uses the address.
EVEN_SECONDS = 0.4


def reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def address_key() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "reset-address:" + hashlib.sha256(email.encode()).hexdigest()


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(reset_limit, methods=["POST"])
@limiter.limit(reset_limit, methods=["POST"], key_func=address_key)
def forgot_password():
    form = ForgotPasswordForm()
    sent = False
    if form.validate_on_submit():
        started = time.monotonic()
        request_reset(form.email.data.strip().lower())
        db.session.commit()
        time.sleep(max(0.0, EVEN_SECONDS - (time.monotonic() - started)))
        sent = True
    return render_template("auth/forgot_password.html", form=form, sent=sent), (
        422 if form.errors else 200
    )


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(reset_limit, methods=["POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    try:
        reset = open_reset(token)
    except ResetLinkInvalid as error:
        db.session.commit()  # the refusal's audit row
        return render_template("auth/reset_invalid.html", message=str(error)), 400
    if request.method == "GET":
        record("auth.password_reset_open", "password_reset", reset.id, actor=reset.user)
        db.session.commit()
    if form.validate_on_submit():
        try:
            complete_reset(token, form.new.data)
        except AccountError as error:
            form.new.errors = [*form.new.errors, str(error)]
        else:
            db.session.commit()
            flash(
                "Your password is changed and every session of your account has ended. "
                "Sign in with the new password.",
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 422 if form.errors else 200
