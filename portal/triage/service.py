"""Coordinators' decisions: opening a referral for review and accepting it into a course."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.audit.service import record
from portal.auth.models import User
from portal.clock import clinic_today
from portal.errors import Invalid
from portal.extensions import db
from portal.referrals.service import change_state
from portal.referrals.states import State
from portal.referrals.vocab import MODALITY_LABELS
from portal.roles import Role
from portal.scheduling.generation import parse_phases, session_count
from portal.scheduling.models import ProtocolTemplate
from portal.treatment.service import open_course
from portal.triage import acknowledgements

if TYPE_CHECKING:
    from portal.referrals.models import Referral


def clinic_clinicians(clinic_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.clinic_id == clinic_id, User.role == Role.CLINICIAN, User.is_enabled.is_(True)
            )
            .order_by(User.full_name)
        )
    )


def open_for_review(referral: Referral, *, actor: User, expected_version: int) -> None:
    """A coordinator opens a submitted referral: it is in review and assigned to them."""
    change_state(referral, State.IN_REVIEW, actor=actor, expected_version=expected_version)
    referral.assigned_coordinator_id = actor.id
    db.session.flush()


def accept_referral(
    referral: Referral,
    *,
    actor: User,
    expected_version: int,
    modality: str,
    clinician: User,
    planned_sessions: int | None = None,
    note: str = "",
    protocol: ProtocolTemplate | None = None,
) -> None:
    """Accept into a course with the assigned clinician and protocol; without a number of
    planned sessions, the protocol's count (6 when there is no protocol)."""
    if clinician is None or clinician.clinic_id != referral.clinic_id:
        raise Invalid("Choose a clinician of this clinic.", field="clinician_id")
    if clinician.role != Role.CLINICIAN:
        raise Invalid("Choose a clinician of this clinic.", field="clinician_id")
    if protocol is not None and protocol.modality not in ("any", modality):
        raise Invalid(
            f"The protocol “{protocol.name}” is not for this treatment: choose one for "
            f"{MODALITY_LABELS.get(modality, modality)}, or a custom plan.",
            field="protocol_id",
        )
    acknowledged = acknowledgements.require_acknowledged(referral, modality, clinic_today())
    if protocol is not None:
        referral.protocol_id = protocol.id
    if not planned_sessions:
        planned_sessions = session_count(parse_phases(protocol.phases)) if protocol else 6
    change_state(
        referral, State.ACCEPTED, actor=actor, expected_version=expected_version, reason=note
    )
    open_course(
        referral,
        actor=actor,
        modality=modality,
        clinician=clinician,
        planned_sessions=planned_sessions,
    )
    if acknowledged:  # accepted on a clinician's recorded judgement: say so in the record
        record(
            "referral.accept",
            "referral",
            referral.id,
            actor=actor,
            detail="flags acknowledged: " + ", ".join(acknowledged),
        )
