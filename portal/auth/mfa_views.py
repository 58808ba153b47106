"""The second step of sign-in, and setting up the authenticator app."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, session, url_for
from flask_login import current_user

from portal.audit.service import record
from portal.auth import lockout, mfa, signin
from portal.auth import mfa_bp as bp
from portal.auth.forms import CodeForm, EnrolForm
from portal.auth.reauth import needs_reauth, reauth_redirect
from portal.auth.signin import SIGN_IN_FAILED, safe_target
from portal.crypto import decrypt, encrypt
from portal.extensions import auth_rate_limit, db, limiter

ENROL_KEY = "enrol_secret"


def _restart(message: str = "Your sign-in took too long. Please sign in again."):
    session.clear()
    flash(message, "info")
    return redirect(url_for("auth.login"))


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def verify():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    user = signin.pending_user()
    if user is None or not user.has_mfa:
        return _restart()
    form = CodeForm()
    if form.validate_on_submit():
        if not lockout.begin_attempt(user):  # counted before the code is checked
            record("auth.mfa", "user", user.id, outcome="denied", actor=user, detail="blocked")
            db.session.commit()
            return _restart(SIGN_IN_FAILED)
        target = signin.pending_target()
        if mfa.verify_totp(user, form.code.data):
            signin.finish(user, method="password+totp")
            db.session.commit()
            return redirect(safe_target(target))
        if mfa.use_recovery_code(user, form.code.data):
            signin.finish(user, method="password+recovery code")
            db.session.commit()
            left = mfa.recovery_codes_left(user)
            flash(
                f"You signed in with a recovery code; {left} left. If you lost your phone, "
                "set up the app again under Account security.",
                "warning",
            )
            return redirect(safe_target(target))
        record("auth.mfa", "user", user.id, outcome="failed", actor=user)
        db.session.commit()
        form.code.errors.append("That code is not valid, or was already used. Try the next one.")
    return render_template("auth/mfa_verify.html", form=form), 422 if form.errors else 200


def _enrolling_user():
    if current_user.is_authenticated:
        return current_user, False
    user = signin.pending_user()
    return user, True


@bp.route("/setup", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def enrol():
    """Set up the authenticator: forced at the first sign-in of those who must, offered to
    others from Account security."""
    user, signing_in = _enrolling_user()
    if user is None:
        return _restart()
    if user.has_mfa and signing_in:
        return redirect(url_for("mfa.verify"))
    if not signing_in and needs_reauth():  # replacing a second factor is sensitive
        return reauth_redirect(url_for("mfa.enrol"))
    sealed = session.get(ENROL_KEY)
    if not sealed:
        sealed = encrypt(mfa.new_secret().encode()).decode()
        session[ENROL_KEY] = sealed
    secret = decrypt(sealed.encode()).decode()
    form = EnrolForm()
    if form.validate_on_submit():
        codes = mfa.enrol(user, secret, form.code.data)
        if codes is not None:
            session.pop(ENROL_KEY, None)
            record("account.mfa_enrol", "user", user.id, actor=user)
            target = signin.pending_target()
            if signing_in:
                signin.finish(user, method="password+totp")
            db.session.commit()
            next_url = safe_target(target) if signing_in else url_for("account.security")
            return render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
        form.code.errors.append(
            "That code does not match. Check the phone's clock and try the code shown now."
        )
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template(
        "auth/mfa_enrol.html", form=form, secret=grouped, signing_in=signing_in, user=user
    ), 422 if form.errors else 200


@bp.get("/setup/qr.svg")
def qr():
    user, _ = _enrolling_user()
    sealed = session.get(ENROL_KEY)
    if user is None:
        return redirect(url_for("auth.login"))
    if not sealed:
        return redirect(url_for("mfa.enrol"))
    secret = decrypt(sealed.encode()).decode()
    svg = mfa.qr_svg(mfa.provisioning_uri(secret, user.email))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
