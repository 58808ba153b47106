"""The CapabilityStatement (exactly what works), the SMART configuration and the portal's own
code systems. Pure over the request's base URL."""

from __future__ import annotations

from typing import Any

from portal.fhir import codes
from portal.fhir.resources import base_url, own_system

# resource type -> (interactions, search parameters (name, type, description))
RESOURCES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]] = {
    "ServiceRequest": (
        ("read", "search-type"),
        (("_id", "token", "The referral's id"), ("_lastUpdated", "date", "gt, ge, lt, le")),
    ),
    "Task": (
        ("read", "search-type", "update"),
        (
            ("focus", "reference", "ServiceRequest/ID"),
            ("_lastUpdated", "date", "gt, ge, lt, le"),
            ("status", "token", "Task.status"),
        ),
    ),
    "DocumentReference": (
        ("read", "search-type"),
        (("related", "reference", "ServiceRequest/ID"),),
    ),
    "Observation": (("read", "search-type"), (("based-on", "reference", "ServiceRequest/ID"),)),
    "CommunicationRequest": (
        ("read", "search-type"),
        (("based-on", "reference", "ServiceRequest/ID"),),
    ),
    "Communication": (
        ("read", "search-type", "create"),
        (("based-on", "reference", "ServiceRequest/ID"),),
    ),
    "Appointment": (("read", "search-type"), (("based-on", "reference", "ServiceRequest/ID"),)),
    "Subscription": (("create", "read", "search-type", "delete"), ()),
    "Binary": (("read",), ()),
    "Patient": (("read",), ()),
    "Condition": (("read",), ()),
    "MedicationStatement": (("read",), ()),
    "QuestionnaireResponse": (("read",), ()),
    "Practitioner": (("read",), ()),
    "PractitionerRole": (("read",), ()),
    "Organization": (("read",), ()),
    "CodeSystem": (("read",), ()),
    "Questionnaire": (("read",), ()),
}
SCOPE_EXAMPLES = [
    "system/ServiceRequest.cruds",
    "system/Task.rus",
    "system/DocumentReference.rs",
    "system/Binary.r",
    "system/Observation.rs",
    "system/Patient.cr",
]


def token_url() -> str:
    return f"{base_url()}/auth/token"


def capability_statement(software_date: str) -> dict[str, Any]:
    resources = []
    for kind, (interactions, params) in RESOURCES.items():
        entry: dict[str, Any] = {
            "type": kind,
            "interaction": [{"code": code} for code in interactions],
        }
        if "update" in interactions:
            entry["versioning"] = "versioned-update"
            entry["updateCreate"] = False
            entry["conditionalUpdate"] = False
        if kind == "ServiceRequest":
            entry["conditionalCreate"] = True  # If-None-Exist, inside the transaction Bundle
            entry["documentation"] = (
                "Created with its Patient, Conditions, MedicationStatements, "
                "QuestionnaireResponse, Observations and DocumentReferences by POSTing a "
                "transaction Bundle to the base."
            )
        if kind == "CodeSystem":
            entry["documentation"] = "The portal's own code systems, each read at its URL: " + (
                ", ".join(own_system(name) for name in codes.OWN_SYSTEMS)
            )
        if kind == "Questionnaire":
            entry["documentation"] = "Questionnaire/referral-intake: what the referral's "
            entry["documentation"] += "QuestionnaireResponse answers (the intake's field names)."
        if params:
            entry["searchParam"] = [
                {"name": name, "type": kind_, "documentation": doc} for name, kind_, doc in params
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": software_date,
        "kind": "instance",
        "software": {"name": "Ketamine referral portal"},
        "implementation": {
            "description": "Closed-loop referrals to a ketamine / esketamine clinic",
            "url": base_url(),
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "SMART Backend Services: POST a client_credentials grant with a JWT "
                    "assertion (RS384 or ES384) to the token URL; tokens last 5 minutes. A "
                    "transaction Bundle POSTed to the base sends a referral; Task follows it. "
                    "A Subscription (channel rest-hook, no payload: an empty POST; criteria "
                    "Task, Task?focus=ServiceRequest/ID or Task?status=CODE) is told of each "
                    "change of the client's Tasks, then searches Task?_lastUpdated=gt..."
                ),
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                            "oauth-uris",
                            "extension": [{"url": "token", "valueUri": token_url()}],
                        }
                    ],
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}],
            }
        ],
    }


def smart_configuration() -> dict[str, Any]:
    return {
        "token_endpoint": token_url(),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": SCOPE_EXAMPLES,
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
    }


def code_system(name: str) -> dict[str, Any] | None:
    if name not in codes.OWN_SYSTEMS:
        return None
    title, concepts = codes.OWN_SYSTEMS[name]
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": own_system(name),
        "name": "".join(part.title() for part in name.split("-")),
        "title": title,
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": [{"code": code, "display": display} for code, display in concepts],
    }


def intake_questionnaire() -> dict[str, Any]:
    """The Questionnaire the referral's QuestionnaireResponse answers: the intake form's own
    questions and field names, so an EHR can build its answers from it."""
    from portal.fhir.clinical import QUESTIONNAIRE_ITEMS, questionnaire_url
    from portal.referrals.intake_forms import IntakeForm

    def text(link_id: str) -> str:
        if link_id.endswith("_details") and hasattr(IntakeForm, link_id.removesuffix("_details")):
            return f"{getattr(IntakeForm, link_id.removesuffix('_details')).args[0]} Details"
        return str(getattr(IntakeForm, link_id).args[0])

    required = {"episode_months", "recent_ideation", "recent_attempt", "consent", "ongoing_care"}
    return {
        "resourceType": "Questionnaire",
        "id": "referral-intake",
        "url": questionnaire_url(),
        "name": "ReferralIntake",
        "title": "Referral intake: screening, suicidality, histories and attestations",
        "status": "active",
        "item": [
            {
                "linkId": link_id,
                "text": text(link_id),
                "type": kind,
                "required": kind == "boolean"
                and not link_id.endswith("_details")
                or link_id in required,
            }
            for link_id, kind in QUESTIONNAIRE_ITEMS
        ],
    }
