"""The load test's users (Locust). Run by bench/load/run.py; by hand:

    .venv/bin/locust -f bench/load/locustfile.py --headless -H http://127.0.0.1:PORT \
        -u 250 -r 10 -t 45s ReferrerUser CoordinatorUser

Each user signs in once through the real pages (password, then the authenticator code for
staff), then clicks: every request is one click followed by a think time of 4-12 s (8 s on
average), except a redirect's target, fetched at once as a browser would. What a click does
is the next step of a journey picked by weight (a journey is a generator: one step a click).

Every user comes from its own address (X-Forwarded-For, behind one proxy hop as the portal's
PROXY_HOPS=1 says), as people do: the sign-in rate limits count per address.

Environment (set by run.py): LOAD_OUT, a folder where each accepted referral submit appends
its referral id to submitted.txt (the no-lost-write check) and where verify_codes.txt lists
signed letters' codes for the anonymous verification page.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from datetime import date, timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import gevent
import pyotp
from locust import FastHttpUser, between, task

PASSWORD = "bench-password-not-secret"  # noqa: S105 - the seed's throwaway accounts
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - throwaway authenticator
CLINICS, PROVIDERS = 50, 1_000
COORDINATOR_BASE, CLINICIAN_BASE = 5_000, 6_000
OUT = Path(os.environ.get("LOAD_OUT", "load-out"))


def _small_pdf() -> bytes:
    """A one-page blank PDF (about 400 bytes), as a scanned letter would be, only smaller."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), BytesIO()
    writer.add_blank_page(612, 792)
    writer.write(buffer)
    return buffer.getvalue()


PDF = _small_pdf()
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
FORM_KEY = re.compile(r'name="form_key" type="hidden" value="([^"]+)"')
DETAIL = re.compile(r'href="/referrals/(\d+)"')
OPEN_FORM = re.compile(r'id="open-(\d+)"[^>]*>\s*<input[^>]*><input[^>]*value="(\d+)"')
COURSE = re.compile(r'href="/treatment/referrals/(\d+)/course"')
REFERRAL_AT = re.compile(r"/referrals/(\d+)(?:$|[?#])")
LETTER_EDIT = re.compile(r"/letters/(\d+)/edit")
_numbers = itertools.count(1)
_signed_in = itertools.count(1)
# Staff accounts in turn, one counter per role: numbered from the users of every class, two
# coordinators of one run shared a clinic's account (and its one-time codes) while other
# clinics had none, and the second, refused the code already used, could end signed out.
_staff = {"coordinator": itertools.count(0), "clinician": itertools.count(0)}
_intake: dict[str, str] | None = None


# The production cookie is Secure (__Host-); the load test speaks plain HTTP to 127.0.0.1 with
# X-Forwarded-Proto: https, so the cookie must travel anyway. geventhttpclient (2.6) gives each
# request the type of its URL's scheme ("http"), which undoes locust's CompatRequest.type =
# "https", and its cookie jar would keep the cookie to itself: the policy is changed for this
# process (as it was for python-requests).
DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True


def intake() -> dict[str, str]:
    """A complete intake as the browser posts it (the test suite's factory)."""
    global _intake
    if _intake is None:
        from tests.factories.referrals import intake_form

        _intake = intake_form()
    return dict(_intake)


def token(page: str) -> str:
    found = CSRF.search(page)
    return found.group(1) if found else ""


class PortalUser(FastHttpUser):
    """geventhttpclient, not python-requests: a few times less of the driver's CPU per request
    on the cores the portal runs on. Its differences from HttpUser that matter here: no
    session-wide headers (each request passes self.headers); response.url is the URL of the
    redirects' last hop, and with catch_response the response has no history."""

    abstract = True
    wait_time = between(4, 12)
    # python-requests waited for an answer without a limit; FastHttpUser gives up after 60 s,
    # and a sign-in given up on leaves its user signed out for the whole run (every page then
    # lands on the sign-in page). An overloaded server's queue of sign-ins (argon2 each) can
    # take longer: wait as long as the run's sign-in allowance (run.py) instead.
    network_timeout = 300.0
    connection_timeout = 300.0
    journeys: dict[str, int] = {}

    def on_start(self) -> None:
        self.number = next(_numbers)
        address = f"10.{self.number // 65536 % 256}.{self.number // 256 % 256}.{self.number % 256}"
        # Over "HTTPS" Flask-WTF wants a Referer of the same origin on every form post.
        self.headers = {
            "X-Forwarded-For": address,
            "X-Forwarded-Proto": "https",
            "Referer": "https://" + self.host.split("://", 1)[1].rstrip("/") + "/",
        }
        self.journey = None
        self.sign_in()
        self.measure_once_all_signed_in()

    def measure_once_all_signed_in(self) -> None:
        """Sign-ins are not the load being measured: once every user has signed in, the
        statistics start afresh and the run ends LOAD_SECONDS later (run.py sets it)."""
        runner = self.environment.runner
        if next(_signed_in) != runner.target_user_count:
            return
        runner.stats.reset_all()
        (OUT / "measuring").write_text("")  # run.py takes its CPU readings from here
        seconds = float(os.environ.get("LOAD_SECONDS", "0"))
        if seconds:
            gevent.spawn_later(seconds, runner.quit)

    def sign_in(self) -> None:
        pass

    def password_step(self, email: str) -> None:
        page = self.client.get("/login", name="sign-in", headers=self.headers).text or ""
        data = {"email": email, "password": PASSWORD, "csrf_token": token(page)}
        with self.client.post(
            "/login",
            data=data,
            name="sign-in",
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"password step answered {response.status_code}")

    def code_step(self) -> None:
        """The authenticator's code. A code works once per account: when another user of the
        same account (or an earlier step) took this 30 s step's, wait for the next one."""
        for attempt in range(3):
            page = self.client.get("/two-step/code", name="sign-in", headers=self.headers).text
            data = {"code": pyotp.TOTP(TOTP_SECRET).now(), "csrf_token": token(page or "")}
            with self.client.post(
                "/two-step/code",
                data=data,
                name="sign-in",
                headers=self.headers,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code == 302:
                    return
                if response.status_code == 422 and attempt < 2:
                    response.success()  # the code was used: not the portal's failure
                else:
                    response.failure(f"code step answered {response.status_code}")
                    return
            time.sleep(30.5 - time.time() % 30)

    @task
    def click(self) -> None:
        for _attempt in range(3):  # a journey with nothing to do gives way to another
            if self.journey is None:
                names = list(self.journeys)
                chosen = random.choices(names, [self.journeys[n] for n in names])[0]
                self.journey = getattr(self, chosen)()
            try:
                next(self.journey)
                return
            except StopIteration:
                self.journey = None

    def get(self, path: str, name: str):
        """A page; landing on the sign-in page instead (signed out) is a failure."""
        with self.client.get(
            path, name=name, headers=self.headers, catch_response=True
        ) as response:
            # Sent to the sign-in page (no page of a journey is the sign-in page itself).
            if (response.url or "").split("?")[0].endswith("/login"):
                response.failure(f"{name}: sent to the sign-in page")
        return response

    def text(self, path: str, name: str) -> str:
        return self.get(path, name).text or ""

    def post(self, path: str, data: dict, name: str, expect: int = 302, files=None):
        """A form post that must redirect (the portal's success); the target is fetched at
        once, as a browser does. Returns the Location or None."""
        with self.client.post(
            path,
            data=data,
            files=files,
            name=name,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{name} answered {response.status_code}")
                return None
            location = response.headers.get("Location", "")
        if location:
            self.get(location, f"{name} -> next page")
        return location


class ReferrerUser(PortalUser):
    """A referring provider: dashboard, a referral's page, a new referral with a small PDF,
    an answer to the clinic's question."""

    weight = 40
    journeys = {"browse": 6, "submit": 2, "answer": 1}

    def sign_in(self) -> None:
        self.provider = 2 + (self.number * 7) % PROVIDERS
        self.password_step(f"provider{self.provider}@bench.test")

    def browse(self):
        ids = DETAIL.findall(self.text("/referrals/", "referrer: dashboard"))
        yield
        if ids:
            self.get(f"/referrals/{random.choice(ids)}", "referrer: referral page")
            yield

    def submit(self):
        self.get("/referrals/", "referrer: dashboard")
        yield
        page = self.text("/referrals/new", "referrer: new referral form")
        yield
        found = FORM_KEY.search(page)
        if not found:
            return
        data = intake() | {"form_key": found.group(1), "csrf_token": token(page)}
        files = {"attachments": ("letter-from-gp.pdf", PDF, "application/pdf")}
        location = self.post("/referrals/new", data, "referrer: submit referral", files=files)
        referral = REFERRAL_AT.search(location or "")
        if referral:
            with (OUT / "submitted.txt").open("a") as out:
                out.write(referral.group(1) + "\n")
        yield

    def answer(self):
        page = self.text("/referrals/?state=needs_info", "referrer: dashboard (needs answer)")
        yield
        ids = DETAIL.findall(page)
        if not ids:
            return
        referral = random.choice(ids)
        page = self.text(f"/referrals/{referral}", "referrer: referral page")
        yield
        version = VERSION.search(page)
        if version:
            data = {"version": version.group(1), "reason": "Sertraline 200 mg for 8 weeks.",
                    "csrf_token": token(page)}  # fmt: skip
            self.post(f"/referrals/{referral}/answer", data, "referrer: answer question")
            yield


class CoordinatorUser(PortalUser):
    """A clinic's coordinator: the queue, open a new referral, accept it with the clinic's
    clinician, then the series' schedule page."""

    weight = 10
    journeys = {"work_queue": 3, "browse_queue": 2}

    def sign_in(self) -> None:
        self.clinic = 1 + next(_staff["coordinator"]) % CLINICS
        self.password_step(f"coordinator{self.clinic}@bench.test")
        self.code_step()

    def browse_queue(self):
        self.get(f"/triage/?page={random.randint(1, 20)}", "coordinator: queue page n")
        yield

    def work_queue(self):
        page = self.text("/triage/?state=submitted", "coordinator: queue")
        yield
        rows = OPEN_FORM.findall(page)
        if not rows:
            return
        referral, version = random.choice(rows)
        data = {"version": version, "csrf_token": token(page)}
        if not self.post(f"/triage/{referral}/open", data, "coordinator: open referral"):
            return
        yield
        page = self.text(f"/triage/{referral}/accept", "coordinator: accept form")
        yield
        version = VERSION.search(page)
        if not version:
            return
        data = {
            "version": version.group(1),
            "modality": "iv_ketamine",
            "clinician_id": str(CLINICIAN_BASE + self.clinic),
            "planned_sessions": "6",
            "protocol_id": "0",
            "reason": "Welcome; we will call the patient.",
            "csrf_token": token(page),
        }
        self.post(f"/triage/{referral}/accept", data, "coordinator: accept (-> schedule)")
        yield


class ClinicianUser(PortalUser):
    """A clinic's clinician: the courses, document a session (with a PHQ-9), then write and
    sign an interim letter (the password asked again)."""

    weight = 2
    journeys = {"document_and_sign": 1}

    def sign_in(self) -> None:
        self.clinic = 1 + next(_staff["clinician"]) % CLINICS
        self.password_step(f"clinician{self.clinic}@bench.test")
        self.code_step()

    def document_and_sign(self):
        ids = COURSE.findall(self.text("/treatment/", "clinician: courses"))
        yield
        if not ids:
            return
        referral = random.choice(ids)
        form_path = f"/treatment/referrals/{referral}/sessions/new"
        page = self.text(form_path, "clinician: session form")
        yield
        version = VERSION.search(page)
        if not version:
            return
        data = {
            "version": version.group(1),
            # Yesterday: the clinic's today may still be this machine's yesterday (UTC), and a
            # session dated after the clinic's now is refused ("before it happens").
            "session_date": (date.today() - timedelta(days=1)).isoformat(),
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
            "phq9_9": "0",
            "csrf_token": token(page),
        }
        if not self.post(form_path, data, "clinician: document session"):
            return
        yield
        course_page = self.text(f"/referrals/{referral}", "clinician: referral page")
        yield
        data = {"kind": "interim", "csrf_token": token(course_page)}
        location = self.post(f"/letters/referrals/{referral}/new", data, "clinician: new letter")
        letter = LETTER_EDIT.search(location or "")
        if not letter:
            return
        yield
        page = self.text(f"/letters/{letter.group(1)}/edit", "clinician: letter edit")
        data = {"password": PASSWORD, "csrf_token": token(page)}
        self.post(f"/letters/{letter.group(1)}/sign", data, "clinician: sign letter")
        yield


class VerifierUser(PortalUser):
    """Anyone holding a letter: the public verification page, no sign-in."""

    weight = 2
    journeys = {"verify": 1}

    def sign_in(self) -> None:
        path = OUT / "verify_codes.txt"
        self.codes = path.read_text().split() if path.exists() else []

    def verify(self):
        code = random.choice(self.codes) if self.codes else "ABCDE-FGHJK"
        with self.client.get(
            f"/verify/{code}",
            name="public: verify letter",
            headers=self.headers,
            catch_response=True,
        ) as response:
            if response.status_code == 404 and not self.codes:
                response.success()  # no letters to verify yet: the "unknown code" page
        yield
