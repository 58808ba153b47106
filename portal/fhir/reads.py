"""Reading and searching the client's referrals as resources. Every read of patient data is
audited per referral (portal.fhir.access); ids outside what the client acts for (its
practice, or its clinic for a clinic-wide client) answer 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from portal.auth.models import User
from portal.clinics.models import Clinic, Practice
from portal.extensions import db
from portal.fhir import clinical, documents, exchange, resources
from portal.fhir.access import (
    audit_read,
    current_grant,
    get_referral_or_404,
    own_practice,
    visible_referrals,
)
from portal.fhir.outcome import FhirError, not_found
from portal.letters.service import mark_downloaded
from portal.referrals.models import Referral
from portal.referrals.states import FHIR_TASK_STATUS
from portal.treatment.models import Assessment

Resource = dict[str, Any]


def supporting_info(referral: Referral) -> list[dict[str, str]]:
    refs = [resources.ref("Condition", c["id"]) for c in clinical.conditions(referral)]
    refs += [resources.ref("MedicationStatement", m["id"]) for m in
             clinical.medication_statements(referral)]  # fmt: skip
    refs.append(resources.ref("QuestionnaireResponse", referral.id))
    refs += [resources.ref("Observation", o["id"]) for o in clinical.vitals(referral)]
    refs += [
        resources.ref("Observation", f"a{a.id}") for a in referral.assessments if a.is_baseline
    ]
    return refs


def service_request(referral: Referral) -> Resource:
    return resources.service_request(referral, supporting_info(referral))


def task(referral: Referral) -> Resource:
    return resources.task(referral, documents.issued_letters(referral))


def _split(resource_id: str) -> tuple[str, str]:
    head, _, tail = resource_id.partition("-")
    return head, tail


def _from_referral(kind: str, build: Callable[[Referral], list[Resource]]):
    def read(resource_id: str) -> Resource:
        head, _ = _split(resource_id)
        referral = get_referral_or_404(head, kind)
        for resource in build(referral):
            if resource["id"] == resource_id:
                return resource
        raise not_found(kind)

    return read


def read_patient(resource_id: str) -> Resource:
    try:
        number = int(resource_id)
    except ValueError:
        raise not_found("Patient") from None
    referral_id = db.session.scalar(
        visible_referrals()
        .with_only_columns(Referral.id)
        .where(Referral.patient_id == number)
        .order_by(Referral.id)
        .limit(1)  # fmt: skip
    )
    if referral_id is None:
        get_referral_or_404(-1, "Patient")  # audited as denied, 404
    return resources.patient(get_referral_or_404(referral_id, "Patient"))


def read_observation(resource_id: str) -> Resource:
    if resource_id.startswith("r"):
        head, _ = _split(resource_id[1:])
        referral = get_referral_or_404(head, "Observation")
        found = [o for o in clinical.vitals(referral) if o["id"] == resource_id]
    else:
        head, _ = _split(resource_id.removeprefix("a"))
        assessment = db.session.get(Assessment, int(head)) if head.isdigit() else None
        if assessment is None:
            raise not_found("Observation")
        get_referral_or_404(assessment.referral_id, "Observation")
        found = [o for o in clinical.observations(assessment) if o["id"] == resource_id]
    if not found:
        raise not_found("Observation")
    return found[0]


def _letter(resource_id: str, kind: str):
    if not resource_id.isdigit():
        raise not_found(kind)
    ids = visible_referrals().with_only_columns(Referral.id).scalar_subquery()
    letter = documents.letter_of(ids, int(resource_id))
    if letter is None:
        get_referral_or_404(-1, kind)
    get_referral_or_404(letter.referral_id, kind)
    return letter


def read_document(resource_id: str) -> Resource:
    letter = _letter(resource_id, "DocumentReference")
    return documents.document_reference(letter, documents.letter_pdf(letter))


def read_binary(resource_id: str) -> tuple[Resource, bytes]:
    """The letter's PDF; the practice's download is recorded as the referrer's receipt (a
    clinic-wide system's download is the clinic's own, no receipt)."""
    letter = _letter(resource_id, "Binary")
    pdf = documents.letter_pdf(letter)
    if current_grant().client.clinic_id is None:
        mark_downloaded(letter, actor=letter.referral.referrer)
    return documents.binary(letter, pdf), pdf


def _referrers_seen() -> Any:
    return visible_referrals().with_only_columns(Referral.referrer_id).scalar_subquery()


def read_practitioner(resource_id: str, role: bool) -> Resource:
    """Referring providers of the client's own practice, or for a clinic-wide client those
    who referred to its clinic (no patient data)."""
    client = current_grant().client
    mine = or_(own_practice(client, User.practice_id), User.id.in_(_referrers_seen()))
    user = db.session.scalar(
        select(User).where(User.id == (int(resource_id) if resource_id.isdigit() else -1), mine)
    )
    if user is None:
        raise not_found("PractitionerRole" if role else "Practitioner")
    return resources.practitioner_role(user) if role else resources.practitioner(user)


def read_organization(resource_id: str) -> Resource:
    kind, _, number = resource_id.partition("-")
    model = {"clinic": Clinic, "practice": Practice}.get(kind)
    holder = db.session.get(model, int(number)) if model and number.isdigit() else None
    if holder is None or (kind == "practice" and not _sees_practice(holder.id)):
        raise not_found("Organization")
    return resources.organization(holder, kind)


def _sees_practice(practice_id: int) -> bool:
    """Its own practice; for a clinic-wide client, a practice that referred to its clinic."""
    if practice_id == current_grant().client.practice_id:
        return True
    seen = visible_referrals().with_only_columns(Referral.id)
    return db.session.scalar(seen.where(Referral.practice_id == practice_id).limit(1)) is not None


READERS: dict[str, Callable[[str], Resource]] = {
    "ServiceRequest": lambda rid: service_request(get_referral_or_404(rid, "ServiceRequest")),
    "Task": lambda rid: task(get_referral_or_404(rid, "Task")),
    "Patient": read_patient,
    "Condition": _from_referral("Condition", clinical.conditions),
    "MedicationStatement": _from_referral("MedicationStatement", clinical.medication_statements),
    "QuestionnaireResponse": lambda rid: clinical.questionnaire_response(
        get_referral_or_404(rid, "QuestionnaireResponse")
    ),
    "Observation": read_observation,
    "DocumentReference": read_document,
    "Practitioner": lambda rid: read_practitioner(rid, role=False),
    "PractitionerRole": lambda rid: read_practitioner(rid, role=True),
    "Organization": read_organization,
    "CommunicationRequest": exchange.read_question,
    "Communication": exchange.read_answer,
    "Appointment": exchange.read_appointment,
}


# Searches ------------------------------------------------------------------------------------

BY_REFERRAL: dict[str, Callable[[Referral], list[Resource]]] = {
    "CommunicationRequest": exchange.questions,
    "Communication": exchange.answers,
    "Appointment": exchange.appointments,
}
PREFIXES = {"gt": "__gt__", "ge": "__ge__", "lt": "__lt__", "le": "__le__"}


def _referral_param(value: str, name: str) -> int:
    kind, _, number = value.rpartition("/")
    if kind not in ("", "ServiceRequest") or not number.isdigit():
        raise FhirError.one(400, "value", f"{name} must be ServiceRequest/ID.", name)
    return int(number)


def _updated(query, values: list[str]):
    for value in values:
        prefix, moment = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
        try:
            when = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            raise FhirError.one(400, "value", "_lastUpdated takes a date and time, e.g. "
                                "gt2026-01-01T00:00:00Z.", "_lastUpdated") from None  # fmt: skip
        if when.tzinfo is None:
            raise FhirError.one(400, "value", "_lastUpdated needs a time zone.", "_lastUpdated")
        column = Referral.updated_at
        query = query.where(getattr(column, PREFIXES.get(prefix, "__eq__"))(when))
    return query


def referral_search(params: dict[str, list[str]], kind: str):
    """The query of the client's referrals matching the search parameters."""
    query = visible_referrals()
    for name, values in params.items():
        if name in ("focus", "_id", "based-on", "related"):
            ids = [_referral_param(v, name) for v in values]
            query = query.where(Referral.id.in_(ids))
        elif name == "_lastUpdated":
            query = _updated(query, values)
        elif name == "status" and kind == "Task":
            states = [s for s, code in FHIR_TASK_STATUS.items() if code in values]
            query = query.where(Referral.state.in_(states))
        else:
            raise FhirError.one(400, "not-supported", f"{kind} cannot be searched by {name}.",
                                name)  # fmt: skip
    return query


@cache
def page_loads() -> tuple[LoaderOption, ...]:
    """What a page of referrals needs, loaded in a few statements instead of one per referral
    (built at the first search: a loader option configures every mapper)."""
    return (
        selectinload(Referral.events),
        selectinload(Referral.letters),
        selectinload(Referral.assessments),
    )


def search(
    kind: str, params: dict[str, list[str]], count: int, offset: int
) -> tuple[int, list[Resource]]:
    """How many resources of `kind` match `params`, and the page asked; each referral shown
    is audited as a read. ServiceRequest and Task are paged in SQL (one per referral)."""
    allowed = {
        "ServiceRequest": {"_id", "_lastUpdated"},
        "Task": {"focus", "_lastUpdated", "status", "_id"},
        "DocumentReference": {"related"},
        "Observation": {"based-on"},
        "CommunicationRequest": {"based-on"},
        "Communication": {"based-on"},
        "Appointment": {"based-on"},
    }
    if kind not in allowed:
        raise FhirError.one(400, "not-supported", f"{kind} cannot be searched.", kind)
    unknown = set(params) - allowed[kind]
    if unknown:
        name = sorted(unknown)[0]
        raise FhirError.one(400, "not-supported", f"{kind} cannot be searched by {name}.", name)
    query = referral_search(params, kind)
    if kind in ("ServiceRequest", "Task"):
        total = db.session.scalar(query.with_only_columns(func.count(Referral.id)).order_by(None))
        page = list(
            db.session.scalars(
                query.order_by(Referral.updated_at, Referral.id)
                .options(*page_loads())
                .limit(count)
                .offset(offset)
            )
        )
        audit_read(page, kind)
        build = service_request if kind == "ServiceRequest" else task
        return total or 0, [build(referral) for referral in page]
    referrals = list(db.session.scalars(query.order_by(Referral.id).options(*page_loads())))
    audit_read(referrals, kind)
    found = _per_referral(kind, referrals)
    return len(found), found[offset : offset + count]


def _per_referral(kind: str, referrals: list[Referral]) -> list[Resource]:
    out: list[Resource] = []
    for referral in referrals:
        if kind == "DocumentReference":
            out += [documents.document_reference(letter, documents.letter_pdf(letter))
                    for letter in documents.issued_letters(referral)]  # fmt: skip
        elif kind in BY_REFERRAL:
            out += BY_REFERRAL[kind](referral)
        else:
            out += clinical.vitals(referral)
            for assessment in referral.assessments:
                out += clinical.observations(assessment)
    return out
