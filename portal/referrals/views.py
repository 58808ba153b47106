"""The referring provider's pages, and the referral page both sides share."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.messages.service import mark_seen
from portal.referrals import queries
from portal.referrals.actions import apply_state_form
from portal.referrals.dashboard import (
    FILTERS,
    chosen_state,
    counts,
    dashboard_rows,
    state_counts,
)
from portal.referrals.forms import AnswerForm, CancelForm, SearchForm
from portal.referrals.presenters import referral_page_context
from portal.referrals.states import State

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


def _referrers_only() -> None:
    if not current_user.is_referrer:
        abort(404)


@bp.route("/", methods=["GET", "POST"])
def dashboard():
    """GET filters by state (no PHI in the URL); a name search is POSTed, never put in a URL."""
    _referrers_only()
    form = SearchForm()
    search = form.q.data if form.validate_on_submit() else ""
    show = request.values.get("show", "all")
    show = show if show in FILTERS else "all"
    state = chosen_state(request.values.get("state"))
    rows = dashboard_rows(current_user, show, search or "", state)
    per_state = state_counts(current_user)
    db.session.commit()
    return render_template(
        "referrals/dashboard.html",
        rows=rows,
        show="" if state else show,  # a single state is not one of the groups
        state=state,
        filters=FILTERS,
        counts=counts(per_state),
        state_counts=per_state,
        form=form,
        search=search,
    )


@bp.get("/<int:referral_id>")
def detail(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user)
    if referral.state == State.DRAFT:
        return redirect(url_for("referrals.edit", referral_id=referral.id))
    if referral.patient is None:  # a draft discarded before it was ever sent
        flash("That draft was discarded; it was never sent to the clinic.", "info")
        return redirect(url_for("referrals.dashboard"))
    context = referral_page_context(referral, current_user)
    if current_user.is_referrer:
        context["seen_before"] = mark_seen(current_user, referral)
    db.session.commit()
    return render_template("referrals/detail.html", **context)


def _move(referral_id: int, target: State, form, success: str):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    return apply_state_form(referral, target, form, success)


@bp.post("/<int:referral_id>/cancel")
def cancel(referral_id: int):
    return _move(
        referral_id,
        State.CANCELLED,
        CancelForm(),
        "Referral {number} is cancelled; the other side sees why.",
    )


@bp.post("/<int:referral_id>/answer")
def answer(referral_id: int):
    _referrers_only()
    return _move(
        referral_id,
        State.IN_REVIEW,
        AnswerForm(),
        "Your answer was sent; the clinic is reviewing referral {number} again.",
    )


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int):
    patient, referrals = queries.get_patient_or_404(patient_id, current_user)
    return render_template("referrals/patient.html", patient=patient, referrals=referrals)


# The intake pages register on this blueprint.
from portal.referrals import intake_views  # noqa: E402,F401
