"""Letter work on the job queue: the acknowledgement of receipt of a referral just sent (no
longer rendered inside the submit request), a sweep for any acknowledgement whose job was
lost, the PDF of each letter just signed (and a sweep for those), and the nightly
`generate-due` (the due drafts, rendered one after another)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from portal.audit.service import record
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import in_app, periodic_task, task
from portal.letters.batch import render_in_process, store_preview
from portal.letters.due import create_due_drafts, drafts_to_render
from portal.letters.models import ACKNOWLEDGEMENT, Letter
from portal.letters.service import acknowledge_referral
from portal.referrals.models import Referral

log = logging.getLogger(__name__)

# The sweep looks back this far: older referrals were acknowledged (or predate the queue).
SWEEP_WINDOW = timedelta(days=2)


def acknowledge(referral_id: int) -> bool:
    """Issue the acknowledgement of `referral_id` unless it exists; commits."""
    referral = db.session.scalar(select(Referral).where(Referral.id == referral_id))
    if referral is None or referral.submitted_at is None:
        return False
    made = acknowledge_referral(referral, at=referral.submitted_at) is not None
    db.session.commit()
    return made


def unacknowledged_ids() -> list[int]:
    acknowledged = select(Letter.referral_id).where(Letter.kind == ACKNOWLEDGEMENT)
    return list(
        db.session.scalars(
            select(Referral.id).where(
                Referral.submitted_at >= utcnow() - SWEEP_WINDOW,
                Referral.id.not_in(acknowledged),
            )
        )
    )


@task()
@in_app
def acknowledge_task(referral_id: int) -> bool:
    return acknowledge(referral_id)


@periodic_task(minute="*/5", lock="acknowledge-missing")
@in_app
def acknowledge_missing() -> int:
    return sum(acknowledge(referral_id) for referral_id in unacknowledged_ids())


@periodic_task(minute="30", hour="2", lock="letters-generate-due")
@in_app
def generate_due() -> tuple[int, int]:
    """What `flask --app portal letters generate-due --workers 1` does, nightly."""
    created = create_due_drafts()
    db.session.commit()
    rendered = 0
    for result in render_in_process(drafts_to_render()):
        rendered += store_preview(result)
        db.session.commit()
    record("letter.generate_due", "letter", None, detail=f"{len(created)} new, {rendered} rendered")
    db.session.commit()
    return len(created), rendered
