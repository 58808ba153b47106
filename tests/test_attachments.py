"""Attachments: judged by content, PDFs without active content, size limits that lose
nothing, stored outside static/ under random names, served only to who may see them."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from sqlalchemy import select

from portal.attachments.models import Attachment
from portal.extensions import db
from tests.conftest import csrf_token, force_login
from tests.factories import create_referral, intake_form, png_bytes

KEY_RE = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')
OPEN_ACTIONS = {
    "/JavaScript": {NameObject("/JS"): TextStringObject("app.alert(1)")},
    "/Launch": {NameObject("/F"): TextStringObject("calc.exe")},
    "/URI": {NameObject("/URI"): TextStringObject("https://example.org/")},
}
# Each refusal in its own words (portal/attachments/checks.py REASONS).
SAYS_JAVASCRIPT = "The PDF contains JavaScript (a script that runs inside the document)"
SAYS_OPEN_ACTION = "starts an action by itself when it is opened (an automatic open action)"
SAYS_EMBEDDED = "The PDF has other files embedded in it"
SAYS_ACTION = "a link or button that launches a program or sends data"
SAYS_ANY = (SAYS_JAVASCRIPT, SAYS_OPEN_ACTION, SAYS_EMBEDDED, SAYS_ACTION)


def _pdf(*, js=False, encrypt=False, embed=False, open_action=None, escape=False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if js:  # a document-level script in the /Names /JavaScript tree
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hi');"),
            }
        )
        tree = DictionaryObject(
            {
                NameObject("/Names"): ArrayObject(
                    [TextStringObject("hi"), writer._add_object(action)]
                )
            }
        )
        writer._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): writer._add_object(tree)}
        )
    if embed:
        writer.add_attachment("notes.txt", b"hidden payload")
    if open_action:  # an action the reader runs by itself on opening the file
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject(open_action)} | OPEN_ACTIONS[open_action]
        )
    if encrypt:
        writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if escape:  # names written with #-escapes that a byte search would miss
        data = data.replace(b"/OpenAction", b"/Open#41ction")
    return data


def _pdf_with_annotation(action: dict, *, widget_aa: bool = False, escape: bool = False) -> bytes:
    """A page with a link (or form widget) annotation carrying `action`."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    action_dict = DictionaryObject({NameObject(k): v for k, v in action.items()})
    annot = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget" if widget_aa else "/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (10, 10, 100, 40)]),
        }
    )
    if widget_aa:
        annot[NameObject("/AA")] = DictionaryObject({NameObject("/E"): action_dict})
    else:
        annot[NameObject("/A")] = action_dict
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annot)])
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if escape:  # names written with #-escapes that a byte search would miss
        data = data.replace(b"/JavaScript", b"/Java#53cript").replace(b"/JS ", b"/J#53 ")
    return data


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def referrer_client(app, world):
    client = app.test_client()
    force_login(client, world.referrer)
    return client


def _upload(client, referral_id: int, name: str, data: bytes):
    token = csrf_token(client, f"/referrals/{referral_id}")
    return client.post(
        f"/referrals/{referral_id}/attachments",
        data={"csrf_token": token, "attachments": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    ("name", "data", "stored_as"),
    [
        ("records.pdf", _pdf(), "records.pdf"),
        ("scan.png", png_bytes(), "scan.png"),
        ("photo.jpeg", _jpeg(), "photo.jpg"),
        ("mislabelled.png", _pdf(), "mislabelled.pdf"),  # the content decides
        (  # an ordinary web link is fine
            "linked.pdf",
            _pdf_with_annotation(
                {"/S": NameObject("/URI"), "/URI": TextStringObject("https://example.org/")}
            ),
            "linked.pdf",
        ),
    ],
)
def test_pdf_png_jpeg_are_accepted_by_content(app, world, referrer_client, name, data, stored_as):
    referral = create_referral(world.referrer)
    db.session.commit()
    page = _upload(referrer_client, referral.id, name, data).get_data(as_text=True)
    assert "1 file attached." in page
    attachment = db.session.scalar(select(Attachment))
    assert attachment.filename == stored_as
    kept = storage_read(attachment.storage_name)
    assert attachment.sha256 == hashlib.sha256(kept).hexdigest()
    if stored_as.endswith(".pdf"):
        assert kept == data  # a PDF is kept as it came
    else:  # an image is kept re-encoded from its pixels
        assert Image.open(io.BytesIO(kept)).size == Image.open(io.BytesIO(data)).size
    stored = Path(app.config["ATTACHMENT_DIR"]) / attachment.storage_name
    assert stored.read_bytes() != data  # encrypted at rest
    assert "static" not in str(stored.resolve().relative_to(Path(app.config["ATTACHMENT_DIR"])))
    assert re.fullmatch(r"[0-9a-f]{64}", attachment.storage_name)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("records.pdf", b"MZ\x90\x00\x03" + bytes(2000), "is not a PDF, PNG or JPEG"),
        ("tool.pdf", b"\x7fELF\x02\x01\x01" + bytes(500), "is not a PDF, PNG or JPEG"),
        ("script.pdf", _pdf(js=True), SAYS_JAVASCRIPT),
        ("auto.pdf", _pdf(open_action="/JavaScript"), SAYS_JAVASCRIPT),
        ("launch.pdf", _pdf(open_action="/Launch"), SAYS_OPEN_ACTION),
        ("open-link.pdf", _pdf(open_action="/URI"), SAYS_OPEN_ACTION),
        # only the parsed /OpenAction key gives this one away: no byte search would
        ("hidden-open.pdf", _pdf(open_action="/URI", escape=True), SAYS_OPEN_ACTION),
        ("bundle.pdf", _pdf(embed=True), SAYS_EMBEDDED),
        ("locked.pdf", _pdf(encrypt=True), "password-protected or encrypted"),
        ("broken.pdf", b"%PDF-1.7\nthis is not really a pdf", "damaged"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "damaged or incomplete"),
        ("empty.pdf", b"", "empty"),
        (  # an executable with a PDF header further in is still an executable
            "polyglot.pdf",
            b"MZ\x90\x00" + bytes(100) + _pdf(),
            "is not a PDF, PNG or JPEG",
        ),
        (
            "widget.pdf",
            _pdf_with_annotation(
                {"/S": NameObject("/JavaScript"), "/JS": TextStringObject("app.alert(1)")},
                widget_aa=True,
                escape=True,
            ),
            SAYS_JAVASCRIPT,
        ),
        (
            "chained.pdf",
            _pdf_with_annotation(
                {
                    "/S": NameObject("/URI"),
                    "/URI": TextStringObject("https://example.org/"),
                    "/Next": DictionaryObject(
                        {
                            NameObject("/S"): NameObject("/JavaScript"),
                            NameObject("/JS"): TextStringObject("app.alert(2)"),
                        }
                    ),
                }
            ),
            SAYS_JAVASCRIPT,
        ),
        (
            "submit.pdf",
            _pdf_with_annotation(
                {"/S": NameObject("/SubmitForm"), "/F": TextStringObject("https://evil.test/")}
            ),
            SAYS_ACTION,
        ),
    ],
)
def test_refusals_say_why_and_store_nothing(world, referrer_client, name, data, reason):
    referral = create_referral(world.referrer)
    db.session.commit()
    page = _upload(referrer_client, referral.id, name, data).get_data(as_text=True)
    assert reason in page
    assert [says for says in SAYS_ANY if says in page] in ([], [reason])  # one reason, its own
    assert db.session.scalar(select(Attachment)) is None


def test_download_is_an_attachment_only_for_who_may_see_it(app, world, referrer_client):
    referral = create_referral(world.referrer)
    db.session.commit()
    _upload(referrer_client, referral.id, "records.pdf", _pdf())
    attachment = db.session.scalar(select(Attachment))
    url = f"/attachments/{attachment.id}"
    for user in (world.referrer, world.colleague, world.coordinator, world.clinician):
        client = app.test_client()
        force_login(client, user)
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == 'attachment; filename="records.pdf"'
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
    for user in (world.other_referrer, world.other_staff):
        client = app.test_client()
        force_login(client, user)
        assert client.get(url).status_code == 404
        assert client.get(f"/attachments/{attachment.id + 999}").status_code == 404
        token = csrf_token(client, "/")
        upload = client.post(
            f"/referrals/{referral.id}/attachments",
            data={"csrf_token": token, "attachments": (io.BytesIO(_pdf()), "x.pdf")},
            content_type="multipart/form-data",
        )
        assert upload.status_code == 404
    colleague = app.test_client()
    force_login(colleague, world.colleague)  # sees the referral, but may not change it
    token = csrf_token(colleague, "/")
    assert (
        colleague.post(
            f"/referrals/{referral.id}/attachments",
            data={"csrf_token": token, "attachments": (io.BytesIO(_pdf()), "x.pdf")},
            content_type="multipart/form-data",
        ).status_code
        == 404
    )


def test_a_file_attached_by_mistake_leaves_the_draft_with_the_typing_kept(
    app, world, referrer_client
):
    page = referrer_client.get("/referrals/new").get_data(as_text=True)
    key = KEY_RE.search(page).group(1)
    token = csrf_token(referrer_client, "/referrals/new")
    data = intake_form(form_key=key, action="save", first_name="Wrongfile")
    data["attachments"] = [(io.BytesIO(_pdf()), "other-patient.pdf")]
    referrer_client.post(
        "/referrals/new", data={**data, "csrf_token": token}, content_type="multipart/form-data"
    )
    attachment = db.session.scalar(select(Attachment))
    stored = Path(app.config["ATTACHMENT_DIR"]) / attachment.storage_name
    draft_id = attachment.referral_id
    url = f"/referrals/{draft_id}/attachments/{attachment.id}/remove"
    other = app.test_client()
    force_login(other, world.other_referrer)
    assert other.post(url, data={"csrf_token": csrf_token(other, "/")}).status_code == 404
    response = referrer_client.post(
        url, data={**intake_form(first_name="Typed since"), "csrf_token": token}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Attachment)) is None
    assert not stored.exists()
    page = referrer_client.get(f"/referrals/{draft_id}/edit").get_data(as_text=True)
    assert 'value="Typed since"' in page
    assert "other-patient.pdf" not in page


def test_files_of_a_sent_referral_stay(app, world, referrer_client):
    referral = create_referral(world.referrer)
    db.session.commit()
    _upload(referrer_client, referral.id, "records.pdf", _pdf())
    attachment = db.session.scalar(select(Attachment))
    token = csrf_token(referrer_client, f"/referrals/{referral.id}")
    page = referrer_client.post(
        f"/referrals/{referral.id}/attachments/{attachment.id}/remove",
        data={"csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "part of its record and stay" in page
    assert db.session.scalar(select(Attachment)) is not None


def test_files_are_encrypted_at_rest_and_rotate_with_the_key(app, world, monkeypatch):
    from cryptography.fernet import Fernet

    from portal.crypto import decrypt

    referral = create_referral(world.referrer)
    data = _pdf()
    attachment = stored_attachment_bytes(referral, world.referrer, data)
    db.session.commit()
    path = Path(app.config["ATTACHMENT_DIR"]) / attachment.storage_name
    before = path.read_bytes()
    assert not before.startswith(b"%PDF")  # ciphertext on disk
    assert b"/Type" not in before
    old, new = app.config["PORTAL_DATA_KEYS"], Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", Fernet.generate_key().decode())
    failed = app.test_cli_runner().invoke(args=["keys", "rotate"])  # without the old key
    assert failed.exit_code == 1
    assert path.read_bytes() == before  # nothing changed
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 attachment files" in result.output
    monkeypatch.setitem(app.config, "PORTAL_DATA_KEYS", new)  # the old key can go
    assert decrypt(path.read_bytes()) == data
    client = app.test_client()
    force_login(client, world.referrer)
    assert client.get(f"/attachments/{attachment.id}").data == data


def storage_read(name: str) -> bytes:
    from portal.attachments import storage

    return storage.read(name)


def stored_attachment_bytes(referral, user, data):
    from tests.factories import stored_attachment

    return stored_attachment(referral, user, data)
