"""Signing a letter as the clinician does (the edit page's form, the password typed again)."""

from __future__ import annotations

from tests.conftest import post_form
from tests.factories.users import PASSWORD


def sign(client, letter_id: int, narrative: str = "Doing well."):
    response = post_form(
        client,
        f"/letters/{letter_id}/sign",
        {"password": PASSWORD, "narrative": narrative},
        token_from=f"/letters/{letter_id}/edit",
    )
    assert response.status_code == 302, response.status_code
    return response
