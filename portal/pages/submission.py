"""Sending a referral: the intake and its state (referrals), the baseline scales (treatment)
in one unit of work, the caller committing once; the first time, the acknowledgement of receipt
(letters) is queued for the worker after the commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict

from portal.attachments.service import add_uploads
from portal.audit.service import record
from portal.clock import clinic_today
from portal.extensions import db
from portal.jobs import after_commit
from portal.letters.tasks import acknowledge_task
from portal.referrals.intake import (
    SCALE_KEYS,
    check_version,
    document_from,
    draft_for_key,
    save_draft,
    submit_intake,
)
from portal.referrals.intake_io import formdata_from_document
from portal.referrals.states import State
from portal.treatment.assessments import add_assessment

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

    from portal.auth.models import User
    from portal.referrals.models import Referral
    from portal.referrals.service import NewReferral


def keep_typing(
    referral: Referral,
    formdata: MultiDict,
    uploads: list[FileStorage],
    *,
    version: str,
    actor: User,
) -> list[str]:
    """Keep what was typed and the files attached, before anything else happens to the intake;
    returns a sentence for each field cut to its length and each file refused. Raises
    StaleEdit or NotEditable (nothing kept) if
    the referral moved on."""
    check_version(referral, version, actor=actor)
    cut = save_draft(referral, formdata, actor=actor)
    _, refusals = add_uploads(referral, uploads, actor=actor)
    return cut + refusals


def send_intake(
    referral: Referral, doc: dict[str, Any], formdata: MultiDict, *, actor: User
) -> bool:
    """Send the validated intake: a draft is submitted, a referral the clinic questioned is
    updated in place. Returns whether this was the referral's first sending. The
    acknowledgement letter of a first sending is rendered by the worker once this commits."""
    first_sending = referral.state == State.DRAFT
    submit_intake(referral, doc, formdata, actor=actor)
    add_baseline_scales(referral, doc["scales"], actor=actor)
    if first_sending:
        after_commit(acknowledge_task, referral.id)
    return first_sending


def submit_referral(data: NewReferral, *, actor: User) -> Referral:
    """Create and submit a complete referral through the intake's rules, without the form
    (demo, imports, tests): with its baseline scales, without an acknowledgement letter."""
    doc = document_from(data)
    referral = draft_for_key("", actor)
    submit_intake(referral, doc, MultiDict(formdata_from_document(doc)), actor=actor)
    add_baseline_scales(referral, doc["scales"], actor=actor)
    return referral


def add_baseline_scales(referral: Referral, scales: dict[str, Any], *, actor: User) -> None:
    """Store each baseline scale the referrer gave; a changed one replaces the old baseline."""
    current = {a.scale: a for a in referral.assessments if a.is_baseline}
    for key, code in SCALE_KEYS.items():
        answers = scales.get(key)
        old = current.get(code)
        if answers is None or (old is not None and list(old.answers) == list(answers)):
            continue
        if old is not None:
            record("assessment.replace", "assessment", old.id, actor=actor, detail="baseline")
            referral.assessments.remove(old)
            db.session.delete(old)
        add_assessment(
            referral, code, answers, taken_on=clinic_today(), actor=actor, is_baseline=True
        )
