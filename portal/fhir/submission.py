"""Sending a referral from an EHR: the Bundle's content goes through the intake form's own
validation, the attachment checks and the submission service the page uses (screening flags,
urgency, baseline scales, acknowledgement letter), as the referring provider it names.
A retry of the same Bundle (Bundle.identifier or If-None-Exist) finds its referral."""

from __future__ import annotations

import hashlib
from io import BytesIO

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from portal.attachments.checks import Refused, check
from portal.auth.models import User
from portal.extensions import db
from portal.fhir.inbound import Incoming
from portal.fhir.models import FhirClient
from portal.fhir.outcome import FhirError, Issue
from portal.pages.submission import keep_typing, send_intake
from portal.referrals.intake import AlreadySubmitted, draft_for_key, intake_document
from portal.referrals.intake_forms import MAX_ROWS, IntakeForm
from portal.referrals.models import Referral
from portal.roles import Role


def requester(client: FhirClient, npi: str) -> User:
    """The referring provider of the client's practice with this NPI (an enabled account)."""
    user = db.session.scalar(
        select(User).where(
            User.npi == npi,
            User.practice_id == client.practice_id,
            User.role == Role.REFERRER,
            User.is_enabled.is_(True),
        )
    )
    if user is None:
        raise FhirError.one(
            422,
            "not-found",
            "No referring provider of this practice has that NPI in the portal.",
            "Bundle.entry.resource.ofType(ServiceRequest).requester",
        )
    return user


def form_key(client: FhirClient, key: str) -> str:
    """The intake's double-submit key for this client's retry key."""
    return "fhir-" + hashlib.sha256(f"{client.id}|{key}".encode()).hexdigest()[:48]


def form_issues(form: IntakeForm, where: dict[str, str]) -> list[Issue]:
    """Each error of the intake form at the FHIRPath its value came from."""
    issues: list[Issue] = []
    for field in form:
        subfields = [sub for entry in field.entries for sub in entry.form] if hasattr(
            field, "entries") else [field]  # fmt: skip
        for sub in subfields:
            messages = sub.errors if isinstance(sub.errors, list) else []
            for message in messages:
                path = where.get(sub.name) or where.get(sub.name.split("-")[0]) or "Bundle"
                issues.append(Issue("invalid", f"{sub.label.text}: {message}", (path,)))
    return issues


def check_files(incoming: Incoming) -> list[Issue]:
    """The page's attachment checks, each refusal at its entry (nothing is stored yet)."""
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    most = current_app.config["MAX_ATTACHMENT_FILES"]
    issues = []
    for number, (_name, data, path) in enumerate(incoming.files):
        if number >= most:
            issues.append(Issue("too-long", f"At most {most} files can be attached at once.",
                                (path,)))  # fmt: skip
            continue
        try:
            check(data, max_bytes=limit)
        except Refused as refusal:
            issues.append(Issue("invalid", str(refusal), (path,)))
    return issues


def validate(incoming: Incoming) -> IntakeForm:
    """The intake form filled from the Bundle and validated; 422 naming every problem."""
    form = IntakeForm(formdata=MultiDict(incoming.formdata), meta={"csrf": False})
    issues = list(incoming.issues)
    if not form.validate():
        issues += form_issues(form, incoming.where)
    for rows in ("trials", "medications"):
        if sum(1 for k in incoming.formdata if k.startswith(f"{rows}-") and k.count("-") == 2
               and k.endswith(("-drug", "-name"))) > MAX_ROWS:  # fmt: skip
            issues.append(Issue("too-long", f"At most {MAX_ROWS} {rows}.", ("Bundle.entry",)))
    issues += check_files(incoming)
    if issues:
        raise FhirError(422, issues)
    return form


def submit(client: FhirClient, incoming: Incoming) -> tuple[Referral, bool]:
    """Create and send the referral; returns it and whether it is new (False: a retry)."""
    form = validate(incoming)
    actor = requester(client, incoming.npi)
    key = form_key(client, incoming.key) if incoming.key else ""
    try:
        referral = draft_for_key(key, actor)
    except AlreadySubmitted as done:
        return done.referral, False
    formdata = MultiDict(incoming.formdata)
    uploads = [FileStorage(BytesIO(data), filename=name) for name, data, _ in incoming.files]
    refusals = keep_typing(referral, formdata, uploads, version="", actor=actor)
    if refusals:  # checked above; a file refused now is refused all the same
        raise FhirError(422, [Issue("invalid", text, ("Bundle.entry",)) for text in refusals])
    send_intake(referral, intake_document(form), formdata, actor=actor)
    return referral, True
