"""The admin sets the letterhead: name, address, phone, fax, logo (PNG or a plain SVG)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from portal.extensions import db as _db
from portal.letters.service import acknowledge_referral
from portal.letters.storage import open_pdf
from tests.conftest import force_login, post_form
from tests.factories import create_referral, png_bytes
from tests.letter_helpers import pdf_text

FIELDS = {
    "name": "Harborview Ketamine Clinic",
    "address_line1": "9 Pier Road",
    "address_line2": "",
    "city": "Bath",
    "region": "ME",
    "postal_code": "04530",
    "phone": "(207) 555-0199",
    "fax": "(207) 555-0198",
    "interim_every": "4",
    "unopened_days": "7",
}


def _admin(app, world):
    client = app.test_client()
    force_login(client, world.admin)
    return client


def test_admin_sets_the_letterhead_and_a_png_logo(app, world):
    client = _admin(app, world)
    data = {**FIELDS, "logo": (io.BytesIO(png_bytes(40, 40)), "logo.png")}
    response = post_form(client, "/admin/letterhead/", data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/admin/letterhead/").get_data(as_text=True)
    assert "Letterhead saved." in page
    assert "Current logo: your uploaded PNG." in page
    _db.session.expire_all()
    clinic = world.clinic
    assert (clinic.interim_every, clinic.unopened_days, clinic.logo_mime) == (4, 7, "image/png")
    letter = acknowledge_referral(create_referral(world.referrer))
    text = pdf_text(open_pdf(letter))
    for expected in (
        "Harborview Ketamine Clinic",
        "9 Pier Road",
        "Bath, ME 04530",
        "Phone (207) 555-0199",
        "Fax (207) 555-0198",
    ):
        assert expected in text
    page_one = PdfReader(io.BytesIO(open_pdf(letter))).pages[0]
    assert page_one.images, "the uploaded logo is on the letter"


def test_an_svg_that_could_fetch_or_run_anything_is_refused(app, world):
    client = _admin(app, world)
    for svg in (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<image x:href="file:///etc/passwd"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="x()"/></svg>',
        b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>',
    ):
        data = {**FIELDS, "logo": (io.BytesIO(svg), "logo.svg")}
        response = post_form(client, "/admin/letterhead/", data, content_type="multipart/form-data")
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "SVG logos may" in page
        assert 'value="Harborview Ketamine Clinic"' in page  # nothing typed is lost
    _db.session.expire_all()
    assert world.clinic.logo_mime == ""
    plain = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>'
    data = {**FIELDS, "logo": (io.BytesIO(plain), "logo.svg")}
    assert (
        post_form(
            client, "/admin/letterhead/", data, content_type="multipart/form-data"
        ).status_code
        == 302
    )
    _db.session.expire_all()
    assert world.clinic.logo_mime == "image/svg+xml"
    letter = acknowledge_referral(create_referral(world.referrer))
    assert "Harborview Ketamine Clinic" in pdf_text(open_pdf(letter))
