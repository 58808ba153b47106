"""The administrator's accounts page: deactivate, reactivate, unlock, reset two-step sign-in.
Each action asks for confirmation and a fresh password check."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.admin import bp
from portal.admin.account_service import ACTIONS, apply, manageable, manageable_accounts
from portal.admin.permissions import get_account_or_404
from portal.admin.settings import REFERRER_MFA, get_flag, set_flag
from portal.auth import lockout
from portal.auth.forms import ConfirmForm
from portal.auth.reauth import reauth_required
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db


@bp.get("/accounts")
def accounts():
    return render_template(
        "admin/accounts.html",
        users=manageable_accounts(current_user),
        is_locked=lockout.is_locked,
        referrer_mfa=get_flag(REFERRER_MFA),
        actions=ACTIONS,
    )


@bp.get("/accounts/sign-in-attempts")
def sign_in_attempts():
    """Accounts with failed sign-ins in the last day: how many, from how many addresses,
    which addresses are blocked, and whether the account is under attack."""
    rows = lockout.under_attack(manageable(current_user))
    return render_template(
        "admin/sign_in_attempts.html",
        rows=rows,
        addresses={user.id: lockout.blocked_addresses(user) for user, *_ in rows},
        is_locked=lockout.is_locked,
        now=utcnow(),
    )


@bp.route("/accounts/<int:user_id>/<action>", methods=["GET", "POST"])
@reauth_required
def account_action(user_id: int, action: str):
    user = get_account_or_404(user_id, current_user, action)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            message = apply(action, user, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(message, "success")
        return redirect(url_for("admin.accounts"))
    return render_template(
        "admin/account_confirm.html", user=user, action=ACTIONS[action], form=form
    )


@bp.route("/accounts/referrer-mfa", methods=["GET", "POST"])
@reauth_required
def referrer_mfa():
    """Require (or stop requiring) two-step sign-in for referring providers."""
    form = ConfirmForm()
    now_required = get_flag(REFERRER_MFA)
    if form.validate_on_submit():
        set_flag(REFERRER_MFA, not now_required, actor=current_user)
        db.session.commit()
        flash(
            "Referring providers now must set up two-step sign-in."
            if not now_required
            else "Two-step sign-in is now optional for referring providers.",
            "success",
        )
        return redirect(url_for("admin.accounts"))
    return render_template("admin/referrer_mfa.html", form=form, required=now_required)
