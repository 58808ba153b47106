"""One way for every page to apply a referral form: validate, call the service, commit once,
flash what happened, and go back to the referral's page (post-redirect-get)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import flash, redirect, url_for
from flask_login import current_user

from portal.errors import DomainError
from portal.extensions import db
from portal.referrals.service import StaleEdit, change_state

if TYPE_CHECKING:
    from portal.forms import VersionedForm
    from portal.referrals.models import Referral
    from portal.referrals.states import State

# What refuses a referral action, each message written for the user: the domain errors
# (StaleEdit, InvalidTransition, MissingReason, ...). ValueError stays only while services of
# triage, treatment and scheduling still refuse with it; delete it once they raise DomainError.
REFUSALS: tuple[type[Exception], ...] = (DomainError,)


def refusal_message(error: Exception) -> str:
    """Roll back what the refused action wrote (its audit rows of reads and of the refusal
    stay, for the caller's commit) and return its message for the user. A race
    lost at the moment of writing is explained only now: the referral is read again, as the
    other user left it, to name them and the time."""
    db.session.rollback()
    if isinstance(error, StaleEdit):
        error.reload()
    return str(error)


def apply_referral_form(
    referral: Referral,
    form: VersionedForm,
    act: Callable[[int], object],
    success: str,
    back: str | None = None,
):
    """Validate `form`, then run `act(expected_version)`; roll back and explain a refusal.
    Then go back to `back` (a URL of the portal), by default the referral's page."""
    done = False
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        try:
            act(form.expected_version())
        except REFUSALS as error:
            flash(refusal_message(error), "error")
        else:
            done = True
    # The change with its audit rows; or, refused, the read and the refusal's audit rows.
    db.session.commit()
    if done:
        flash(success.format(number=referral.number), "success")
    return redirect(back or url_for("referrals.detail", referral_id=referral.id))


def apply_state_form(
    referral: Referral, target: State, form: VersionedForm, success: str, back: str | None = None
):
    """Move `referral` to `target` with the form's reason."""
    reason = form.reason.data if hasattr(form, "reason") else ""
    return apply_referral_form(
        referral,
        form,
        lambda version: change_state(
            referral, target, actor=current_user, expected_version=version, reason=reason or ""
        ),
        success,
        back,
    )
