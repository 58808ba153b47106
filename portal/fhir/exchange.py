"""The conversation and the visits: the clinic's question as a CommunicationRequest, the EHR's
answer as a Communication (through the state machine, as the page's answer box), and booked
visits as Appointments (dates only: the portal books days, not times)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.fhir.access import get_referral_or_404
from portal.fhir.outcome import FhirError, not_found
from portal.fhir.resources import instant, ref
from portal.referrals.models import Referral, ReferralEvent
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.referrals.vocab import MODALITY_LABELS
from portal.scheduling.models import Appointment, AppointmentStatus

Resource = dict[str, Any]
APPOINTMENT_STATUS = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",  # BSeR 5.1.2 at the visit, not a referral state
}


def _moves(referral: Referral, frm: State | None, to: State) -> list[ReferralEvent]:
    return [
        e
        for e in referral.events
        if e.kind == "state_change" and e.to_state == to and (frm is None or e.from_state == frm)
    ]


def questions(referral: Referral) -> list[Resource]:
    """Each question the clinic asked (a move to needs_info), open while it waits."""
    asked = _moves(referral, None, State.NEEDS_INFO)
    out = []
    for event in asked:
        waiting = referral.state == State.NEEDS_INFO and event is asked[-1]
        out.append(
            {
                "resourceType": "CommunicationRequest",
                "id": str(event.id),
                "basedOn": [ref("ServiceRequest", referral.id)],
                "status": "active" if waiting else "completed",
                "subject": ref("Patient", referral.patient_id),
                "payload": [{"contentString": event.reason}],
                "authoredOn": instant(event.at),
                "requester": ref("Organization", f"clinic-{referral.clinic_id}"),
                "recipient": [ref("PractitionerRole", referral.referrer_id)],
            }
        )
    return out


def answers(referral: Referral) -> list[Resource]:
    """Each answer of the referrer (a move from needs_info back to review)."""
    return [
        {
            "resourceType": "Communication",
            "id": str(event.id),
            "basedOn": [ref("ServiceRequest", referral.id)],
            "status": "completed",
            "subject": ref("Patient", referral.patient_id),
            "sent": instant(event.at),
            "sender": ref("PractitionerRole", referral.referrer_id),
            "recipient": [ref("Organization", f"clinic-{referral.clinic_id}")],
            "payload": [{"contentString": event.reason}],
        }
        for event in _moves(referral, State.NEEDS_INFO, State.IN_REVIEW)
        if event.actor_id == referral.referrer_id
    ]


def appointments(referral: Referral) -> list[Resource]:
    rows = db.session.scalars(
        select(Appointment).where(Appointment.referral_id == referral.id).order_by(Appointment.day)
    )
    return [
        {
            "resourceType": "Appointment",
            "id": str(row.id),
            "status": APPOINTMENT_STATUS[row.status],
            "serviceType": [{"text": MODALITY_LABELS.get(row.modality, row.modality)}],
            "basedOn": [ref("ServiceRequest", referral.id)],
            "requestedPeriod": [{"start": row.day.isoformat(), "end": row.day.isoformat()}],
            "created": instant(row.created_at),
            "participant": [{"actor": ref("Patient", referral.patient_id), "status": "accepted"}],
        }
        for row in rows
    ]


def _event_referral(resource_id: str, kind: str) -> Referral:
    event = (
        db.session.scalar(select(ReferralEvent).where(ReferralEvent.id == int(resource_id)))
        if resource_id.isdigit()
        else None
    )
    return get_referral_or_404(event.referral_id if event else -1, kind)


def read_question(resource_id: str) -> Resource:
    return _one(questions(_event_referral(resource_id, "CommunicationRequest")), resource_id)


def read_answer(resource_id: str) -> Resource:
    return _one(answers(_event_referral(resource_id, "Communication")), resource_id)


def read_appointment(resource_id: str) -> Resource:
    row = (
        db.session.scalar(select(Appointment).where(Appointment.id == int(resource_id)))
        if resource_id.isdigit()
        else None
    )
    referral = get_referral_or_404(row.referral_id if row else -1, "Appointment")
    return _one(appointments(referral), resource_id)


def _one(found: list[Resource], resource_id: str) -> Resource:
    for resource in found:
        if resource["id"] == resource_id:
            return resource
    raise not_found()


def answer_question(body: Any) -> Referral:
    """The EHR answers the clinic's question: the referral goes back to review with it."""
    if not isinstance(body, dict) or body.get("resourceType") != "Communication":
        raise FhirError.one(400, "structure", "POST a Communication.", "Communication")
    target = next(
        (r.get("reference", "") for r in body.get("basedOn") or [] if isinstance(r, dict)), ""
    )
    kind, _, number = target.rpartition("/")
    if kind != "ServiceRequest" or not number.isdigit():
        raise FhirError.one(422, "required", "basedOn must be the referral's ServiceRequest.",
                            "Communication.basedOn")  # fmt: skip
    referral = get_referral_or_404(number, "Communication")
    payload = body.get("payload") or [{}]
    text = str((payload[0] or {}).get("contentString", "")).strip()
    if not text:
        raise FhirError.one(422, "required", "Write the answer in payload[0].contentString.",
                            "Communication.payload")  # fmt: skip
    if referral.state != State.NEEDS_INFO:
        raise FhirError.one(422, "business-rule", "The clinic is not waiting for an answer on "
                            "this referral.", "Communication.basedOn")  # fmt: skip
    change_state(referral, State.IN_REVIEW, actor=referral.referrer,
                 expected_version=referral.version, reason=text)  # fmt: skip
    return referral
