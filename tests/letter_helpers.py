"""Shared helpers of the letter tests: read a PDF back as text, sign through the pages."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile

from pypdf import PdfReader

from tests.conftest import post_form
from tests.factories import PASSWORD


def pdf_text(data: bytes) -> str:
    """The PDF's text as pdftotext lays it out."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(
            ["pdftotext", handle.name, "-"], capture_output=True, text=True, check=True
        ).stdout


def flat(text: str) -> str:
    """Text without any whitespace: a long value wrapped over lines still matches."""
    return re.sub(r"\s+", "", text)


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def draft_and_sign(client, referral_id: int, kind: str, narrative: str, recs: str = "") -> int:
    """As the signed-in clinician: start a draft, save its text, sign it; the letter's id."""
    detail = f"/referrals/{referral_id}"
    response = post_form(
        client, f"/letters/referrals/{referral_id}/new", {"kind": kind}, token_from=detail
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    edit = response.location
    letter_id = int(re.search(r"/letters/(\d+)/edit", edit).group(1))
    data = {"narrative": narrative, "recommendations": recs, "action": "save"}
    assert post_form(client, edit, data).status_code == 302
    signed = post_form(
        client, f"/letters/{letter_id}/sign", {"password": PASSWORD}, token_from=edit
    )
    assert signed.status_code == 302
    return letter_id
