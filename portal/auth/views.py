"""Sign-in, sign-out and the home page that sends each role to its work."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from portal.audit.service import record
from portal.auth import bp, sessions, signin
from portal.auth.forms import LoginForm
from portal.auth.service import authenticate
from portal.auth.signin import HOME_BY_ROLE, SIGN_IN_FAILED, is_safe_next, safe_target
from portal.extensions import auth_rate_limit, db, limiter


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(auth_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        target = request.args.get("next")
        if user is not None and not signin.password_may_continue(user):
            user = None  # under attack, and from an address it never signed in from
        if user is None:
            db.session.commit()
            from portal.observability.metrics import SIGNIN_FAILURES

            SIGNIN_FAILURES.inc()
            flash(SIGN_IN_FAILED, "error")
        elif user.has_mfa or signin.mfa_required(user):
            second_step = signin.begin_second_step(user, target if is_safe_next(target) else "")
            db.session.commit()
            return redirect(second_step)
        else:
            signin.finish(user, method="password")
            db.session.commit()
            return redirect(safe_target(target))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    record("auth.logout", "user", current_user.id)
    row = sessions.current()
    if row is not None:
        sessions.revoke(row, "sign-out")  # a copy of the cookie stops working too
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
