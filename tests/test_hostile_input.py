"""Hostile input answers a clear 4xx and keeps what was typed, never a server error
(issue 15, item 8): decompression bombs, PDFs past pypdf's limits, ids past the database's
range, far-off audit dates, CR/LF in next=."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select

from portal.attachments.models import Attachment
from portal.extensions import db
from portal.referrals.models import Referral
from tests.conftest import csrf_token, force_login, page_text, post_form
from tests.factories import PASSWORD, create_referral, fresh_totp_code, intake_form
from tests.test_attachments import KEY_RE
from tests.test_letterhead import FIELDS


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int, height: int) -> bytes:
    """A small PNG whose header claims width × height pixels (decoding it would take
    gigabytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def bomb_jpeg() -> bytes:
    """A real JPEG whose frame header is rewritten to claim 65000 × 65000 pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def pdf_past_pypdf_limits() -> bytes:
    """A PDF whose cross-reference table declares far more entries than the file can hold
    (pypdf raises LimitReachedError)."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return re.sub(rb"xref\n0 (\d+)", b"xref\n0 99999999", out.getvalue())


HOSTILE_FILES = [
    ("bomb.png", bomb_png(100_000, 100_000), "million pixels"),
    ("big.png", bomb_png(8_000, 8_000), "8000 × 8000 pixels; the limit is 40 million"),
    ("bomb.jpg", bomb_jpeg(), "million pixels"),
    ("limits.pdf", pdf_past_pypdf_limits(), "The PDF is too complex for the portal to check"),
]

NAMES = [name for name, _, _ in HOSTILE_FILES]


@pytest.mark.parametrize(("name", "data", "reason"), HOSTILE_FILES, ids=NAMES)
def test_hostile_files_on_the_intake_are_refused_in_words_and_the_typing_kept(
    app, world, name, data, reason
):
    client = app.test_client()
    force_login(client, world.referrer)
    page = client.get("/referrals/new").get_data(as_text=True)
    form = intake_form(form_key=KEY_RE.search(page).group(1), first_name="Keepme", action="save")
    form["attachments"] = [(io.BytesIO(data), name)]
    response = client.post(
        "/referrals/new",
        data={**form, "csrf_token": csrf_token(client, "/referrals/new")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"{name}: " in page
    assert reason in page
    assert 'value="Keepme"' in page
    assert db.session.scalar(select(Referral)).form_data["first_name"] == ["Keepme"]
    assert db.session.scalar(select(Attachment)) is None


@pytest.mark.parametrize(("name", "data", "reason"), HOSTILE_FILES, ids=NAMES)
def test_hostile_files_on_a_referrals_page_are_refused_in_words(app, world, name, data, reason):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.referrer)
    response = post_form(
        client,
        f"/referrals/{referral.id}/attachments",
        {"attachments": (io.BytesIO(data), name)},
        token_from=f"/referrals/{referral.id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code in (200, 422)
    assert reason in response.get_data(as_text=True)
    assert db.session.scalar(select(Attachment)) is None


@pytest.mark.parametrize(
    "data", [bomb_png(100_000, 100_000), bomb_png(6_000, 6_000)], ids=["bomb", "36 Mpx"]
)
def test_a_bomb_logo_is_refused_at_the_field_and_the_letterhead_kept(app, world, data):
    client = app.test_client()
    force_login(client, world.admin)
    form = {**FIELDS, "logo": (io.BytesIO(data), "logo.png")}
    response = post_form(client, "/admin/letterhead/", form, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "million pixels" in page
    assert 'value="Harborview Ketamine Clinic"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/referrals/99999999999",
        "/referrals/2147483648",
        "/letters/99999999999999999999999/edit",
        "/attachments/99999999999",
    ],
)
def test_ids_past_the_database_range_are_not_found(app, world, path):
    client = app.test_client()
    force_login(client, world.referrer)
    assert client.get(path).status_code == 404


def test_far_off_audit_dates_are_refused_at_the_filter(app, world):
    client = app.test_client()
    force_login(client, world.admin)
    response = client.get("/admin/audit?date_to=9999-12-31&date_from=0001-01-01")
    assert response.status_code == 200
    assert "Choose a date between 2000-01-01 and 2999-12-31." in page_text(
        response.get_data(as_text=True)
    )
    csv = client.get("/admin/audit.csv?date_to=9999-12-31")
    assert csv.status_code == 200
    assert csv.mimetype == "text/csv"


@pytest.mark.parametrize(
    "target", ["/account%0d%0aSet-Cookie:%20x=1", "/account%0aX:%20y", "/a%09b", "/a%7f"]
)
def test_next_with_control_characters_goes_home(app, world, target):
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        f"/login?next={target}",
        data={"email": world.referrer.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/").status_code == 302  # signed in, sent to the dashboard


def test_cr_lf_in_next_after_the_second_step(app, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=/triage%0d%0aX-Injected:%201",
        data={"email": world.clinician.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.location.endswith("/two-step/code")
    response = post_form(client, "/two-step/code", {"code": fresh_totp_code(world.clinician)})
    assert response.status_code == 302
    assert response.location == "/"
    assert "X-Injected" not in response.headers
