"""Errors as OperationOutcome, with the status each kind of refusal deserves. Pure module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Issue:
    code: str  # IssueType: invalid, required, value, not-found, security, forbidden, conflict...
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            out["expression"] = list(self.expression)
        return out


@dataclass
class FhirError(Exception):
    """A refusal of the API, answered as an OperationOutcome with `status`."""

    status: int
    issues: list[Issue] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def one(cls, status: int, code: str, diagnostics: str, *expression: str, **headers: str):
        return cls(status, [Issue(code, diagnostics, tuple(expression))], dict(headers))

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.as_json() for issue in issues]}


def not_found(resource_type: str = "") -> FhirError:
    """Missing and not yours answer alike, as the pages do."""
    what = f"{resource_type} " if resource_type else ""
    return FhirError.one(404, "not-found", f"No such {what}resource, or you may not see it.")


def unauthorized(reason: str) -> FhirError:
    return FhirError.one(
        401,
        "login",
        reason,
        **{"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_token"'},
    )


def forbidden_scope(resource_type: str, permission: str) -> FhirError:
    words = {"c": "create", "r": "read", "u": "update", "s": "search", "d": "delete"}
    return FhirError.one(
        403,
        "forbidden",
        f"The access token's scopes do not allow {words[permission]} on {resource_type}.",
        **{"WWW-Authenticate": 'Bearer realm="fhir", error="insufficient_scope"'},
    )
