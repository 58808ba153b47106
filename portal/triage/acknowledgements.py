"""Screening flags a clinician must acknowledge, with a reason, before a referral is accepted
(DOMAIN.md: outside the SPRAVATO label; psychosis or mania for either treatment). The portal
warns and records the clinician's judgement; it never accepts or refuses on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.audit.service import record
from portal.errors import Invalid, NotAllowed
from portal.extensions import db
from portal.referrals import screening
from portal.roles import Role
from portal.triage.models import FlagAcknowledgement

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.referrals.models import Referral

MIN_REASON = 10  # a few words, not "ok"
PSYCHOSIS_LABEL = "Psychosis or mania: a clinician must acknowledge it with a reason"


@dataclass(frozen=True)
class NeededAcknowledgement:
    code: str
    label: str
    answer: str
    done: FlagAcknowledgement | None


def _done(referral: Referral) -> dict[str, FlagAcknowledgement]:
    rows = db.session.scalars(
        select(FlagAcknowledgement).where(FlagAcknowledgement.referral_id == referral.id)
    )
    return {row.flag_code: row for row in rows}


def needed(referral: Referral, modality: str, today: date) -> list[NeededAcknowledgement]:
    """What must be acknowledged before accepting `referral` into `modality` ("spravato",
    "iv_ketamine"; "clinic_choice" counts as possibly SPRAVATO), each with its record once
    acknowledged."""
    done = _done(referral)
    items = []
    for flag in referral.screening_flags or []:
        if flag.get("code") == "psychosis":
            items.append(
                NeededAcknowledgement(
                    "psychosis", PSYCHOSIS_LABEL, flag.get("answer", ""), done.get("psychosis")
                )
            )
    if modality in ("spravato", "clinic_choice"):
        patient = referral.patient
        flag = screening.spravato_label_flag(
            referral.diagnosis_code, patient.date_of_birth if patient else None, today
        )
        if flag:
            label = flag["label"]
            if modality == "clinic_choice":
                label = f"If SPRAVATO is chosen: {label[0].lower()}{label[1:]}"
            items.append(
                NeededAcknowledgement(
                    screening.OFF_LABEL, label, flag["answer"], done.get(screening.OFF_LABEL)
                )
            )
    return items


def acknowledge(
    referral: Referral, item: NeededAcknowledgement, reason: str, *, actor: User
) -> FlagAcknowledgement:
    """A clinician records their judgement on a flag, with a reason; kept and audited."""
    if actor.role != Role.CLINICIAN or actor.clinic_id != referral.clinic_id:
        raise NotAllowed("Only a clinician of the clinic can acknowledge a screening flag.")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise Invalid(
            "Write why you judge it right to go ahead (a sentence the record will keep).",
            field="acknowledgement",
        )
    if item.done is not None:
        return item.done
    row = FlagAcknowledgement(
        referral_id=referral.id,
        flag_code=item.code,
        flag_text=item.answer,
        reason=reason,
        acknowledged_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    record("referral.flag_acknowledge", "referral", referral.id, actor=actor, detail=item.code)
    return row


def missing(referral: Referral, modality: str, today: date) -> list[NeededAcknowledgement]:
    return [item for item in needed(referral, modality, today) if item.done is None]


def require_acknowledged(referral: Referral, modality: str, today: date) -> list[str]:
    """Refuse an acceptance while a flag waits for a clinician; the codes acknowledged."""
    waiting = missing(referral, modality, today)
    if waiting:
        names = "; ".join(item.label.split(":")[0] for item in waiting)
        raise Invalid(
            f"A clinician must acknowledge, with a reason, before this referral is accepted: "
            f"{names}.",
            field="acknowledgement",
        )
    return [item.code for item in needed(referral, modality, today)]
