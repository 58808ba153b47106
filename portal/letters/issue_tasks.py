"""The PDF of each letter just signed, rendered by the job workers, and a sweep for any whose
job was lost. Apart from portal.letters.tasks so that signing (portal.letters.service) can
queue it without importing the letter jobs that use the service."""

from __future__ import annotations

import logging

from portal.extensions import db
from portal.jobs import in_app, periodic_task, task
from portal.letters.issuing import issue_by_id, waiting_ids

log = logging.getLogger(__name__)


# A letter's own job tries again a little later (a database restart, a worker killed);
# after that the sweep below keeps trying every five minutes.
ISSUE_RETRIES, ISSUE_RETRY_DELAY = 3, 30


@task(retries=ISSUE_RETRIES, retry_delay=ISSUE_RETRY_DELAY)
@in_app
def issue_task(letter_id: int) -> bool:
    """Render and store a letter just signed; the referrer is told once its PDF exists."""
    return issue_by_id(letter_id)


def issue_all_waiting() -> int:
    """Issue every waiting letter; one that fails is logged (its id only) and left for the
    next sweep, the others are issued."""
    issued = 0
    for letter_id in waiting_ids():
        try:
            issued += issue_by_id(letter_id)
        except Exception as error:  # noqa: BLE001 - one letter must not stop the others
            db.session.rollback()
            # The id and the kind of error only: a message could quote the letter's text.
            log.error("letter %s could not be issued: %s", letter_id, type(error).__name__)
    return issued


@periodic_task(minute="*/5", lock="issue-waiting-letters")
@in_app
def issue_waiting() -> int:
    """Any signed letter whose job was lost is rendered by the next sweep."""
    return issue_all_waiting()
