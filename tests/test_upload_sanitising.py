"""Uploads are kept only in a safe form (issue 15, item 10): SVG logos are parsed against a
short list of elements and attributes and written out again, PNG logos are kept small, PDF
links go to web pages or email addresses only, images are re-encoded (no metadata, nothing
hidden after the image)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf.generic import NameObject, TextStringObject
from sqlalchemy import select

from portal.attachments.models import Attachment
from portal.attachments.storage import read as storage_read
from portal.extensions import db
from tests.conftest import force_login, post_form
from tests.factories import create_referral
from tests.test_attachments import _pdf, _pdf_with_annotation
from tests.test_letterhead import FIELDS

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">%s</svg>'


def _post_logo(client, data: bytes, name: str):
    form = {**FIELDS, "logo": (io.BytesIO(data), name)}
    return post_form(client, "/admin/letterhead/", form, content_type="multipart/form-data")


@pytest.fixture
def admin(app, world):
    client = app.test_client()
    force_login(client, world.admin)
    return client


@pytest.mark.parametrize(
    "svg",
    [
        SVG % b'<rect fill="URL(file:///etc/passwd)"/>',
        SVG % b'<rect style="fill: u\\72l(file:///etc/passwd)"/>',
        b'<?xml-stylesheet href="file:///etc/passwd"?>' + SVG % b"<rect/>",
        SVG % b'<set attributeName="fill" to="url(http://evil.test/x)"/>',
        SVG % b'<animate attributeName="href" to="javascript:alert(1)"/>',
        SVG % b'<rect ONLOAD="x()"/>',
        b'<!doctype svg [<!entity a "b">]>' + SVG % b"",
        SVG % b'<a href="https://evil.test"><rect/></a>',
        SVG % b'<rect style="@import url(x)"/>',
    ],
    ids=["URL(", "css escape", "xml-stylesheet", "set", "animate", "ONLOAD", "doctype", "a", "@"],
)
def test_svg_logos_outside_the_short_list_are_refused(app, world, admin, svg):
    response = _post_logo(admin, svg, "logo.svg")
    assert response.status_code == 422, svg
    page = response.get_data(as_text=True)
    assert "SVG logos may" in page or "stylesheet" in page or "not accepted" in page
    assert 'value="Harborview Ketamine Clinic"' in page
    db.session.expire_all()
    assert world.clinic.logo_mime == ""


def test_an_svg_logo_is_stored_as_parsed_without_comments(app, world, admin):
    svg = (
        b'<?xml version="1.0"?><!-- made by hand -->'
        + SVG
        % b'<defs><clipPath id="c"><circle r="4"/></clipPath></defs>'
        b'<g clip-path="url(#c)"><rect width="10" height="10" style="fill:#123"/></g>'
    )
    assert _post_logo(admin, svg, "logo.svg").status_code == 302
    db.session.expire_all()
    stored = world.clinic.logo
    assert stored.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert b"<!--" not in stored
    assert b"<?" not in stored
    assert b'clip-path="url(#c)"' in stored


def test_a_huge_png_logo_is_kept_at_a_size_letters_render_fast(app, world, admin):
    buffer = io.BytesIO()
    Image.new("RGB", (12_000, 600), (20, 60, 90)).save(buffer, format="PNG")
    assert _post_logo(admin, buffer.getvalue(), "logo.png").status_code == 302
    db.session.expire_all()
    assert Image.open(io.BytesIO(world.clinic.logo)).size == (1200, 60)


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:app.alert(1)",
        "file:///C:/Windows/system32/calc.exe",
        " JaVa\tScript:x",
        "smb://h/s",
    ],
)
def test_pdf_links_other_than_web_or_email_are_refused(app, world, uri):
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.referrer)
    data = _pdf_with_annotation({"/S": NameObject("/URI"), "/URI": TextStringObject(uri)})
    response = post_form(
        client,
        f"/referrals/{referral.id}/attachments",
        {"attachments": (io.BytesIO(data), "linked.pdf")},
        token_from=f"/referrals/{referral.id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "link to something other than a web page or an email address" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Attachment)) is None


def test_a_jpeg_carrying_a_pdf_and_metadata_is_stored_as_a_plain_image(app, world):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "Patient Jane Doe, DOB 1970-01-01"  # ImageDescription
    exif[0x8825] = {2: (40.0, 26.0, 46.0)}  # GPS
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buffer, format="JPEG", exif=exif)
    polyglot = buffer.getvalue() + _pdf()
    referral = create_referral(world.referrer)
    db.session.commit()
    client = app.test_client()
    force_login(client, world.referrer)
    post_form(
        client,
        f"/referrals/{referral.id}/attachments",
        {"attachments": (io.BytesIO(polyglot), "photo.jpg")},
        token_from=f"/referrals/{referral.id}",
        content_type="multipart/form-data",
    )
    attachment = db.session.scalar(select(Attachment))
    kept = storage_read(attachment.storage_name)
    assert attachment.content_type == "image/jpeg"
    assert b"%PDF" not in kept
    assert b"Jane Doe" not in kept
    image = Image.open(io.BytesIO(kept))
    assert image.size == (32, 32)
    assert not image.getexif()
