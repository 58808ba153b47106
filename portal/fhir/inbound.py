"""A transaction Bundle read into the intake form's fields, each field remembering the
FHIRPath it came from, so the intake's own validation can name each problem where the EHR put
it. Pure over the JSON (no database): portal.fhir.submission sends what this reads."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from portal.fhir import codes
from portal.fhir.clinical import QUESTIONNAIRE_ITEMS
from portal.fhir.outcome import FhirError, Issue
from portal.fhir.resources import own_system
from portal.referrals.intake import SCALE_KEYS
from portal.referrals.vocab import DIAGNOSIS_LABELS
from portal.scales.items import ITEMS

ACCEPTED_TYPES = frozenset(
    {
        "ServiceRequest",
        "Patient",
        "Condition",
        "MedicationStatement",
        "QuestionnaireResponse",
        "Observation",
        "DocumentReference",
        "Practitioner",
        "PractitionerRole",
    }
)
YES_NO_ITEMS = {key for key, kind in QUESTIONNAIRE_ITEMS if kind == "boolean"} - {
    "consent",
    "ongoing_care",
}
SCALE_PREFIX = {code: prefix for prefix, code in SCALE_KEYS.items()}


@dataclass
class Incoming:
    """What the Bundle says, as the intake form's fields."""

    formdata: dict[str, list[str]] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # form field -> FHIRPath
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # name, bytes, FHIRPath
    npi: str = ""
    key: str = ""  # Bundle.identifier or If-None-Exist: the retry key
    types: list[str] = field(default_factory=list)  # each entry's resourceType, in order
    issues: list[Issue] = field(default_factory=list)

    def put(self, name: str, value: object, path: str) -> None:
        if value is None or value == "":
            return
        self.formdata.setdefault(name, []).append(str(value))
        self.where.setdefault(name, path)

    def refuse(self, diagnostics: str, path: str, code: str = "invalid") -> None:
        self.issues.append(Issue(code, diagnostics, (path,)))


def read_bundle(bundle: Any) -> Incoming:
    """The Bundle's content; 400 if it is no transaction Bundle, 422 naming each problem."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError.one(400, "structure", "POST to the base takes a Bundle.", "Bundle")
    if bundle.get("type") != "transaction":
        raise FhirError.one(400, "structure", "The Bundle must be a transaction.", "Bundle.type")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise FhirError.one(400, "structure", "The Bundle has no entries.", "Bundle.entry")
    incoming = Incoming()
    identifier = bundle.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        incoming.key = f"{identifier.get('system', '')}|{identifier['value']}"
    found = _entries(entries, incoming)
    _exactly_one(found, "ServiceRequest", incoming)
    _exactly_one(found, "Patient", incoming)
    resolver = {e.get("fullUrl"): e.get("resource") for e in entries if isinstance(e, dict)}
    for index, resource in found.get("ServiceRequest", [])[:1]:
        _service_request(resource, f"Bundle.entry[{index}].resource", incoming, resolver)
    for index, resource in found.get("Patient", [])[:1]:
        _patient(resource, f"Bundle.entry[{index}].resource", incoming)
    for index, resource in found.get("Condition", []):
        _condition(resource, f"Bundle.entry[{index}].resource", incoming)
    for index, resource in found.get("MedicationStatement", []):
        _medication(resource, f"Bundle.entry[{index}].resource", incoming)
    for index, resource in found.get("QuestionnaireResponse", []):
        _answers(resource, f"Bundle.entry[{index}].resource", incoming)
    for index, resource in found.get("Observation", []):
        _observation(resource, f"Bundle.entry[{index}].resource", incoming)
    for index, resource in found.get("DocumentReference", []):
        _document(resource, f"Bundle.entry[{index}].resource", incoming)
    return incoming


def _entries(entries: list, incoming: Incoming) -> dict[str, list[tuple[int, dict]]]:
    """Each entry's resource by type; 400 for an entry that is not a POST of a known type."""
    found: dict[str, list[tuple[int, dict]]] = {}
    for index, entry in enumerate(entries):
        path = f"Bundle.entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind not in ACCEPTED_TYPES:
            raise FhirError.one(400, "structure", "Each entry needs a resource of a type a "
                                "referral carries.", f"{path}.resource")  # fmt: skip
        request = entry.get("request") or {}
        if request.get("method") != "POST" or str(request.get("url", "")).split("?")[0] != kind:
            raise FhirError.one(400, "structure", f"Send each {kind} with request POST {kind}.",
                                f"{path}.request")  # fmt: skip
        if kind == "ServiceRequest" and request.get("ifNoneExist") and not incoming.key:
            incoming.key = f"ifNoneExist|{request['ifNoneExist']}"
        incoming.types.append(kind)
        found.setdefault(kind, []).append((index, resource))
    return found


def _exactly_one(found: dict, kind: str, incoming: Incoming) -> None:
    if len(found.get(kind, [])) != 1:
        incoming.refuse(f"A referral carries exactly one {kind}.",
                        f"Bundle.entry.resource.ofType({kind})", "required")  # fmt: skip


def _coding(concept: Any, system: str) -> str:
    if not isinstance(concept, dict):
        return ""
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == system:
            return str(coding.get("code", ""))
    return ""


def _npi_of(resource: Any, resolver: dict) -> str:
    if not isinstance(resource, dict):
        return ""
    identifiers = resource.get("identifier") or []
    for identifier in [identifiers] if isinstance(identifiers, dict) else identifiers:
        if isinstance(identifier, dict) and identifier.get("system") == codes.NPI:
            return str(identifier.get("value", ""))
    practitioner = resource.get("practitioner")
    if isinstance(practitioner, dict):
        target = resolver.get(practitioner.get("reference"), practitioner)
        return _npi_of(target if isinstance(target, dict) else practitioner, resolver)
    return ""


def _service_request(resource: dict, path: str, incoming: Incoming, resolver: dict) -> None:
    if _coding(resource.get("code"), codes.SNOMED) != codes.REFERRAL_CODE["code"]:
        incoming.refuse("The code must be SNOMED CT 3457005 (Patient referral).", f"{path}.code")
    if resource.get("intent") != "order":
        incoming.refuse("intent must be order.", f"{path}.intent")
    requester = resource.get("requester") or {}
    if isinstance(requester, dict):
        target = resolver.get(requester.get("reference"))
        incoming.npi = _npi_of(target if isinstance(target, dict) else requester, resolver)
    if not incoming.npi:
        incoming.refuse("Name the referring provider by NPI (requester).", f"{path}.requester",
                        "required")  # fmt: skip
    incoming.put("urgency", resource.get("priority", "routine"), f"{path}.priority")
    modality = ""
    for index, detail in enumerate(resource.get("orderDetail") or []):
        modality = modality or _coding(detail, own_system("modality"))
        incoming.where.setdefault("requested_modality", f"{path}.orderDetail[{index}]")
    incoming.put("requested_modality", modality or "clinic_choice", f"{path}.orderDetail")
    notes = [n.get("text", "") for n in resource.get("note") or [] if isinstance(n, dict)]
    incoming.put("reason", "\n\n".join(t for t in notes if t), f"{path}.note")
    for index, reason in enumerate(resource.get("reasonCode") or []):
        _diagnosis(incoming, _coding(reason, codes.ICD10), reason, f"{path}.reasonCode[{index}]")


def _patient(resource: dict, path: str, incoming: Incoming) -> None:
    names = resource.get("name") or [{}]
    name = names[0] if isinstance(names[0], dict) else {}
    incoming.put("first_name", " ".join(name.get("given") or []), f"{path}.name[0].given")
    incoming.put("last_name", name.get("family"), f"{path}.name[0].family")
    incoming.put("date_of_birth", resource.get("birthDate"), f"{path}.birthDate")
    incoming.put("sex", resource.get("gender"), f"{path}.gender")
    for index, telecom in enumerate(resource.get("telecom") or []):
        if isinstance(telecom, dict) and telecom.get("system") in ("phone", "email"):
            target = telecom["system"]
            if target not in incoming.formdata:
                incoming.put(target, telecom.get("value"), f"{path}.telecom[{index}].value")
    address = (resource.get("address") or [{}])[0]
    if isinstance(address, dict):
        incoming.put("address_line1", " ".join(address.get("line") or []),
                     f"{path}.address[0].line")  # fmt: skip
        incoming.put("city", address.get("city"), f"{path}.address[0].city")
        incoming.put("region", address.get("state"), f"{path}.address[0].state")
        incoming.put("postal_code", address.get("postalCode"), f"{path}.address[0].postalCode")
    language = ((resource.get("communication") or [{}])[0] or {}).get("language") or {}
    text = language.get("text") or ((language.get("coding") or [{}])[0] or {}).get("display")
    incoming.put("preferred_language", text, f"{path}.communication[0].language")
    contact = ((resource.get("contact") or [{}])[0] or {}).get("name") or {}
    incoming.put("emergency_contact", contact.get("text"), f"{path}.contact[0].name")
    for key in ("phone", "first_name", "last_name", "date_of_birth", "sex"):
        incoming.where.setdefault(key, f"{path}.{'telecom' if key == 'phone' else key}")


def _condition(resource: dict, path: str, incoming: Incoming) -> None:
    code = _coding(resource.get("code"), codes.ICD10)
    if not code:
        incoming.refuse("A Condition needs an ICD-10-CM code.", f"{path}.code", "required")
    else:
        _diagnosis(incoming, code, resource.get("code"), f"{path}.code")


def _diagnosis(incoming: Incoming, code: str, concept: Any, path: str) -> None:
    """A listed ICD-10 code is ticked; the first unlisted one is the intake's other diagnosis
    (checked against the ICD-10-CM pattern like a typed one), its text its description."""
    if not code or code in incoming.formdata.get("diagnoses", []):
        return
    if code in DIAGNOSIS_LABELS:
        incoming.put("diagnoses", code, path)
    elif "other_diagnosis" not in incoming.formdata:
        incoming.put("other_diagnosis", code, path)
        text = concept.get("text") if isinstance(concept, dict) else None
        incoming.put("other_diagnosis_description", text, f"{path}.text")
    elif incoming.formdata["other_diagnosis"] != [code]:
        incoming.put("diagnoses", code, path)  # a second unlisted code: refused by the form


def _rows(incoming: Incoming, rows: str) -> int:
    return len({k.split("-")[1] for k in incoming.formdata if k.startswith(f"{rows}-")})


def _medication(resource: dict, path: str, incoming: Incoming) -> None:
    kind = _coding(resource.get("category"), own_system("medication-kind"))
    concept = resource.get("medicationCodeableConcept") or {}
    name = concept.get("text") or ((concept.get("coding") or [{}])[0] or {}).get("display", "")
    dosage = (resource.get("dosage") or [{}])[0] or {}
    if kind == "antidepressant-trial":
        row = f"trials-{_rows(incoming, 'trials')}"
        bounds = ((dosage.get("timing") or {}).get("repeat") or {}).get("boundsDuration") or {}
        reasons = resource.get("statusReason") or [{}]
        incoming.put(f"{row}-drug", name or " ", f"{path}.medicationCodeableConcept")
        incoming.put(f"{row}-dose", dosage.get("text"), f"{path}.dosage[0].text")
        incoming.put(f"{row}-weeks", bounds.get("value"),
                     f"{path}.dosage[0].timing.repeat.boundsDuration")  # fmt: skip
        incoming.put(f"{row}-outcome", _coding(reasons[0], own_system("trial-outcome")),
                     f"{path}.statusReason")  # fmt: skip
        incoming.where.setdefault(f"{row}-outcome", f"{path}.statusReason")
        incoming.where.setdefault(f"{row}-weeks", f"{path}.dosage[0].timing.repeat")
    elif kind == "current":
        row = f"medications-{_rows(incoming, 'medications')}"
        incoming.put(f"{row}-name", name or " ", f"{path}.medicationCodeableConcept")
        incoming.put(f"{row}-dose", dosage.get("text"), f"{path}.dosage[0].text")
        incoming.put(f"{row}-drug_class", _coding(concept, own_system("medication-class")),
                     f"{path}.medicationCodeableConcept.coding")  # fmt: skip
    else:
        incoming.refuse(f"category must be a code of {own_system('medication-kind')}.",
                        f"{path}.category", "required")  # fmt: skip


def _answers(resource: dict, path: str, incoming: Incoming) -> None:
    kinds = dict(QUESTIONNAIRE_ITEMS)
    for index, item in enumerate(resource.get("item") or []):
        link_id = item.get("linkId") if isinstance(item, dict) else None
        where = f"{path}.item[{index}]"
        if link_id not in kinds:
            incoming.refuse(f"Unknown linkId {str(link_id)[:40]!r}.", f"{where}.linkId")
            continue
        answer = (item.get("answer") or [{}])[0] or {}
        value = answer.get(f"value{kinds[link_id].title()}")
        if kinds[link_id] == "boolean" and isinstance(value, bool):
            if link_id in YES_NO_ITEMS:
                value = "yes" if value else "no"
            else:
                value = "y" if value else None
        incoming.put(link_id, value, f"{where}.answer[0]")
    for link_id, _ in QUESTIONNAIRE_ITEMS:
        incoming.where.setdefault(link_id, f"{path}.item.where(linkId='{link_id}')")


def _scale_item(code: str, system: str) -> tuple[str, int] | None:
    if system == codes.LOINC and code in codes.PHQ9_ITEMS:
        return "phq9", codes.PHQ9_ITEMS.index(code) + 1
    if system == own_system("scale"):
        scale, _, number = code.rpartition("-")
        if scale in SCALE_PREFIX and number.isdigit():
            return SCALE_PREFIX[scale], int(number)
    return None


def _observation(resource: dict, path: str, incoming: Incoming) -> None:
    coding = ((resource.get("code") or {}).get("coding") or [{}])[0] or {}
    code, system = str(coding.get("code", "")), coding.get("system")
    item = _scale_item(code, system)
    if item is not None:
        prefix, number = item
        answer = resource.get("valueInteger")
        concept = resource.get("valueCodeableConcept")
        if answer is None and concept is not None:
            la = _coding(concept, codes.LOINC)
            answer = codes.PHQ9_ANSWERS.index(la) if la in codes.PHQ9_ANSWERS else "?"
        incoming.put(f"{prefix}_{number}", answer, f"{path}.value")
    elif system == codes.LOINC and code == codes.BP_PANEL:
        for index, component in enumerate(resource.get("component") or []):
            part = _coding(component.get("code"), codes.LOINC)
            name = {codes.SYSTOLIC: "bp_systolic", codes.DIASTOLIC: "bp_diastolic"}.get(part)
            value = (component.get("valueQuantity") or {}).get("value")
            if name:
                incoming.put(name, value, f"{path}.component[{index}].valueQuantity")
        incoming.put("vitals_date", str(resource.get("effectiveDateTime", ""))[:10],
                     f"{path}.effectiveDateTime")  # fmt: skip
    elif system == codes.LOINC and code == codes.PULSE:
        value = (resource.get("valueQuantity") or {}).get("value")
        incoming.put("pulse", value, f"{path}.valueQuantity")
    elif not _is_panel_or_total(code, system):
        incoming.refuse("This Observation's code is not one the referral carries.",
                        f"{path}.code")  # fmt: skip


def _is_panel_or_total(code: str, system: str | None) -> bool:
    """Panels and totals are worked out by the portal from the items; accepted and ignored."""
    loinc = {c for pair in codes.LOINC_SCALES.values() for c in pair}
    return (system == codes.LOINC and code in loinc) or (
        system == own_system("scale") and (code in ITEMS or code.removesuffix("-total") in ITEMS)
    )


def _document(resource: dict, path: str, incoming: Incoming) -> None:
    for index, content in enumerate(resource.get("content") or []):
        attachment = (content or {}).get("attachment") or {}
        where = f"{path}.content[{index}].attachment.data"
        try:
            data = base64.b64decode(attachment.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            incoming.refuse("The attachment's data is not base64.", where)
            continue
        title = str(attachment.get("title") or "attachment")
        incoming.files.append((title, data, where))
    if not resource.get("content"):
        incoming.refuse("A DocumentReference needs content with inline data.", f"{path}.content",
                        "required")  # fmt: skip
