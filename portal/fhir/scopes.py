"""SMART scopes, v1 (`system/Task.read`, `.write`, `.*`) and v2 (`system/Task.rs`) syntax.

Pure module. A scope set is {resource type or "*": permissions}, permissions being letters of
"cruds" (create, read, update, delete, search); it is written back in v2 syntax."""

from __future__ import annotations

import re

from portal.errors import Invalid

PERMISSIONS = "cruds"
V1 = {"read": "rs", "write": "cud", "*": PERMISSIONS}
SCOPE_RE = re.compile(r"^system/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$")

Scopes = dict[str, frozenset[str]]


def parse(text: str, *, strict: bool = True) -> Scopes:
    """The system scopes of a space-separated string. Others (openid, launch, patient/...) are
    refused when `strict` (registration), ignored otherwise (a token request may ask them)."""
    out: dict[str, set[str]] = {}
    for word in text.split():
        match = SCOPE_RE.match(word)
        if not match or not match.group(2):
            if strict:
                raise Invalid(f"Not a SMART system scope: {word[:80]}", field="scopes")
            continue
        resource, perms = match.groups()
        letters = V1.get(perms, perms)
        out.setdefault(resource, set()).update(letters)
    return {resource: frozenset(perms) for resource, perms in out.items()}


def allows(scopes: Scopes, resource: str, permission: str) -> bool:
    """Whether `scopes` let a client do `permission` (one letter of cruds) on `resource`."""
    return permission in scopes.get(resource, frozenset()) | scopes.get("*", frozenset())


def intersect(asked: Scopes, registered: Scopes) -> Scopes:
    """What a token may grant: what was asked and is registered (wildcards on either side)."""
    out: dict[str, set[str]] = {}
    for resource, perms in asked.items():
        candidates = registered if resource == "*" else {resource: None}
        for target in candidates:
            granted = {p for p in perms if allows(registered, target, p)}
            if resource == "*" and target != "*":
                granted = set(perms) & set(registered[target])
            if granted:
                out.setdefault(target, set()).update(granted)
    return {resource: frozenset(perms) for resource, perms in out.items()}


def render(scopes: Scopes) -> str:
    """The scopes in SMART v2 syntax, in a stable order."""
    return " ".join(
        f"system/{resource}.{''.join(p for p in PERMISSIONS if p in perms)}"
        for resource, perms in sorted(scopes.items())
        if perms
    )
