"""Measures pages: the clinic's (coordinators and admins), its CSV exports and the practice
report; the referring provider's own (My outcomes). Every view is audited."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, render_template, request
from flask_login import current_user

from portal.audit.service import record
from portal.clock import clinic_today, clinic_zone
from portal.errors import Invalid
from portal.extensions import db
from portal.guards import require_roles
from portal.measures import bp
from portal.measures.exports import csv_text
from portal.measures.page import (
    TABLES,
    clinic_sections,
    referring_practices,
    referring_providers,
    side_by_side,
    summary,
)
from portal.measures.page import table as measure_table
from portal.measures.report import parse_quarter, practice_report, recent_quarters
from portal.measures.scope import MODALITIES, Scope, scope_from_args
from portal.measures.sql import plan_for_measures
from portal.measures.tables import Table
from portal.referrals.service import receiving_clinic_id
from portal.roles import Role
from portal.scheduling.settings import clinic_schedule_or_new

CLINIC_MEASURES = (Role.COORDINATOR, Role.ADMIN)
REFERRER_DAYS = 365


def _levels(clinic_id: int) -> tuple[int, int]:
    settings, _ = clinic_schedule_or_new(clinic_id)
    return settings.sla_urgent_days, settings.sla_routine_days


def _clinic_scope(practices: dict, providers: dict) -> tuple[Scope, Invalid | None]:
    """The scope asked for; a refused one falls back to the default, with the error."""
    plan_for_measures(db.session)
    clinic_id = current_user.clinic_id
    common = {"clinic_id": clinic_id, "today": clinic_today(), "zone": clinic_zone()}
    levels = _levels(clinic_id)
    try:
        scope = scope_from_args(request.args, levels=levels, **common)
    except Invalid as error:
        return scope_from_args({}, levels=levels, **common), error
    if scope.practice_id is not None and scope.practice_id not in practices:
        return scope_from_args({}, levels=levels, **common), Invalid(
            "Choose a practice from the list.", field="practice"
        )
    if scope.referrer_id is not None and scope.referrer_id not in providers:
        return scope_from_args({}, levels=levels, **common), Invalid(
            "Choose a provider from the list.", field="provider"
        )
    return scope, None


@bp.get("/")
@require_roles(*CLINIC_MEASURES)
def clinic():
    practices = referring_practices(current_user.clinic_id)
    providers = referring_providers(current_user.clinic_id)
    scope, error = _clinic_scope(dict(practices), dict(providers))
    sections = clinic_sections(scope)
    record("measures.view", "clinic", scope.clinic_id, detail=_detail(scope))
    db.session.commit()
    return render_template(
        "measures/clinic.html",
        scope=scope,
        error=error,
        typed=request.args,
        sections=sections,
        modalities=MODALITIES,
        practices=practices,
        providers=providers,
        quarters=recent_quarters(scope.today),
    ), (422 if error else 200)


def _detail(scope: Scope) -> str:
    """What was looked at, without names: dates and ids only."""
    parts = [f"{scope.start}..{scope.end}"]
    if scope.modality:
        parts.append(scope.modality)
    if scope.practice_id is not None:
        parts.append(f"practice {scope.practice_id}")
    if scope.referrer_id is not None:
        parts.append(f"provider {scope.referrer_id}")
    return " ".join(parts)


@bp.get("/export/<key>.csv")
@require_roles(*CLINIC_MEASURES)
def export(key: str):
    if key not in TABLES:
        abort(404)
    clinic_id = current_user.clinic_id
    scope, error = _clinic_scope(
        dict(referring_practices(clinic_id)), dict(referring_providers(clinic_id))
    )
    if error is not None:
        abort(404)
    table = measure_table(key, scope)
    record("measures.export", "clinic", scope.clinic_id, detail=f"{key} {_detail(scope)}")
    db.session.commit()
    body = csv_text([table], heading=[f"{scope.start} to {scope.end}", _detail(scope)])
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="measures-{key}-{scope.start}-'
            f'{scope.end}.csv"'
        },
    )


@bp.get("/report.pdf")
@require_roles(*CLINIC_MEASURES)
def report():
    try:
        quarter = parse_quarter(request.args.get("quarter", ""))
    except Invalid:
        abort(404)
    practice = request.args.get("practice", "")
    if not practice.isdigit():
        abort(404)
    plan_for_measures(db.session)
    pdf = practice_report(current_user.clinic_id, int(practice), quarter, actor=current_user)
    db.session.commit()
    return Response(
        pdf.data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="referral-outcomes-{quarter.label}-'
            f'practice-{int(practice)}.pdf"'
        },
    )


def _referrer_scopes() -> tuple[list[tuple[str, Scope]], Invalid | None]:
    """The provider's own referrals, their practice's (when it shares), and the clinic's."""
    plan_for_measures(db.session)
    today = clinic_today()
    args = dict(request.args)
    args.setdefault("start", (today - timedelta(days=REFERRER_DAYS - 1)).isoformat())
    clinic_id = receiving_clinic_id()
    common = {"clinic_id": clinic_id, "today": today, "zone": clinic_zone()}
    plain = {k: v for k, v in args.items() if k in ("start", "end")}
    error = None
    try:
        clinic_scope = scope_from_args(plain, **common)
    except Invalid as refused:
        error = refused
        clinic_scope = scope_from_args(
            {"start": (today - timedelta(days=REFERRER_DAYS - 1)).isoformat()}, **common
        )
    scopes = [("Your referrals", clinic_scope.narrowed(referrer_id=current_user.id))]
    practice = current_user.practice
    if practice is not None and practice.share_referrals:
        scopes.append((f"{practice.name}", clinic_scope.narrowed(practice_id=practice.id)))
    scopes.append(("All referrals to the clinic", clinic_scope))
    # Each its own temporary milestones table (portal.measures.cohort.materialize).
    return [(label, scope.narrowed(slot=i)) for i, (label, scope) in enumerate(scopes)], error


@bp.get("/mine")
@require_roles(Role.REFERRER)
def mine():
    scopes, error = _referrer_scopes()
    summaries = [
        (label, summary(scope.narrowed(slot=i))) for i, (label, scope) in enumerate(scopes)
    ]
    first = scopes[0][1]
    record("measures.mine", "user", current_user.id, detail=f"{first.start}..{first.end}")
    db.session.commit()
    return render_template(
        "measures/mine.html",
        scope=first,
        error=error,
        typed=request.args,
        columns=[label for label, _ in summaries],
        rows=side_by_side([s for _, s in summaries]),
    ), (422 if error else 200)


@bp.get("/mine.csv")
@require_roles(Role.REFERRER)
def mine_csv():
    scopes, error = _referrer_scopes()
    if error is not None:
        abort(404)
    summaries = [
        (label, summary(scope.narrowed(slot=i))) for i, (label, scope) in enumerate(scopes)
    ]
    first = scopes[0][1]
    table = Table(
        key="mine",
        title="Your referrals as the clinic's measures see them",
        columns=["Measure", *[label for label, _ in summaries]],
        rows=[[label, *cells] for label, cells in side_by_side([s for _, s in summaries])],
    )
    record("measures.mine_export", "user", current_user.id, detail=f"{first.start}..{first.end}")
    db.session.commit()
    return Response(
        csv_text([table], heading=[f"{first.start} to {first.end}"]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="my-outcomes-{first.end}.csv"'},
    )
