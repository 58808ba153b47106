"""One way for every page to apply a state-change form: validate, change, commit once, PRG."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import flash, redirect, url_for
from flask_login import current_user

from portal.extensions import db
from portal.referrals.service import MissingReason, StaleEdit, change_state
from portal.referrals.states import InvalidTransition, State

if TYPE_CHECKING:
    from portal.forms import VersionedForm
    from portal.referrals.models import Referral


def apply_state_form(referral: Referral, target: State, form: VersionedForm, success: str):
    """Move `referral` to `target` with the form's reason; flash what happened; back to its page."""
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        try:
            change_state(
                referral,
                target,
                actor=current_user,
                expected_version=form.expected_version(),
                reason=getattr(form, "reason", None) and form.reason.data or "",
            )
        except (StaleEdit, InvalidTransition, MissingReason) as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(success.format(number=referral.number), "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id))
