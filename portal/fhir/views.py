"""Routes of the FHIR API: parse the request, call the reads or the services, answer JSON.
Authentication is the bearer token's (portal.fhir.access), never the pages' session."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException

from portal.audit.service import record
from portal.errors import DomainError
from portal.extensions import auth_rate_limit, csrf, db, limiter
from portal.fhir import bp, capability, exchange, reads, resources, updates
from portal.fhir import scopes as smart
from portal.fhir.access import (
    authenticate,
    client_label,
    current_grant,
    require,
    require_practice_client,
)
from portal.fhir.auth import TokenRefused, issue_token
from portal.fhir.inbound import read_bundle
from portal.fhir.outcome import FHIR_JSON, FhirError, Issue, not_found, operation_outcome
from portal.fhir.submission import submit

PUBLIC = frozenset(
    {
        "fhir.metadata",
        "fhir.smart_configuration",
        "fhir.token",
        "fhir.code_system",
        "fhir.questionnaire",
    }
)
SOFTWARE_DATE = "2026-12-07"
DEFAULT_COUNT, MAX_COUNT = 50, 200

csrf.exempt(bp)


def fhir_rate_limit() -> str:
    return current_app.config.get("FHIR_RATE_LIMIT", "600 per minute")


def throttled(_limit) -> Response:
    """Too many calls: an OperationOutcome (the pages' limit answers with a page)."""
    issue = Issue("throttled", "Too many requests; wait a minute, then try again.")
    return answer(operation_outcome([issue]), 429, **{"Retry-After": "60"})


limiter.limit(fhir_rate_limit, on_breach=throttled)(bp)


def answer(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=FHIR_JSON)
    response.headers.update(headers)
    return response


@bp.before_request
def bearer_token():
    """JSON only; every call but the public ones needs a token and is audited as its client."""
    wanted = request.args.get("_format", "json")
    if wanted not in ("json", FHIR_JSON, "application/json"):
        raise FhirError.one(406, "not-supported", "This server speaks FHIR JSON only.", "_format")
    if request.endpoint not in PUBLIC:
        authenticate()
        kind = (request.view_args or {}).get("kind") or request.endpoint.removeprefix("fhir.")
        # read=True: the call's audit row outlives a refusal's rollback, like any read.
        record(
            "fhir.call",
            str(kind)[:40].lower(),
            detail=f"{request.method} {request.endpoint}",
            read=True,
        )


def _undo() -> None:
    """Roll the refused call's change back; commit what is kept: the call's audit row, the
    reads before the refusal and the refusal itself (portal/audit/service.py)."""
    db.session.rollback()
    try:
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        db.session.rollback()
        current_app.logger.error("audit events of a refused API call could not be written")


@bp.errorhandler(FhirError)
def refused(error: FhirError):
    _undo()
    return answer(operation_outcome(error.issues), error.status, **error.headers)


def http_error(error: HTTPException):
    """The app's error pages are HTML; an API caller gets an OperationOutcome. Registered for
    each code the app answers with a page, since a handler for a code is looked up first."""
    _undo()
    code = {404: "not-found", 405: "not-supported", 413: "too-long", 429: "throttled"}
    issue = Issue(code.get(error.code, "processing"), error.description or error.name)
    return answer(operation_outcome([issue]), error.code or 400)


for _code in (400, 404, 405, 413, 429, 500):
    bp.register_error_handler(_code, http_error)
bp.register_error_handler(HTTPException, http_error)


@bp.errorhandler(DomainError)
def domain_refusal(error: DomainError):
    _undo()
    status = 409 if error.status == 409 else 422
    return answer(operation_outcome([Issue("business-rule", str(error))]), status)


@bp.get("/metadata")
def metadata():
    return answer(capability.capability_statement(SOFTWARE_DATE))


@bp.get("/.well-known/smart-configuration")
def smart_configuration():
    return Response(json.dumps(capability.smart_configuration()), mimetype="application/json")


@bp.get("/CodeSystem/<name>")
def code_system(name: str):
    found = capability.code_system(name)
    if found is None:
        raise not_found("CodeSystem")
    return answer(found)


@bp.get("/Questionnaire/referral-intake")
def questionnaire():
    return answer(capability.intake_questionnaire())


@bp.post("/auth/token")
@limiter.limit(auth_rate_limit, on_breach=throttled)
def token():
    urls = [capability.token_url(), url_for("fhir.token", _external=True)]
    try:
        access_token, grant = issue_token(request.form.to_dict(), token_urls=urls)
    except TokenRefused as refusal:
        db.session.rollback()
        if refusal.client is not None:
            g.fhir_client_label = client_label(refusal.client.client_id)
        record("fhir.token", outcome="denied", detail=refusal.error)
        db.session.commit()
        body = {"error": refusal.error, "error_description": refusal.description}
        return Response(json.dumps(body), status=refusal.status, mimetype="application/json")
    g.fhir_client_label = client_label(grant.client.client_id)
    record("fhir.token", "fhir_client", grant.client.id)
    db.session.commit()
    body = {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 300,
        "scope": smart.render(grant.scopes),
    }
    return Response(json.dumps(body), mimetype="application/json",
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache"})  # fmt: skip


@bp.post("")
@bp.post("/")
def transaction():
    require("ServiceRequest", "c")
    require_practice_client("sending a referral")
    incoming = read_bundle(json_body())
    referral, created = submit(current_grant().client, incoming)
    db.session.commit()
    status = "201 Created" if created else "200 OK"
    locations = {
        "ServiceRequest": f"ServiceRequest/{referral.id}/_history/{referral.version}",
        "Patient": f"Patient/{referral.patient_id}",
    }
    entries = []
    for kind in incoming.types:
        response = {"status": status}
        if kind in locations:
            response["location"] = locations[kind]
        if kind == "ServiceRequest":
            response["etag"] = f'W/"{referral.version}"'
        entries.append({"response": response})
    bundle = {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
    return answer(bundle, 200)


def json_body() -> Any:
    if request.mimetype not in (FHIR_JSON, "application/json"):
        raise FhirError.one(415, "not-supported", "Send application/fhir+json.")
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise FhirError.one(400, "structure", "The body is not JSON.") from None


@bp.get("/<kind>/<resource_id>")
def read(kind: str, resource_id: str):
    if kind == "Binary":
        require("Binary", "r")
        resource, pdf = reads.read_binary(resource_id)
        db.session.commit()
        if "application/pdf" in request.headers.get("Accept", ""):
            return Response(pdf, mimetype="application/pdf")
        return answer(resource)
    reader = reads.READERS.get(kind)
    if reader is None:
        raise not_found(kind)
    require(kind, "r")
    with db.session.no_autoflush:  # the call's audit rows join the read's in one flush
        resource = reader(resource_id)
    db.session.commit()
    headers = {}
    if "meta" in resource:
        headers["ETag"] = f'W/"{resource["meta"]["versionId"]}"'
    return answer(resource, **headers)


@bp.post("/Communication")
def answer_question():
    require("Communication", "c")
    require_practice_client("answering the clinic's question")
    referral = exchange.answer_question(json_body())
    db.session.commit()
    created = exchange.answers(referral)[-1]
    return answer(created, 201, Location=f"Communication/{created['id']}")


@bp.put("/Task/<resource_id>")
def update_task(resource_id: str):
    require("Task", "u")
    require_practice_client("cancelling a referral")
    referral = updates.update_task(resource_id, json_body(), request.headers.get("If-Match"))
    db.session.commit()
    resource = reads.task(referral)
    return answer(resource, ETag=f'W/"{referral.version}"')


@bp.get("/<kind>")
def search(kind: str):
    require(kind, "s")
    skip = ("_count", "_offset", "_format")
    params = {k: request.args.getlist(k) for k in request.args if k not in skip}
    count = _int_arg("_count", DEFAULT_COUNT, 1, MAX_COUNT)
    offset = _int_arg("_offset", 0, 0, 10**9)
    with db.session.no_autoflush:  # the call's audit rows join the search's in one flush
        total, page = reads.search(kind, params, count, offset)
    db.session.commit()
    base = resources.base_url()

    def link(at: int) -> str:
        query = [(k, v) for k, values in params.items() for v in values]
        return f"{base}/{kind}?" + urlencode([*query, ("_count", count), ("_offset", at)])

    links = [{"relation": "self", "url": link(offset)}]
    if offset + count < total:
        links.append({"relation": "next", "url": link(offset + count)})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page
        ],
    }
    return answer(bundle)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise FhirError.one(400, "value", f"{name} takes a number from {low} to {high}.", name)
    return int(raw)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    raise FhirError.one(404, "not-supported", "This interaction is not supported here; see "
                        "/fhir/r4/metadata.")  # fmt: skip
