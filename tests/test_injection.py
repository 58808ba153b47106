"""Attacks that broke open-source EHRs: SQL metacharacters in search, filter and sort
parameters (ORDER BY injection), stored XSS in pages and print views, a PDF generator that
reads local files."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.letters.pdf import StaticOnlyFetcher
from portal.letters.service import render_letter
from portal.referrals.models import Referral
from tests.conftest import force_login
from tests.factories import accepted_referral, create_referral, document_sessions, draft_letter

PAYLOADS = [
    "' OR '1'='1",
    "1; DROP TABLE referral; --",
    "submitted' UNION SELECT password_hash FROM user_account --",
    "id DESC, (SELECT CASE WHEN 1=1 THEN 1 ELSE 1/0 END)",
    "referral.created_at; DELETE FROM referral",
    '"; --',
    "\\",
    "%_%",
    "\x00",
    "9" * 40,
]
# Every search, filter and sort parameter that exists: (endpoint path, parameter, who).
# Add new ones here. The queue's search term itself is POSTed (test below); its URL carries
# only the id of the kept search.
PARAMETERS = [
    ("/triage/", "state", "coordinator"),
    ("/triage/", "search", "coordinator"),
    ("/triage/", "provider", "coordinator"),
    ("/triage/", "sort", "coordinator"),
    ("/triage/", "dir", "coordinator"),
    ("/triage/", "page", "coordinator"),
    ("/admin/audit", "user", "admin"),
    ("/admin/audit", "action", "admin"),
    ("/admin/audit", "object_type", "admin"),
    ("/admin/audit", "object_id", "admin"),
    ("/admin/audit", "date_from", "admin"),
    ("/admin/audit", "date_to", "admin"),
    ("/admin/audit.csv", "user", "admin"),
    ("/admin/audit.csv", "object_id", "admin"),
    ("/login", "next", "anonymous"),
]


@pytest.fixture
def referral(world):
    r = create_referral(world.referrer)
    db.session.commit()
    return r


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(("path", "param", "who"), PARAMETERS)
def test_sql_metacharacters_in_parameters(app, world, referral, path, param, who, payload):
    client = app.test_client()
    if who != "anonymous":
        force_login(client, getattr(world, who))
    response = client.get(path, query_string={param: payload})
    assert_harmless(response, payload, (200, 302))


def assert_harmless(response, payload: str, statuses: tuple[int, ...]) -> None:
    """The payload was an answer like any other: an expected status (400 for a NUL byte), no
    internals or secrets on the page, and no row gone."""
    assert response.status_code in ((400,) if "\x00" in payload else statuses)
    page = response.get_data(as_text=True)
    assert "Traceback" not in page
    assert "$argon2" not in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Referral.id))) == 1
    assert db.session.scalar(select(func.count(User.id))) == 8


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sql_metacharacters_in_the_queue_search(app, world, referral, payload):
    """The search box POSTs the term; the queue then runs it from the session."""
    from tests.conftest import csrf_token

    client = app.test_client()
    force_login(client, world.coordinator)
    posted = client.post(
        "/triage/", data={"q": payload, "csrf_token": csrf_token(client, "/triage/")}
    )
    if "\x00" in payload:
        assert posted.status_code == 400
        return
    assert posted.status_code == 302
    assert payload not in posted.location
    response = client.get(posted.location)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Traceback" not in page
    assert "$argon2" not in page
    assert "No referral matches these filters" in page  # nothing matched, nothing broke
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Referral.id))) == 1
    assert db.session.scalar(select(func.count(User.id))) == 8


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sql_metacharacters_in_the_sign_in_lookup(app, world, payload):
    client = app.test_client()
    from tests.conftest import csrf_token

    response = client.post(
        "/login",
        data={"email": payload, "password": payload or "x", "csrf_token": csrf_token(client)},
    )
    if "\x00" in payload:
        assert response.status_code == 400
        assert "could not be completed" in response.get_data(as_text=True)
    else:
        assert response.status_code == 200
        assert "do not match an active account" in response.get_data(as_text=True)


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
LOCAL_FILE = '<img src="file:///etc/passwd"><link rel="stylesheet" href="file:///etc/hostname">'


def test_stored_xss_is_shown_as_text_on_every_page(app, world):
    referral = accepted_referral(
        world.referrer,
        world.coordinator,
        world.clinician,
        first_name=XSS,
        reason=XSS,
    )
    db.session.commit()
    pages = []
    for who, path in (
        ("referrer", f"/referrals/{referral.id}"),
        ("referrer", "/referrals/"),
        ("coordinator", "/triage/"),
        ("coordinator", f"/referrals/patients/{referral.patient_id}"),
        ("clinician", "/treatment/"),
    ):
        client = app.test_client()
        force_login(client, getattr(world, who))
        pages.append(client.get(path).get_data(as_text=True))
    for page in pages:
        assert "<script>alert" not in page
        assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;" in pages[0]


def test_print_view_escapes_and_never_fetches_local_files(app, world):
    referral = accepted_referral(
        world.referrer, world.coordinator, world.clinician, first_name=XSS, reason=LOCAL_FILE
    )
    document_sessions(referral, world.clinician, 1)
    db.session.commit()
    with app.test_request_context():
        letter = draft_letter(referral, world.clinician)
        letter.narrative = LOCAL_FILE + XSS
        rendered = render_letter(letter)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(rendered.data)).pages)
    assert "root:x:0:0" not in text
    assert "file:///etc/passwd" in text  # printed as the text it is, not fetched
    assert "<script>" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:6379/",
        "https://portal.invalid/static/../../../../etc/passwd",
        "https://portal.invalid/static/%2e%2e/%2e%2e/config.py",
        "data:text/plain,hello",
    ],
)
def test_the_pdf_fetcher_refuses_anything_but_static_files(app, url):
    from portal.letters.pdf import LetterRenderError

    fetcher = StaticOnlyFetcher(app.static_folder)
    with pytest.raises(LetterRenderError):
        fetcher.fetch(url)
    assert fetcher.fetch("https://portal.invalid/static/css/portal.css")


def test_audit_viewer_filters_never_reach_sql_as_text(app, world):
    client = app.test_client()
    force_login(client, world.admin)
    page = client.get("/admin/audit", query_string={"user": "' OR 1=1 --"}).get_data(as_text=True)
    assert "No events match these filters." in page
    assert db.session.scalar(select(func.count(AuditEvent.id))) > 0
