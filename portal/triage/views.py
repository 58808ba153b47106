"""The coordinators' queue and their decisions."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal.clock import clinic_today, clinic_zone
from portal.errors import DomainError, Invalid
from portal.extensions import db
from portal.forms import choices
from portal.guards import restrict_blueprint
from portal.referrals import queries
from portal.referrals.actions import apply_referral_form, apply_state_form, refusal_message
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.referrals.vocab import REQUESTED_MODALITIES, URGENCIES
from portal.roles import CLINIC_ROLES, Role
from portal.scheduling import queries as protocol_queries
from portal.scheduling.generation import parse_phases, session_count
from portal.scheduling.settings import clinic_schedule_or_new
from portal.triage import acknowledgements, bp, screening, search, service
from portal.triage.filters import PAGE_SIZES, QueueFilters, clean_text
from portal.triage.forms import (
    AcceptForm,
    AcknowledgeForm,
    AssignForm,
    DecisionForm,
    DeclineForm,
    OpenForm,
    QueueSearchForm,
)
from portal.triage.queue import queue_page

# The decisions taken with a reason the referrer reads (/decide/<state>), and what is said.
DECISIONS = {
    State.NEEDS_INFO: "Your question was sent to the referrer.",
    State.DECLINED: "Referral {number} is declined; the referrer sees the reason.",
}


restrict_blueprint(bp, *CLINIC_ROLES)


@bp.get("/")
def queue():
    filters, found = search.with_search(QueueFilters.from_args(request.args))
    if not found:
        flash(
            "That search is no longer kept (a session keeps its last few searches); "
            "the queue is shown without it. Search again if you need to.",
            "info",
        )
    settings, created = clinic_schedule_or_new(current_user.clinic_id)
    if created:
        db.session.commit()  # keep the clinic's default settings
    tz = clinic_zone()
    page = queue_page(current_user, filters, settings, tz)
    db.session.commit()  # the list's audit row
    return render_template(
        "triage/queue.html",
        page=page,
        f=filters,
        form=QueueSearchForm(formdata=None, data={"q": filters.q}),
        urgencies=URGENCIES,
        modalities=REQUESTED_MODALITIES,
        page_sizes=PAGE_SIZES,
        coordinators=screening.clinic_assignees(current_user.clinic_id),
    )


@bp.post("/", endpoint="search")
def search_queue():
    """The search box: keep the term in the session, then show the queue with its id."""
    form = QueueSearchForm()
    filters = QueueFilters.from_args(request.form)
    term = form.q.data if form.validate_on_submit() else ""
    search_id = search.remember(term) if clean_text(term or "") else ""
    return redirect(url_for("triage.queue", **filters.args(search=search_id, page=1)))


@bp.post("/assign-selected")
def assign_selected():
    """Bulk assignment from the queue: each selected referral (at the version shown) to one
    coordinator; those changed meanwhile are left and counted."""
    coordinators = screening.clinic_coordinators(current_user.clinic_id)
    chosen = next(
        (c for c in coordinators if str(c.id) == request.form.get("coordinator_id")), None
    )
    ids = [int(i) for i in request.form.getlist("referral_ids") if i.isdigit()][:100]
    back = request.form.get("back", "")
    back = back if back.startswith("/triage/") and "//" not in back else url_for("triage.queue")
    if chosen is None or not ids:
        flash("Select at least one referral and a coordinator.", "error")
        return redirect(back)
    done, left = screening.assign_many(
        ids,
        {i: request.form.get(f"v{i}", "") for i in ids},
        chosen,
        actor=current_user,
    )
    db.session.commit()
    message = f"{done} referral{'s' if done != 1 else ''} assigned to {chosen.display_name}."
    if left:
        message += f" {left} changed meanwhile and {'was' if left == 1 else 'were'} left: reload."
    flash(message, "success" if not left else "warning")
    return redirect(back)


def _back(referral):
    return redirect(url_for("referrals.detail", referral_id=referral.id))


def back_url(referral) -> str | None:
    """Forms on the screening page return there; elsewhere to the referral's page."""
    if request.form.get("back") == "screening":
        return url_for("triage.screening", referral_id=referral.id)
    return None


@bp.post("/<int:referral_id>/open")
def open_referral(referral_id: int):
    """Opening from the queue: a submitted referral moves to review, assigned to the opener.
    Pressed twice, or already opened: the screening page, nothing changed."""
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    if referral.state != State.SUBMITTED:
        db.session.commit()  # the read's audit row
        return redirect(url_for("triage.screening", referral_id=referral.id))
    return apply_referral_form(
        referral,
        OpenForm(),
        lambda version: service.open_for_review(
            referral, actor=current_user, expected_version=version
        ),
        "Referral {number} is in review and assigned to you.",
        url_for("triage.screening", referral_id=referral.id),
    )


@bp.route("/<int:referral_id>/accept", methods=["GET", "POST"])
def accept(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = AcceptForm(data={"version": referral.version} if request.method == "GET" else None)
    clinicians = service.clinic_clinicians(referral.clinic_id)
    form.clinician_id.choices = choices(
        [(0, "Choose a clinician")] + [(c.id, c.display_name) for c in clinicians]
    )
    protocols = protocol_queries.protocols()
    form.protocol_id.choices = choices(
        [(0, "Choose when scheduling")] + [(p.id, p.name) for p in protocols]
    )
    if request.method == "GET":
        default = protocol_queries.default_protocol_for(referral.requested_modality, protocols)
        form.protocol_id.data = default.id if default else 0
        # The planned count starts from the protocol's; a clinic's only clinician is chosen.
        form.planned_sessions.data = (
            session_count(parse_phases(default.phases)) if default else None
        )
        if len(clinicians) == 1:
            form.clinician_id.data = clinicians[0].id
    if request.method == "GET" and referral.requested_modality != "clinic_choice":
        form.modality.data = referral.requested_modality
    if form.validate_on_submit():
        clinician = next((c for c in clinicians if c.id == form.clinician_id.data), None)
        try:
            if form.acknowledgement.data:  # a clinician accepting records their judgement
                for item in acknowledgements.missing(referral, form.modality.data, clinic_today()):
                    acknowledgements.acknowledge(
                        referral, item, form.acknowledgement.data, actor=current_user
                    )
            service.accept_referral(
                referral,
                actor=current_user,
                expected_version=form.expected_version(),
                modality=form.modality.data,
                clinician=clinician,
                planned_sessions=form.planned_sessions.data,
                note=form.reason.data or "",
                protocol=next((p for p in protocols if p.id == form.protocol_id.data), None),
            )
        except Invalid as invalid:
            db.session.rollback()
            field = form[invalid.field if invalid.field in form else "protocol_id"]
            field.errors = [*field.errors, str(invalid)]
            referral = queries.get_referral_or_404(referral_id, current_user, "act")
            return _accept_page(referral, form, 422)
        except DomainError as refusal:
            flash(refusal_message(refusal), "error")
            db.session.commit()  # the read and the refusal's audit rows
            return _back(referral)
        db.session.commit()
        flash(f"Referral {referral.number} is accepted. Now schedule the series.", "success")
        return redirect(url_for("scheduling.referral_schedule", referral_id=referral.id))
    return _accept_page(referral, form, 422 if form.errors else 200)


def _accept_page(referral, form, status: int):
    db.session.commit()  # the reads' audit rows
    modality = form.modality.data or referral.requested_modality
    return render_template(
        "triage/accept.html",
        referral=referral,
        form=form,
        needed=acknowledgements.needed(referral, modality, clinic_today()),
        is_clinician=current_user.role == Role.CLINICIAN,
    ), status


@bp.post("/<int:referral_id>/acknowledge")
def acknowledge_flag(referral_id: int):
    """A clinician's acknowledgement of a flag, from the screening page."""
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = AcknowledgeForm()
    item = None
    if form.validate_on_submit():
        item = next(
            (
                i
                for i in acknowledgements.needed(referral, "clinic_choice", clinic_today())
                if i.code == form.flag.data
            ),
            None,
        )
    if item is None:
        db.session.commit()  # the read's audit row
        flash("Nothing was recorded: write your reason for the flag you acknowledge.", "error")
    else:
        try:
            acknowledgements.acknowledge(referral, item, form.reason.data, actor=current_user)
        except DomainError as refusal:
            db.session.rollback()
            db.session.commit()  # the read and the refusal's audit rows
            flash(refusal_message(refusal), "error")
        else:
            db.session.commit()
            flash("Your acknowledgement is recorded with your reason.", "success")
    return redirect(url_for("triage.screening", referral_id=referral.id) + "#ack-h")


@bp.post("/<int:referral_id>/decide/<decision>")
def decide(referral_id: int, decision: str):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    if decision not in DECISIONS:
        abort(404)
    target = State(decision)
    success = DECISIONS[target]
    if target != State.DECLINED:
        return apply_state_form(referral, target, DecisionForm(), success, back_url(referral))
    form = DeclineForm()
    return apply_referral_form(
        referral,
        form,
        lambda version: change_state(
            referral,
            target,
            actor=current_user,
            expected_version=version,
            reason=form.full_reason(),
        ),
        success,
        back_url(referral),
    )


@bp.post("/<int:referral_id>/assign")
def assign(referral_id: int):
    referral = queries.get_referral_or_404(referral_id, current_user, "act")
    form = AssignForm()
    coordinators = screening.clinic_coordinators(referral.clinic_id)
    form.coordinator_id.choices = screening.coordinator_choices(referral, coordinators)
    chosen = next((c for c in coordinators if c.id == form.coordinator_id.data), None)
    name = chosen.display_name if chosen else ""
    return apply_referral_form(
        referral,
        form,
        lambda version: screening.assign_coordinator(
            referral, chosen, actor=current_user, expected_version=version
        ),
        f"Referral {{number}} is assigned to {name}.",
        back_url(referral),
    )
