"""Attachment size limits: a file over its own limit is refused in words and nothing typed is
lost; the request cap follows MAX_ATTACHMENT_MB (and MAX_ATTACHMENT_FILES), so only a request
past it gets the "too large" page."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from sqlalchemy import select

from portal.attachments.models import Attachment
from portal.extensions import db
from portal.referrals.models import Referral
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral, intake_form, png_bytes
from tests.test_attachments import KEY_RE, _pdf


@pytest.fixture
def referrer_client(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    return client


def test_25_mb_file_is_refused_on_the_intake_and_the_typing_is_kept(app, world, referrer_client):
    page = referrer_client.get("/referrals/new").get_data(as_text=True)
    key = KEY_RE.search(page).group(1)
    token = csrf_token(referrer_client, "/referrals/new")
    big = b"%PDF-1.4\n" + bytes(25 * 1024 * 1024)
    data = intake_form(form_key=key, first_name="Keepme")
    data["attachments"] = [(io.BytesIO(big), "huge.pdf"), (io.BytesIO(_pdf()), "ok.pdf")]
    response = referrer_client.post(
        "/referrals/new", data={**data, "csrf_token": token}, content_type="multipart/form-data"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "huge.pdf: The file is 25.0 MB; the limit is 20 MB." in page
    assert 'value="Keepme"' in page
    assert "ok.pdf" in page  # the good file was kept with the draft
    referral = db.session.scalar(select(Referral))
    assert referral.state == "draft"  # not sent while a file was refused
    assert [a.filename for a in db.session.scalars(select(Attachment))] == ["ok.pdf"]


def _noise_png(size: int) -> bytes:
    """A real PNG of about `size` bytes (random pixels do not compress)."""
    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_size_limit_follows_the_configured_attachment_limit(
    app, world, referrer_client, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1024 * 1024)  # MAX_ATTACHMENT_MB=1
    page = referrer_client.get("/referrals/new").get_data(as_text=True)
    assert "up to 1 MB each" in page
    key = KEY_RE.search(page).group(1)
    token = csrf_token(referrer_client, "/referrals/new")
    small = _noise_png(512 * 1024)
    assert 400 * 1024 < len(small) < 1024 * 1024
    data = intake_form(form_key=key, first_name="Keepme", reason="Typed before the upload")
    data["attachments"] = [
        (io.BytesIO(b"%PDF-1.4\n" + bytes(1536 * 1024)), "big.pdf"),
        (io.BytesIO(small), "small.png"),
    ]
    response = referrer_client.post(
        "/referrals/new", data={**data, "csrf_token": token}, content_type="multipart/form-data"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # the form again, not the "too large" page
    assert "big.pdf: The file is 1.5 MB; the limit is 1 MB." in page
    assert 'value="Keepme"' in page
    assert "Typed before the upload" in page
    assert "small.png" in page
    assert [a.filename for a in db.session.scalars(select(Attachment))] == ["small.png"]


def test_a_limit_above_100_mb_is_not_cut_short_by_the_request_cap(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 150 * 1024 * 1024)
    with app.test_request_context(
        "/referrals/new", method="POST", content_type="multipart/form-data; boundary=x"
    ):
        from flask import request

        files = app.config["MAX_ATTACHMENT_FILES"] * 150 * 1024 * 1024
        assert request.max_content_length > files  # room for every file and the form


def test_an_upload_over_the_request_limit_gets_a_friendly_page(
    app, world, referrer_client, monkeypatch
):
    referral = create_referral(world.referrer)
    db.session.commit()
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1024 * 1024)
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_FILES", 2)
    # past two files and the form's room: refused by its length, before reading it
    response = referrer_client.post(
        f"/referrals/{referral.id}/attachments",
        data={"attachments": (io.BytesIO(bytes(7 * 1024 * 1024)), "huge.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "each file may be up to 1 MB, and at most 2 files can be sent at once" in page
    assert "Traceback" not in page


def test_more_files_than_the_form_takes_are_refused_by_name(
    app, world, referrer_client, monkeypatch
):
    referral = create_referral(world.referrer)
    db.session.commit()
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_FILES", 2)
    token = csrf_token(referrer_client, f"/referrals/{referral.id}")
    page = referrer_client.post(
        f"/referrals/{referral.id}/attachments",
        data={
            "csrf_token": token,
            "attachments": [(io.BytesIO(png_bytes()), f"scan{n}.png") for n in range(3)],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "2 files attached." in page
    assert "At most 2 files can be attached at once; attach this one again." in page
    assert len(list(db.session.scalars(select(Attachment)))) == 2


def test_pages_without_files_take_only_a_forms_worth(app, world, monkeypatch):
    """Sign-in takes no file: a 6 MB body is refused by its length (413) before it is read,
    while the intake's cap still follows the attachment settings."""
    anonymous = app.test_client()
    response = anonymous.post(
        "/login",
        data={"email": "a@example.org", "blob": (io.BytesIO(bytes(6 * 1024 * 1024)), "x.bin")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)
    multipart = "multipart/form-data; boundary=x"
    for path, large in (("/login", False), ("/referrals/new", True)):
        with app.test_request_context(path, method="POST", content_type=multipart):
            from flask import request

            files = app.config["MAX_ATTACHMENT_FILES"] * app.config["MAX_ATTACHMENT_BYTES"]
            assert (request.max_content_length > files) is large
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    with app.test_request_context("/referrals/new", method="POST"):
        from flask import request

        assert request.max_content_length == 1024  # an operator's explicit cap wins
