"""No PHI leaks: the whole loop runs with canary values as the patient's name and date of
birth, and they never appear in logs, URLs (paths, query strings, Location headers), error
pages or any email the loop sends."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import clinic_today
from portal.letters.models import Letter
from portal.notifications.models import OutboxMessage
from portal.referrals.models import Referral
from portal.treatment.models import TreatmentSession
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, intake_form, protocol
from tests.notification_helpers import deliver_all

CANARY_FIRST = "Canaryfirstqz"
CANARY_LAST = "Canarylastxv"
CANARY_DOB = "1911-11-11"
CANARIES = (CANARY_FIRST, CANARY_LAST, CANARY_DOB, "11/11/1911", "Nov 11, 1911")


class Recorder:
    """Wraps a test client and keeps every URL asked for and every Location answered."""

    def __init__(self, client, urls: list[str]):
        self.client, self.urls = client, urls

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        self._note(path, response)
        return response

    def post(self, path, data, token_from):
        token = csrf_token(self.client, token_from)
        response = self.client.post(path, data={**data, "csrf_token": token})
        self._note(path, response)
        return response

    def _note(self, path, response):
        self.urls.append(path)
        if response.location:
            self.urls.append(response.location)
        for header, value in response.headers.items():
            if header.lower() in ("location", "content-disposition", "refresh", "link"):
                self.urls.append(value)


def _version(page: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)  # root: werkzeug, the app, SQLAlchemy, everything
    for name in ("werkzeug", "portal", "sqlalchemy", "flask.app"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name in ("werkzeug", "portal", "sqlalchemy", "flask.app"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_canary_phi_never_leaves_the_pages(app, db, world, all_logs, mailbox, jobs):
    urls: list[str] = []
    error_pages: list[str] = []

    referrer = Recorder(app.test_client(), urls)
    login(referrer.client, world.referrer)
    form = intake_form(
        first_name=CANARY_FIRST,
        last_name=CANARY_LAST,
        date_of_birth=CANARY_DOB,
        sex="female",
        reason="Failed two SSRIs.",
    )
    # A form error first: the typed values come back in the form, never in the URL.
    bad = referrer.post("/referrals/new", {**form, "date_of_birth": "not a date"}, "/referrals/new")
    assert bad.status_code == 422
    form["form_key"] = re.search(r'name="form_key" type="hidden" value="([^"]+)"', bad.text).group(
        1
    )
    response = referrer.post("/referrals/new", form, "/referrals/new")
    assert response.status_code == 302
    referral = db.session.scalar(select(Referral))
    assert CANARY_FIRST in referrer.get(response.location).get_data(as_text=True)

    staff = Recorder(app.test_client(), urls)
    login(staff.client, world.coordinator)
    path = f"/referrals/{referral.id}"
    assert CANARY_LAST in staff.get("/triage/").get_data(as_text=True)
    # Searching the queue by name and by date of birth (typed both ways): POSTed, and the
    # queue's URL and every link on it carry only the search's id.
    for term in (f"{CANARY_FIRST} {CANARY_LAST}", CANARY_DOB, "11/11/1911"):
        found = staff.post("/triage/", {"q": term}, "/triage/")
        assert found.status_code == 302
        page = staff.get(found.location).get_data(as_text=True)
        assert f'form="open-{referral.id}"' in page  # a new referral's number opens it
        urls.extend(html.unescape(u) for u in re.findall(r'(?:href|action|src)="([^"]*)"', page))
    staff.post(f"/triage/{referral.id}/open", {"version": _version(staff.get(path).text)}, path)
    # A question, a message each way, the referrer's answer and dashboard search.
    screening = f"/triage/{referral.id}/screening"
    asked = staff.post(
        f"/triage/{referral.id}/decide/needs_info",
        {"version": _version(staff.get(screening).text), "reason": "Doses?", "back": "screening"},
        screening,
    )
    assert asked.status_code == 302
    for side in (referrer, staff):
        sent = side.post(f"{path}/messages", {"body": "About the patient."}, path)
        assert sent.status_code == 302
    answered = referrer.post(
        f"{path}/answer", {"version": _version(referrer.get(path).text), "reason": "50 mg."}, path
    )
    assert answered.status_code == 302
    found = referrer.post("/referrals/", {"q": CANARY_LAST}, "/referrals/")
    assert found.status_code == 200
    assert CANARY_FIRST in found.get_data(as_text=True)
    accept = f"/triage/{referral.id}/accept"
    response = staff.post(
        accept,
        {
            "version": _version(staff.get(accept).text),
            "modality": "iv_ketamine",
            "clinician_id": str(world.clinician.id),
            "planned_sessions": "6",
            "reason": "Welcome.",
        },
        accept,
    )
    assert response.status_code == 302

    # The series booked from a protocol, the day view, and the calendar feed.
    schedule = f"/scheduling/referrals/{referral.id}"
    induction = str(protocol("iv_induction").id)
    db.session.commit()  # the protocols are seeded on first use: let the app see them
    start = (clinic_today() + timedelta(days=7)).isoformat()
    proposal = staff.get(
        f"{schedule}/propose", query_string={"protocol_id": induction, "start": start}
    ).text
    days = re.findall(r'name="day" value="(\d{4}-\d\d-\d\d)"', proposal)
    series = proposal.split('id="propose-h"')[1]
    booked = staff.post(
        f"{schedule}/book",
        {"version": _version(series), "protocol_id": induction, "day": days},
        schedule,
    )
    assert booked.status_code == 302, re.findall(r'class="[^"]*error[^"]*">([^<]+)', booked.text)
    assert CANARY_LAST in staff.get("/scheduling/day", query_string={"date": days[0]}).text
    admin = Recorder(app.test_client(), urls)
    login(admin.client, world.admin)
    settings = admin.post("/scheduling/settings/calendar", {}, "/scheduling/settings").text
    feed_path = re.search(r'class="secret">http://[^/]+(/calendar/[^<]+\.ics)<', settings).group(1)
    feed = Recorder(app.test_client(), urls).get(feed_path).get_data(as_text=True)
    assert "BEGIN:VEVENT" in feed
    for canary in CANARIES:
        assert canary not in feed

    doc = Recorder(app.test_client(), urls)
    login(doc.client, world.clinician)
    session_path = f"/treatment/referrals/{referral.id}/sessions/new"
    for day in ("2026-10-05", "2026-10-07"):
        response = doc.post(
            session_path,
            {
                "version": _version(doc.get(session_path).text),
                "session_date": day,
                "modality": "iv_ketamine",
                "weight_kg": "70",
                "dose_mg_per_kg": "0.5",
                "infusion_minutes": "40",
                "infusion_started_at": "09:00",
                "lot_number": "KET-2211",
                "bp_pre_systolic": "124",
                "bp_pre_diastolic": "80",
                "bp_post_systolic": "142",
                "bp_post_diastolic": "88",
                "notes": "",
                **{f"phq9_{i}": "1" for i in range(1, 10)},
            },
            session_path,
        )
        assert response.status_code == 302
    session_id = db.session.scalar(select(TreatmentSession.id).order_by(TreatmentSession.id))
    session_page = f"/treatment/sessions/{session_id}"
    signed = doc.post(
        f"{session_page}/sign", {"version": _version(doc.get(session_page).text)}, session_page
    )
    assert signed.status_code == 302
    assert "The session is signed" in doc.get(signed.location).text
    response = doc.post(
        f"/treatment/referrals/{referral.id}/complete",
        {"version": _version(doc.get(path).text)},
        path,
    )
    assert response.status_code == 302
    response = doc.post(
        f"/letters/referrals/{referral.id}/new", {"kind": "treatment_summary"}, path
    )
    assert response.status_code == 302
    edit_path = response.location
    saved = doc.post(edit_path, {"narrative": "Good response.", "action": "save"}, edit_path)
    assert saved.status_code == 302
    letter = db.session.scalar(select(Letter).where(Letter.kind == "treatment_summary"))
    signed = doc.post(f"/letters/{letter.id}/sign", {"password": PASSWORD}, edit_path)
    assert signed.status_code == 302
    download = referrer.get(f"/letters/{letter.id}/download")
    assert download.status_code == 200

    # Error pages: not found, another's record, a refused form, a failure in a view.
    other = Recorder(app.test_client(), urls)
    login(other.client, world.other_referrer)
    for response in (
        other.get(path),
        other.get(f"/referrals/patients/{referral.patient_id}"),
        other.get(f"/letters/{letter.id}/download"),
        referrer.client.post("/referrals/new", data=form),  # no CSRF token
        referrer.get("/no/such/page"),
    ):
        assert response.status_code in (400, 404)
        error_pages.append(response.get_data(as_text=True))

    def explode(**kwargs):
        raise RuntimeError("boom")

    app.view_functions["referrals.detail"], saved = explode, app.view_functions["referrals.detail"]
    testing, app.testing = app.testing, False
    try:
        failed = staff.get(path)
    finally:
        app.view_functions["referrals.detail"], app.testing = saved, testing
    assert failed.status_code == 500
    error_pages.append(failed.get_data(as_text=True))

    # Every email the loop caused, delivered by the worker's jobs to a real SMTP server: the
    # canaries are in none of them (headers, sender's name and decoded body).
    jobs.run()
    deliver_all()
    kinds = set(db.session.scalars(select(OutboxMessage.kind)))
    assert {
        "referral_received",
        "new_referral",
        "question",
        "answer",
        "message",
        "accepted",
        "scheduled",
        "safety_alert",
        "course_ended",
        "letter_ready",
    } <= kinds
    assert len(mailbox.received) >= len(kinds)
    for message in mailbox.received:
        headers = " ".join(f"{k}: {v}" for k, v in message.message.items())
        text = f"{headers}\n{message.body}"
        for canary in CANARIES:
            assert canary not in text, f"{canary} in an email: {message.subject}"

    logged = (
        "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in all_logs.records)
        + all_logs.text
    )
    assert len(all_logs.records) > 10  # the logs really were captured
    assert len(urls) > 30
    for canary in CANARIES:
        assert canary not in logged, f"{canary} in logs"
        for url in urls:
            assert canary not in url, f"{canary} in URL {url}"
        for page in error_pages:
            assert canary not in page, f"{canary} on an error page"
