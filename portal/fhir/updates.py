"""What a client may change: cancel its referral by updating the Task (status cancelled, with
a reason), through the referral's state machine, guarded by If-Match on the version."""

from __future__ import annotations

import re
from typing import Any

from portal.fhir.access import get_referral_or_404
from portal.fhir.outcome import FhirError
from portal.referrals.models import Referral
from portal.referrals.service import change_state
from portal.referrals.states import FHIR_TASK_STATUS, State

ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def expected_version(if_match: str | None) -> int:
    """The version named by If-Match; 412 without a usable one (updates never overwrite)."""
    match = ETAG.match((if_match or "").strip())
    if match is None:
        raise FhirError.one(412, "conflict", 'Send If-Match: W/"<versionId>" of the Task you '
                            "read.", "If-Match")  # fmt: skip
    return int(match.group(1))


def update_task(resource_id: str, body: Any, if_match: str | None) -> Referral:
    """Cancel the referral as its referring provider; 409 if it changed since it was read."""
    referral = get_referral_or_404(resource_id, "Task")
    version = expected_version(if_match)
    if not isinstance(body, dict) or body.get("resourceType") != "Task":
        raise FhirError.one(400, "structure", "PUT a Task.", "Task")
    if str(body.get("id", "")) != str(referral.id):
        raise FhirError.one(400, "value", "The Task's id must be the one in the URL.", "Task.id")
    if body.get("status") == FHIR_TASK_STATUS[referral.state]:
        raise FhirError.one(422, "business-rule", "Nothing to change: only cancelling is "
                            "supported.", "Task.status")  # fmt: skip
    if body.get("status") != FHIR_TASK_STATUS[State.CANCELLED]:
        raise FhirError.one(422, "business-rule", "A client may only cancel its referral "
                            "(status cancelled).", "Task.status")  # fmt: skip
    if referral.version != version:
        raise FhirError.one(409, "conflict", "The referral changed since this version was "
                            "read; read the Task again.", "If-Match")  # fmt: skip
    reason = str((body.get("statusReason") or {}).get("text", "")).strip()
    if not reason:
        raise FhirError.one(422, "required", "Say why in statusReason.text.", "Task.statusReason")
    change_state(
        referral, State.CANCELLED, actor=referral.referrer, expected_version=version, reason=reason
    )
    return referral
