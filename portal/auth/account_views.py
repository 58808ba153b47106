"""The signed-in user's own account: security overview, password, re-authentication, and
the session timer that the page's script asks about."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.audit.service import record
from portal.auth import account_bp as bp
from portal.auth import lockout, mfa, sessions
from portal.auth.forms import ConfirmForm, PasswordChangeForm, ReauthForm
from portal.auth.reauth import CARRY_PREFIX, confirm_identity, reauth_required, resend_parts
from portal.auth.service import change_password
from portal.auth.signin import mfa_required, safe_target
from portal.errors import Invalid
from portal.extensions import auth_rate_limit, db, limiter


@bp.get("/security")
def security():
    return render_template(
        "auth/security.html",
        required=mfa_required(current_user),
        codes_left=mfa.recovery_codes_left(current_user) if current_user.has_mfa else 0,
        form=ConfirmForm(),
    )


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, current=form.current.data, new=form.new.data)
        except Invalid as error:
            db.session.commit()  # a wrong current password counts toward the lockout
            target = form[error.field or "new"]
            target.errors = [*target.errors, str(error)]
        else:
            others = sessions.restart(user, "password change")
            db.session.commit()
            flash(
                "Your password is changed."
                + (f" {others} other session(s) were signed out." if others else ""),
                "success",
            )
            return redirect(url_for("account.security"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def reauth():
    """Confirm it is you: password, plus a code where the authenticator is set up."""
    form = ReauthForm()
    target = request.args.get("next")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        row = sessions.current()
        if confirm_identity(user, row, password=form.password.data, code=form.code.data):
            db.session.commit()
            resend = resend_parts(request.form)
            if resend:  # the form that asked for this, sent again as the person asked
                to, action, fields = resend
                return render_template(
                    "auth/reauth_resend.html", resend_to=to, action=action, fields=fields
                )
            return redirect(safe_target(target))
        if lockout.is_blocked(user):
            sessions.revoke(row, "locked")
            db.session.commit()
            session.clear()
            flash("Too many failed attempts: you are signed out for a while.", "error")
            return redirect(url_for("auth.login"))
        db.session.commit()
        form.password.errors = ["The password or code is not right."]
    kept = resend_parts(request.form) if request.method == "POST" else None
    return render_template(
        "auth/reauth.html",
        form=form,
        resend_to=kept[0] if kept else None,
        resend_action=kept[1] if kept else None,
        carried=[(CARRY_PREFIX + name, value) for name, value in kept[2]] if kept else [],
    ), 422 if form.errors else 200


@bp.route("/recovery-codes", methods=["GET", "POST"])
@reauth_required
def recovery_codes():
    """New recovery codes (the old ones stop working); shown once."""
    form = ConfirmForm()
    if not current_user.has_mfa:
        return redirect(url_for("account.security"))
    if form.validate_on_submit():
        codes = mfa.new_recovery_codes(current_user)
        record("account.recovery_codes", "user", current_user.id)
        db.session.commit()
        return render_template(
            "auth/recovery_codes.html", codes=codes, next_url=url_for("account.security")
        )
    return render_template("auth/recovery_confirm.html", form=form)


@bp.get("/session")
def session_status():
    """Seconds until automatic sign-out; asking does not count as activity."""
    row = sessions.current()
    return jsonify(seconds_left=sessions.seconds_left(row) if row else 0)


@bp.post("/session")
def session_extend():
    """The "Stay signed in" button: activity now, whenever the last was."""
    row = sessions.current()
    sessions.touch(row)
    db.session.commit()
    return jsonify(seconds_left=sessions.seconds_left(row))
