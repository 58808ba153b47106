"""Small helpers shared by the account-security tests."""

from __future__ import annotations

import re

import pyotp

from tests.conftest import csrf_token
from tests.factories import PASSWORD

SECRET_RE = re.compile(r"data-secret>([A-Z2-7 ]+)<")
CODES_RE = re.compile(r"<li><code>([0-9a-f-]+)</code></li>")


def post(client, path: str, data: dict, token_from: str | None = None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from or path)})


def password_step(client, email: str, password: str = PASSWORD):
    return post(client, "/login", {"email": email, "password": password})


def enrol(client) -> tuple[str, list[str]]:
    """Set up the authenticator on the page the client is at; returns secret and codes."""
    page = client.get("/two-step/setup").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = post(client, "/two-step/setup", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = CODES_RE.findall(response.get_data(as_text=True))
    return secret, codes


def reauth(client, path: str = "/account/confirm", password: str = PASSWORD, code: str = ""):
    """Answer the "confirm it is you" page at `path` (which carries next=)."""
    return post(client, path, {"password": password, "code": code})
