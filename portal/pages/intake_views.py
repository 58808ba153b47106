"""The intake pages: a new referral, and editing a draft or a referral the clinic questioned.
Their routes stay on the referrals blueprint (/referrals/new, /referrals/<id>/edit).

Every POST keeps what was typed (and the files attached) before anything else happens; rows
are added and removed on the server, so the form works without JavaScript.
"""

from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.attachments.service import attachments_of
from portal.audit.service import record
from portal.auth import sessions
from portal.clock import clinic_zone
from portal.errors import DomainError
from portal.extensions import db
from portal.guards import require_roles
from portal.pages.submission import keep_typing, send_intake
from portal.referrals import bp, queries
from portal.referrals.actions import refusal_message
from portal.referrals.intake import (
    AlreadySubmitted,
    draft_for_key,
    intake_document,
    new_form_key,
)
from portal.referrals.intake_forms import MAX_ROWS, IntakeForm, page_order
from portal.referrals.intake_io import formdata_from_document
from portal.referrals.permissions import can
from portal.roles import Role
from portal.scheduling.settings import clinic_schedule_or_new
from portal.triage.sla import due_on

ROW_ACTION = re.compile(r"^(add|remove)_(trials|medications)(?:-(\d+))?$")


@bp.route("/new", methods=["GET", "POST"])
@require_roles(Role.REFERRER)
def new():
    if request.method == "GET":
        form = IntakeForm(formdata=None)
        form.form_key.data = new_form_key()
        return _render(form, None)
    try:
        referral = draft_for_key(request.form.get("form_key", ""), current_user)
    except AlreadySubmitted as done:
        flash(str(done), "info")
        return redirect(url_for("referrals.detail", referral_id=done.referral.id))
    return _post(referral)


@bp.route("/<int:referral_id>/edit", methods=["GET", "POST"])
@require_roles(Role.REFERRER)
def edit(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    if not can(current_user, referral, "edit_intake"):
        flash("This referral has been sent and can no longer be edited.", "info")
        db.session.commit()  # the read's audit row
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    if request.method == "POST":
        return _post(referral)
    stored = referral.form_data or formdata_from_document(referral.intake)
    form = IntakeForm(formdata=MultiDict(stored) if stored else None)
    form.form_key.data = referral.form_key or ""
    form.version.data = str(referral.version)
    return _render(form, referral)


def _post(referral):
    formdata = _apply_row_action(request.form)
    form = IntakeForm(formdata=formdata)
    action = request.form.get("action", "save")
    try:
        refusals = keep_typing(
            referral,
            formdata,
            request.files.getlist("attachments"),
            version=form.version.data or "",
            actor=current_user,
        )
    except DomainError as refusal:  # the referral moved on: keep what was typed
        flash(f"{refusal_message(refusal)} What you typed is kept below.", "error")
        form.form_key.data = referral.form_key
        form.version.data = str(referral.version)
        return _render(form, referral, status=409)
    form.form_key.data = referral.form_key
    form.version.data = str(referral.version)
    if action == "submit":
        if form.validate() & _rows_within_limit(form, formdata) and not refusals:
            first = send_intake(referral, intake_document(form), formdata, actor=current_user)
            db.session.commit()
            flash(
                (
                    f"Referral {referral.number} was sent to the clinic."
                    if first
                    else f"Your changes to referral {referral.number} were sent to the clinic."
                )
                + " "
                + _decision_expected(referral),
                "success",
            )
            return redirect(url_for("referrals.detail", referral_id=referral.id))
        db.session.commit()  # the draft and the accepted files are kept
        form.version.data = str(referral.version)
        flash("Not sent yet: please correct the fields marked below. Nothing was lost.", "error")
        return _render(form, referral, refusals, status=422)
    db.session.commit()
    form.version.data = str(referral.version)
    if action == "save" and _idle_save_ends_session() and not refusals:
        return _saved_then_signed_out(referral)
    if action == "save":
        flash("Draft saved. You can come back to it from your dashboard.", "success")
    return _render(form, referral, refusals, status=422 if refusals else 200)


# The session timer saves a few seconds before the idle deadline; a session with more time
# left than this was kept alive elsewhere (another tab) and is not ended.
SIGN_OUT_WITHIN = 30


def _idle_save_ends_session() -> bool:
    """The session timer's save before the idle sign-out ends the session, unless the session
    was kept alive elsewhere meanwhile (another tab): then the draft is saved and that is all."""
    return (
        request.form.get("after_save") == "sign_out"
        and g.get("seconds_left_on_arrival", 0) <= SIGN_OUT_WITHIN
    )


def _saved_then_signed_out(referral):
    """The session timer saved what was typed just before the idle sign-out: sign out now,
    and come back to the draft after signing in again."""
    record("auth.logout", "user", current_user.id, detail="idle, draft saved first")
    sessions.end_current("idle")
    flash(
        "You were signed out after a period without activity. What you had typed was saved "
        "in the draft first.",
        "info",
    )
    return redirect(url_for("auth.login", next=url_for("referrals.edit", referral_id=referral.id)))


def _row_indexes(formdata: MultiDict, rows: str) -> list[int]:
    """The row numbers present in the form for `rows` (trials or medications), ascending."""
    return sorted({int(k.split("-")[1]) for k in formdata if re.match(rf"{rows}-\d+-", k)})


def _rows_within_limit(form, formdata: MultiDict) -> bool:
    """More rows than the form keeps would be dropped silently: refuse them instead."""
    ok = True
    for rows in ("trials", "medications"):
        if len(_row_indexes(formdata, rows)) > MAX_ROWS:
            field = form[rows]
            field.errors = [*field.errors, f"At most {MAX_ROWS} rows; merge or remove some."]
            ok = False
    return ok


def _apply_row_action(source: MultiDict) -> MultiDict:
    """Add a blank row, or drop one, as the no-JavaScript buttons ask."""
    formdata = MultiDict(source)
    match = ROW_ACTION.match(source.get("action", ""))
    if not match:
        return formdata
    verb, rows, index = match.groups()
    indexes = _row_indexes(formdata, rows)
    if verb == "remove" and index is not None:
        for key in [k for k in formdata if k.startswith(f"{rows}-{index}-")]:
            formdata.poplist(key)
    elif verb == "add" and len(indexes) < MAX_ROWS:
        first = "drug" if rows == "trials" else "name"
        formdata[f"{rows}-{(indexes[-1] + 1) if indexes else 0}-{first}"] = ""
    return formdata


SCALE_ITEM = re.compile(r"^(phq9|gad7|pcl5)_\d+$")
SCALE_NAMES = {"phq9": ("PHQ-9", 9), "gad7": ("GAD-7", 7), "pcl5": ("PCL-5", 20)}


def error_summary(form) -> list[tuple[str, str]]:
    """The refused send's summary as (anchor, text), in the page's order; a scale's missing
    items are one entry linking to the first of them."""
    entries: list[tuple[str, str]] = []
    scales: dict[str, list[str]] = {}
    errors = form.errors
    for name in page_order(form):
        field = form._fields[name]
        if name not in errors:
            continue
        scale = SCALE_ITEM.match(name)
        if scale:
            key = scale.group(1)
            if key not in scales:
                scales[key] = []
                entries.append((field.id, f"@{key}"))
            scales[key].append(name)
            continue
        entries.append((field.id, field.label.text))
    entries += [(name, name) for name in errors if name not in form._fields]
    summary = []
    for anchor, text in entries:
        if text.startswith("@"):
            label, items = SCALE_NAMES[text[1:]]
            missing = len(scales[text[1:]])
            text = f"{label}: answer all {items} items ({missing} not answered)"
        summary.append((anchor, text))
    return summary


def _decision_expected(referral) -> str:
    """When to expect a first decision: the clinic's service level, in business days."""
    settings, _ = clinic_schedule_or_new(referral.clinic_id)
    days = settings.sla_urgent_days if referral.urgency == "urgent" else settings.sla_routine_days
    sent_on = referral.submitted_at.astimezone(clinic_zone()).date()
    kind = "urgent" if referral.urgency == "urgent" else "routine"
    return (
        f"Expect a first decision within {days} business days ({kind}), by "
        f"{due_on(sent_on, days):%A %B %-d}."
    )


def _render(form, referral, refusals: list[str] | None = None, status: int = 200):
    attachments = attachments_of(referral) if referral is not None else []
    db.session.commit()  # what the request read or refused, with its audit rows
    return render_template(
        "referrals/intake.html",
        error_summary=error_summary(form) if form.errors else [],
        form=form,
        referral=referral,
        attachments=attachments,
        refusals=refusals or [],
        max_rows=MAX_ROWS,
    ), status
