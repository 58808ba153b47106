"""Safe rendering: markup typed into any free-text field that reaches a letter is printed as
text; nothing is fetched but the portal's own static files."""

from __future__ import annotations

import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from portal.extensions import db as _db
from portal.letters.models import ACCEPTANCE, ACKNOWLEDGEMENT, DECLINE, INTERIM, SUMMARY, Letter
from portal.letters.pdf import STATIC_BASE, LetterRenderError, StaticOnlyFetcher
from portal.letters.service import render_letter
from tests.factories import accepted_referral, document_sessions
from tests.letter_helpers import flat, pdf_text


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A local HTTP server that records every request it gets."""
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Recorder.hits
    server.shutdown()
    server.server_close()


def _payload(port: int, field: str) -> str:
    """The issue's markup plus a stylesheet on our listener; short enough for a 200-character
    column (and, without the listener's link, for a 100-character patient name)."""
    short = f'{field}<img src="file:///etc/passwd"><link href="http://127.0.0.1:1/">'
    if field == "PATIENTNAME":
        return f"{short}<script>x</script>"
    return f'{short}<link rel=stylesheet href="http://127.0.0.1:{port}/{field}"><script>x</script>'


def test_markup_in_every_free_text_field_is_printed_and_never_fetched(
    app, world, listener, monkeypatch
):
    port, hits = listener
    fetched: list[str] = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    p = lambda name: _payload(port, name)  # noqa: E731
    world.clinic.name = p("CLINICNAME")
    world.clinic.address_line1 = p("CLINICADDRESS")
    world.referrer.full_name = p("REFERRERNAME")
    world.referrer.address_line1 = p("REFERRERADDRESS")
    world.practice.name = p("PRACTICENAME")
    world.clinician.full_name = p("CLINICIANNAME")
    referral = accepted_referral(
        world.referrer,
        world.coordinator,
        world.clinician,
        reason=p("REASON"),
        first_name=p("PATIENTNAME"),
    )
    referral.intake = {
        **referral.intake,
        "clinical": {**referral.intake.get("clinical", {}), "psychotherapy": p("INTAKE")},
        "medications": [{"name": p("MEDICATION"), "dose": "", "drug_class": ""}],
    }
    document_sessions(referral, world.clinician, 3, start=date(2026, 1, 5))
    session = referral.course.sessions[0]
    session.notes = p("SESSIONNOTES")
    session.adverse_events = ["other"]
    session.adverse_event_other = p("ADVERSEOTHER")
    referral.course.end_reason = p("ENDREASON")
    _db.session.flush()
    fields = {
        ACKNOWLEDGEMENT: ["REASON", "INTAKE", "MEDICATION"],
        ACCEPTANCE: ["NARRATIVE", "RECOMMENDATIONS"],
        DECLINE: ["NARRATIVE", "RECOMMENDATIONS"],
        INTERIM: ["NARRATIVE", "RECOMMENDATIONS", "SESSIONNOTES", "ADVERSEOTHER"],
        SUMMARY: ["NARRATIVE", "RECOMMENDATIONS", "SESSIONNOTES", "ADVERSEOTHER", "ENDREASON"],
    }
    everywhere = [
        "CLINICNAME",
        "CLINICADDRESS",
        "REFERRERNAME",
        "REFERRERADDRESS",
        "PRACTICENAME",
        "PATIENTNAME",
    ]
    for kind, names in fields.items():
        letter = Letter(
            kind=kind,
            sequence=1,
            version=1,
            status="final",
            narrative=p("NARRATIVE"),
            recommendations=p("RECOMMENDATIONS"),
            signed_by_id=world.clinician.id,
            verify_code="ABCDE-23456",
        )
        letter.referral_id = referral.id
        _db.session.add(letter)
        _db.session.flush()
        rendered = render_letter(letter)
        _db.session.delete(letter)
        _db.session.flush()
        text = flat(pdf_text(rendered.data))
        for name in [*everywhere, *names]:
            # Wrapped lines may break a value anywhere: compare without whitespace.
            assert flat(p(name)) in text, (kind, name)
        if kind in (INTERIM, SUMMARY):
            assert flat(p("CLINICIANNAME")) in text
    _db.session.rollback()
    assert hits == [], "the letter made an HTTP request"
    assert fetched, "the spy saw the static fonts"
    assert all(url.startswith(STATIC_BASE) for url in fetched), fetched


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/",
        "https://example.com/x.css",
        "data:text/plain,hello",
        "data:text/html;base64,PGI+aGk8L2I+",
        "data:image/png,not-base64-encoded",
        "data:image/png;base64,***",
        STATIC_BASE + "../config.py",
        STATIC_BASE + "img/missing.png",
    ],
)
def test_the_fetcher_refuses_everything_but_our_static_files(app, url):
    fetcher = StaticOnlyFetcher(app.static_folder)
    with pytest.raises(LetterRenderError):
        fetcher.fetch(url)
    assert fetcher.fetch(STATIC_BASE + "img/logo.svg") is not None  # our own file is served
