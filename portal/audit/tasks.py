"""The audit chain's sequencer on the job worker: every minute it links the audit events
that requests left unlinked (a request links them at most once a second per process, so the
last requests before a quiet spell leave theirs for this run)."""

from __future__ import annotations

from portal.audit.chain import chain_pending
from portal.jobs import in_app, periodic_task


@periodic_task(minute="*", lock="audit-chain")  # one worker at a time
@in_app
def link_audit_events() -> int:
    return chain_pending(wait=True)
